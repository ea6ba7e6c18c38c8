"""Predictors: a loaded model as ``rows -> predictions``, the fastest way that is still exact.

Rows arrive as tuples in signature order, already type-checked by the request model. A
scikit-learn model is called natively (on a float array when that provably predicts the same as
a DataFrame, else on a frame built once per request); other flavors go through pyfunc.

>>> predict = sklearn_predictor(model, served.columns)  # doctest: +SKIP
>>> predict([(12, 70.5)])  # doctest: +SKIP
[0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_common.serving.model import ColumnSpec

__all__ = ["NUMPY_DTYPES", "frame_builder", "pyfunc_predictor", "sklearn_predictor"]

# MLflow signature column type -> the numpy dtype of its column (others stay Python objects).
NUMPY_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}


def frame_builder(columns: list[ColumnSpec], order: list[int] | None = None) -> Callable[..., Any]:
    """rows (tuples in signature order) -> a DataFrame with the signature's column dtypes.

    ``order`` lists the row positions to use as columns, in the frame's column order.
    """
    import numpy as np
    import pandas as pd

    order = list(range(len(columns))) if order is None else order
    names = [columns[index].name for index in order]
    dtypes = [NUMPY_DTYPES.get(columns[index].type) for index in order]

    def frame(rows: list[tuple[Any, ...]]) -> Any:
        data = {}
        for position, name, dtype in zip(order, names, dtypes, strict=True):
            values = [row[position] for row in rows]
            if dtype is not None and None in values:
                dtype = "float64"  # an optional column with a missing value becomes NaN
            data[name] = np.array(values, dtype=dtype) if dtype else values
        return pd.DataFrame(data, columns=names, copy=False)

    return frame


def _fitted_order(model: Any, columns: list[ColumnSpec]) -> list[int]:
    """Row positions in the order the model was fitted with (scikit-learn checks the order)."""
    names = [column.name for column in columns]
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is None or sorted(map(str, fitted)) != sorted(names):
        return list(range(len(names)))
    return [names.index(str(name)) for name in fitted]


def _array_is_safe(model: Any, columns: list[ColumnSpec], order: list[int]) -> bool:
    """Whether ``model`` predicts the same from a plain float array as from a DataFrame.

    Building a one-row DataFrame and letting scikit-learn check its names costs several times
    the prediction itself, so an all-numeric model is called on an array in its fitted column
    order, but only when that is provably the same: no ColumnTransformer (it selects columns by
    name), fitted names equal to the signature's, and a probe row predicting identically.
    """
    import warnings

    import numpy as np

    if not all(column.type in NUMPY_DTYPES for column in columns):
        return False
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is None:
        return True
    if sorted(map(str, fitted)) != sorted(column.name for column in columns):
        return False
    from sklearn.compose import ColumnTransformer

    parts = [model, *getattr(model, "get_params", dict)(deep=True).values()]
    if any(isinstance(part, ColumnTransformer) for part in parts):
        return False
    probe = [tuple(float(index + 1) for index in range(len(columns)))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            by_frame = np.asarray(model.predict(frame_builder(columns, order)(probe)))
            by_array = np.asarray(model.predict(np.array(probe, dtype="float64")[:, order]))
    except Exception:  # the model refuses one path or the other: keep the DataFrame
        return False
    if by_frame.shape != by_array.shape or not np.array_equal(by_frame, by_array):
        return False
    # The array carries no names on purpose; without this every request would warn.
    warnings.filterwarnings(
        "ignore", message="X does not have valid feature names", category=UserWarning
    )
    return True


def sklearn_predictor(model: Any, columns: list[ColumnSpec]) -> Callable[..., list[Any]]:
    """``rows -> predictions`` for a scikit-learn model, on an array when that is exact."""
    import numpy as np

    order = _fitted_order(model, columns)
    if not _array_is_safe(model, columns, order):
        frame = frame_builder(columns, order)

        def predict(rows: list[tuple[Any, ...]]) -> list[Any]:
            return np.asarray(model.predict(frame(rows))).tolist()

        return predict

    identity = order == list(range(len(order)))

    def predict_array(rows: list[tuple[Any, ...]]) -> list[Any]:
        values = np.array(rows, dtype="float64")  # a None (optional column) becomes NaN
        return np.asarray(model.predict(values if identity else values[:, order])).tolist()

    return predict_array


def pyfunc_predictor(model: Any, columns: list[ColumnSpec]) -> Callable[..., list[Any]]:
    """``rows -> predictions`` for any pyfunc model; a one-column frame output becomes a list."""
    import numpy as np
    import pandas as pd

    frame = frame_builder(columns)

    def predict(rows: list[tuple[Any, ...]]) -> list[Any]:
        output = model.predict(frame(rows))
        if isinstance(output, pd.DataFrame):
            if output.shape[1] == 1:
                return output.iloc[:, 0].tolist()
            return output.to_dict(orient="records")
        if isinstance(output, pd.Series):
            return output.tolist()
        return np.asarray(output).tolist()

    return predict
