"""The HTTP service for the model behind a registry alias (FastAPI + uvicorn).

``create_app()`` resolves ``models:/<model_name>@<alias>`` (or an explicit model URI), loads the
model once at startup and validates every request against the model's MLflow signature, so bad
input is an HTTP 422 naming the record and the field, never a 500. Scikit-learn models are called
natively on a frame built once per request (pydantic has already checked the types, so MLflow's
pyfunc schema enforcement would only repeat the work); other flavors go through pyfunc. Each
request's records and predictions append to a JSON-lines log that ``mlops drift`` reads as its
current data.

Endpoints: ``POST /predict`` (``{"records": [{feature: value, ...}, ...]}`` ->
``{"predictions": [...], "model_name", "model_version"}``), ``GET /health`` (process alive),
``GET /ready`` (model loaded, else 503), ``GET /metadata`` (name, version, alias, run id, git
commit, data version and lineage tags, signature).

The clouds' serving contracts are answered by the same handlers, not a second code path: the
body may name the batch ``instances`` instead of ``records`` (Vertex AI, SageMaker's JSON
convention), ``POST /invocations`` and ``GET /ping`` are SageMaker's names for ``/predict`` and
``/ready``, and Vertex AI's ``AIP_PREDICT_ROUTE`` / ``AIP_HEALTH_ROUTE`` add the same two
handlers at the paths it sets.

>>> app = create_app(model_name="churn-model", alias="champion")  # doctest: +SKIP
>>> serve(model_name="churn-model", port=8000)  # doctest: +SKIP
"""

import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common import tags as tag_names
from mlops_common.errors import ConfigError, InputError, RegistryError

__all__ = [
    "MAX_RECORDS",
    "PredictionLog",
    "ServedModel",
    "create_app",
    "load_served_model",
    "serve",
]

MAX_RECORDS = 10_000
# Batches up to this size are predicted on the event loop: a thread hop costs more than the
# prediction itself. Larger ones go to the thread pool so /health keeps answering meanwhile.
_INLINE_MAX_RECORDS = 64
# At most this many validation errors are reported for one request (a 10 000-record batch of
# wrong types would otherwise answer with a megabyte of errors).
_MAX_REPORTED_ERRORS = 20

# MLflow signature column type -> the Python type a JSON value must already have (strict).
_SCHEMA_TYPES: dict[str, type] = {
    "double": float,
    "float": float,
    "long": int,
    "integer": int,
    "string": str,
    "boolean": bool,
}
_NUMPY_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}
# The request's batch key: ours, then the one Vertex AI and SageMaker's JSON convention use.
_BATCH_KEYS = ("records", "instances")
# Paths every service answers; the AIP_* routes are added only when they name another path.
_PREDICT_PATHS = ("/predict", "/invocations")
_READY_PATHS = ("/ready", "/ping")


@dataclass(frozen=True)
class ColumnSpec:
    """One input column of the model signature."""

    name: str
    type: str  # MLflow DataType name: double, float, long, integer, string, boolean
    required: bool = True


@dataclass
class ServedModel:
    """A loaded model with what the service needs to validate, predict and describe it."""

    uri: str
    flavor: str  # "sklearn" (native call) or "pyfunc"
    columns: list[ColumnSpec]
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    run_id: str | None = None
    git_commit: str | None = None
    data_version: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, str] = field(default_factory=dict)
    model_version_tags: dict[str, str] = field(default_factory=dict)
    signature: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None
    predict: Callable[[list[tuple[Any, ...]]], list[Any]] | None = field(
        default=None, repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("predict")
        data["columns"] = [asdict(column) for column in self.columns]
        return data


def _parse_models_uri(uri: str) -> tuple[str | None, str | None, str | None]:
    """``models:/name/3`` -> (name, "3", None); ``models:/name@champion`` -> (name, None, alias)."""
    if not uri.startswith("models:/"):
        return None, None, None
    body = uri[len("models:/") :].strip("/").split("/")[0]
    if "@" in body:
        name, alias = body.split("@", 1)
        return name, None, alias
    parts = uri[len("models:/") :].strip("/").split("/")
    if len(parts) >= 2 and parts[1].isdigit():
        return parts[0], parts[1], None
    return (parts[0] or None), None, None


def _columns_from_signature(signature: Any, uri: str) -> list[ColumnSpec]:
    hint = "log the model with a signature (mlflow.models.infer_signature) and register it again"
    if signature is None or signature.inputs is None:
        raise ConfigError(
            f"{uri}: the model has no signature, so requests cannot be validated; {hint}"
        )
    schema = signature.inputs
    if schema.is_tensor_spec() or not schema.has_input_names():
        raise ConfigError(f"{uri}: the signature is not a list of named columns; {hint}")
    columns = []
    for spec in schema.inputs:
        type_name = getattr(getattr(spec, "type", None), "name", None)
        if type_name not in _SCHEMA_TYPES:
            raise ConfigError(
                f"{uri}: column {spec.name!r} has type {spec.type!s}, which the service cannot "
                f"validate (supported: {', '.join(_SCHEMA_TYPES)}); cast it before logging"
            )
        columns.append(ColumnSpec(spec.name, type_name, bool(getattr(spec, "required", True))))
    return columns


def _lineage_from_tags(tags: dict[str, str]) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """The git commit, the DVC hashes (path -> md5) and every git/DVC tag the run recorded.

    ``mlops_common.tracking`` writes ``mlops.git.commit``, ``mlops.git.dirty`` and
    ``mlops.dvc.<path>``; MLflow itself may add ``mlflow.source.git.commit``. Tags from other
    tools are kept too, as long as their key names git or DVC.
    """
    lineage = {
        key: value
        for key, value in sorted(tags.items())
        if "git" in key.lower() or "dvc" in key.lower()
    }
    commit_keys = [key for key in lineage if "git" in key.lower() and "commit" in key.lower()]
    commit_keys.sort(key=lambda key: (key != tag_names.GIT_COMMIT, key.startswith("mlflow."), key))
    git_commit = lineage[commit_keys[0]] if commit_keys else None
    data_version = {}
    for key, value in lineage.items():
        if "dvc" in key.lower():
            ours = key.startswith(tag_names.PREFIX)
            path = key.split("dvc", 1)[1].lstrip("._:/") if ours else key
            data_version[path or key] = value
    return git_commit, data_version, lineage


def _frame_builder(columns: list[ColumnSpec], order: list[int] | None = None) -> Callable[..., Any]:
    """rows (tuples in signature order) -> a DataFrame with the signature's column dtypes.

    ``order`` lists the row positions to use as columns, in the frame's column order.
    """
    import numpy as np
    import pandas as pd

    order = list(range(len(columns))) if order is None else order
    names = [columns[index].name for index in order]
    dtypes = [_NUMPY_DTYPES.get(columns[index].type) for index in order]

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

    if not all(column.type in _NUMPY_DTYPES for column in columns):
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
            by_frame = np.asarray(model.predict(_frame_builder(columns, order)(probe)))
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


def _sklearn_predictor(model: Any, columns: list[ColumnSpec]) -> Callable[..., list[Any]]:
    import numpy as np

    order = _fitted_order(model, columns)
    if not _array_is_safe(model, columns, order):
        frame = _frame_builder(columns, order)

        def predict(rows: list[tuple[Any, ...]]) -> list[Any]:
            return np.asarray(model.predict(frame(rows))).tolist()

        return predict

    identity = order == list(range(len(order)))

    def predict_array(rows: list[tuple[Any, ...]]) -> list[Any]:
        values = np.array(rows, dtype="float64")  # a None (optional column) becomes NaN
        return np.asarray(model.predict(values if identity else values[:, order])).tolist()

    return predict_array


def _pyfunc_predictor(model: Any, columns: list[ColumnSpec]) -> Callable[..., list[Any]]:
    import numpy as np
    import pandas as pd

    frame = _frame_builder(columns)

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


def load_served_model(
    model_uri: str | None = None,
    *,
    model_name: str | None = None,
    alias: str = "champion",
    tracking_uri: str | None = None,
) -> ServedModel:
    """Resolve, download and load the model, with its signature columns and lineage.

    ``model_uri`` wins; otherwise ``models:/<model_name>@<alias>`` where ``model_name`` defaults
    to the project's ``[tool.mlops] model_name``. Raises ``ConfigError`` for a model without a
    usable signature and ``RegistryError`` when the name, alias or URI does not resolve.

    >>> served = load_served_model(model_name="churn-model")  # doctest: +SKIP
    >>> served.version, [column.name for column in served.columns]  # doctest: +SKIP
    ('3', ['tenure', 'monthly_charges'])
    """
    from mlops_common.config import load_project_config

    config = None
    if tracking_uri is None or (model_uri is None and model_name is None):
        config = load_project_config()
    from mlops_common import store

    if tracking_uri is None:
        tracking_uri = store.resolve_tracking_uri(None, config)
    if model_uri is None:
        model_name = model_name or config.model_name
        model_uri = f"models:/{model_name}@{alias}"
        served_alias: str | None = alias
    else:
        parsed_name, _, served_alias = _parse_models_uri(model_uri)
        model_name = parsed_name or model_name

    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    client = store.client(tracking_uri, probe=False)
    version = None
    run_id = None
    model_version_tags: dict[str, str] = {}
    name_in_uri, version_in_uri, alias_in_uri = _parse_models_uri(model_uri)
    try:
        if name_in_uri and (alias_in_uri or version_in_uri):
            model_version = store.model_version(
                client, name_in_uri, version=version_in_uri, alias=alias_in_uri
            )
            version = str(model_version.version)
            run_id = model_version.run_id or None
            model_version_tags = dict(model_version.tags or {})
            # The storage location of this exact version: a promotion during startup cannot
            # mix two versions, and MLflow's own models:/ resolution would ignore our client's
            # registry URI in favour of the process-wide one.
            download_uri = client.get_model_version_download_uri(name_in_uri, version)
        elif name_in_uri:  # models:/<model_id>, a logged (unregistered) model
            logged = client.get_logged_model(name_in_uri)
            run_id = logged.source_run_id or None
            download_uri = logged.artifact_location
            if model_name == name_in_uri:  # the URI held an id, not a registered name
                model_name = logged.name or model_name
        else:
            download_uri = model_uri
        local_path = mlflow.artifacts.download_artifacts(
            artifact_uri=download_uri,
            tracking_uri=tracking_uri,
            registry_uri=store.resolve_registry_uri(tracking_uri),
        )
    except (MlflowException, RegistryError) as exc:
        reason = exc.message if isinstance(exc, MlflowException) else str(exc)
        raise RegistryError(
            f"{model_uri}: cannot resolve the model at {tracking_uri} ({reason}); check the "
            f"model name and alias with `mlops registry` or pass --model-uri"
        ) from exc
    except OSError as exc:
        raise RegistryError(
            f"{model_uri}: cannot download the model ({exc}); check the tracking URI and "
            f"artifact location"
        ) from exc

    mlmodel_path = Path(local_path) / "MLmodel"
    if not mlmodel_path.is_file():
        raise RegistryError(f"{model_uri}: no MLmodel file at {local_path}; is it an MLflow model?")
    meta = Model.load(str(mlmodel_path))
    columns = _columns_from_signature(meta.signature, model_uri)
    run_id = run_id or meta.run_id or None

    tags: dict[str, str] = {}
    if run_id:
        try:
            tags = dict(client.get_run(run_id).data.tags)
        except MlflowException:
            tags = {}  # the run was deleted or lives in another store: serve without lineage
    git_commit, data_version, lineage = _lineage_from_tags(tags)

    if "sklearn" in meta.flavors:
        import mlflow.sklearn

        predictor = _sklearn_predictor(mlflow.sklearn.load_model(local_path), columns)
        flavor = "sklearn"
    else:
        import mlflow.pyfunc

        predictor = _pyfunc_predictor(mlflow.pyfunc.load_model(local_path), columns)
        flavor = "pyfunc"

    signature = {
        "inputs": meta.signature.inputs.to_dict(),
        "outputs": meta.signature.outputs.to_dict() if meta.signature.outputs else None,
    }
    return ServedModel(
        uri=model_uri,
        flavor=flavor,
        columns=columns,
        name=model_name,
        version=version,
        alias=served_alias,
        run_id=run_id,
        git_commit=git_commit,
        data_version=data_version,
        lineage=lineage,
        model_version_tags=model_version_tags,
        signature=signature,
        tracking_uri=tracking_uri,
        predict=predictor,
    )


class PredictionLog:
    """Thread-safe JSON-lines sink: one line per record, flushed once per request.

    >>> log = PredictionLog("logs/predictions.jsonl")  # doctest: +SKIP
    >>> log.append(["x"], [(1.5,)], [0], model_version="3")  # doctest: +SKIP
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8", buffering=1 << 16)
        except OSError as exc:
            raise ConfigError(
                f"{self.path}: cannot open the prediction log ({exc}); pass another "
                f"--prediction-log or fix the folder's permissions"
            ) from exc
        self._lock = threading.Lock()

    def append(
        self,
        names: list[str],
        rows: list[tuple[Any, ...]],
        predictions: list[Any],
        *,
        model_version: str | None,
    ) -> None:
        timestamp = datetime.now(timezone.utc).isoformat()
        dumps = json.dumps
        lines = []
        for row, prediction in zip(rows, predictions, strict=True):
            record = dict(zip(names, row, strict=True))
            record["prediction"] = prediction
            record["timestamp"] = timestamp
            record["model_version"] = model_version
            lines.append(dumps(record, allow_nan=True))
        text = "\n".join(lines) + "\n"
        with self._lock:
            self._file.write(text)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def _request_model(columns: list[ColumnSpec], max_records: int) -> Any:
    from typing import Annotated

    from pydantic import AliasChoices, ConfigDict, Field, Strict, create_model

    fields: dict[str, Any] = {}
    for index, column in enumerate(columns):
        python_type = _SCHEMA_TYPES[column.type]
        # Positional field names with the column as alias: a column may be called "schema",
        # "_id" or "petal length (cm)", none of which can be a pydantic attribute.
        if column.required:
            fields[f"f{index}"] = (Annotated[python_type, Strict()], Field(alias=column.name))
        else:
            fields[f"f{index}"] = (
                Annotated[python_type | None, Strict()],
                Field(None, alias=column.name),
            )
    record = create_model("Record", __config__=ConfigDict(extra="forbid"), **fields)
    body = create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(
            list[record],
            Field(
                min_length=1,
                max_length=max_records,
                # Either key, never both: the other one is then an unexpected field (extra).
                validation_alias=AliasChoices(*_BATCH_KEYS),
            ),
        ),
    )
    return body


def _describe_errors(errors: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """pydantic errors -> ``{"record", "field", "message"}`` with the field and record named."""
    described = []
    for error in errors[:_MAX_REPORTED_ERRORS]:
        loc = list(error.get("loc", ()))
        kind = error.get("type", "")
        batch = str(loc[0]) if loc else "records"  # the key the request used
        record = loc[1] if len(loc) >= 2 and isinstance(loc[1], int) else None
        field_name = str(loc[2]) if len(loc) >= 3 else (str(loc[0]) if loc else None)
        if kind == "json_invalid":
            message = f"request body is not valid JSON: {error['msg']}"
        elif kind == "model_type" and not loc:
            message = 'request body must be an object like {"records": [{...}]}'
        elif kind == "extra_forbidden" and record is not None:
            message = (
                f"{batch}[{record}]: unexpected field {field_name!r}; the model expects "
                f"{', '.join(names)}"
            )
        elif kind == "extra_forbidden" and field_name in _BATCH_KEYS:
            message = "send the batch as 'records' or as 'instances', not both"
        elif kind == "extra_forbidden":
            message = (
                f"unexpected top-level field {field_name!r}; send only 'records' (or 'instances')"
            )
        elif kind == "missing" and record is not None:
            message = f"{batch}[{record}]: missing field {field_name!r}"
        elif kind == "missing":
            message = "missing field 'records' (or 'instances')"
        elif record is not None:
            message = (
                f"{batch}[{record}].{field_name}: {error['msg'].lower()}, "
                f"got {error.get('input')!r}"
            )
        elif len(loc) == 1 and batch in _BATCH_KEYS:
            message = f"{batch}: {error['msg'].lower()}"
        else:
            message = f"{'.'.join(map(str, loc)) or 'body'}: {error['msg'].lower()}"
        described.append({"record": record, "field": field_name, "message": message})
    return described


def create_app(
    model_uri: str | None = None,
    *,
    model_name: str | None = None,
    alias: str = "champion",
    prediction_log: Path | str | None = None,
    tracking_uri: str | None = None,
    max_records: int = MAX_RECORDS,
    _served: ServedModel | None = None,
) -> "Any":
    """Build the FastAPI app; the model is loaded once, when the app starts (lifespan).

    Besides ``/predict`` and ``/ready``, the same handlers answer SageMaker's ``/invocations``
    and ``/ping`` and, when set, Vertex AI's ``AIP_PREDICT_ROUTE`` and ``AIP_HEALTH_ROUTE``
    (a route without a leading ``/`` is a ``ConfigError``).

    >>> import uvicorn  # doctest: +SKIP
    >>> app = create_app(model_name="churn-model")  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from pydantic import ValidationError
    from starlette.concurrency import run_in_threadpool

    from mlops_common import __version__

    if prediction_log is None:
        from mlops_common.config import load_project_config

        config = load_project_config()
        prediction_log = config.root / config.prediction_log

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        served = _served or await run_in_threadpool(
            load_served_model,
            model_uri,
            model_name=model_name,
            alias=alias,
            tracking_uri=tracking_uri,
        )
        app.state.served = served
        app.state.names = [column.name for column in served.columns]
        app.state.request_model = _request_model(served.columns, max_records)
        app.state.log = PredictionLog(prediction_log)
        try:
            yield
        finally:
            app.state.served = None
            app.state.log.close()

    app = FastAPI(
        title="mlops model service",
        version=__version__,
        lifespan=lifespan,
        summary="Predictions from the model behind a registry alias.",
    )
    app.state.served = None

    def _json(payload: Any, status_code: int = 200) -> Response:
        return Response(
            json.dumps(payload, allow_nan=True), status_code, media_type="application/json"
        )

    @app.get("/health")
    async def health() -> Response:
        """The process is alive (says nothing about the model)."""
        return _json({"status": "ok"})

    async def ready() -> Response:
        """200 once the model is loaded, 503 before (or after shutdown)."""
        served = app.state.served
        if served is None:
            return _json({"status": "loading"}, 503)
        return _json(
            {"status": "ready", "model_name": served.name, "model_version": served.version}
        )

    @app.get("/metadata")
    async def metadata() -> Response:
        """Model name, version, alias, run id, git commit, data version, lineage, signature."""
        served = app.state.served
        if served is None:
            return _json({"detail": "model not loaded yet"}, 503)
        return _json(
            {
                "model_name": served.name,
                "model_version": served.version,
                "alias": served.alias,
                "model_uri": served.uri,
                "flavor": served.flavor,
                "run_id": served.run_id,
                "git_commit": served.git_commit,
                "data_version": served.data_version,
                "lineage": served.lineage,
                "model_version_tags": served.model_version_tags,
                "signature": served.signature,
                "columns": [asdict(column) for column in served.columns],
                "max_records": max_records,
                "mlops_common_version": __version__,
            }
        )

    def _predict_and_log(served: ServedModel, rows: list[tuple[Any, ...]]) -> list[Any]:
        predictions = served.predict(rows)
        app.state.log.append(app.state.names, rows, predictions, model_version=served.version)
        return predictions

    async def predict(request: Request) -> Response:
        """Predict a batch: ``{"records": [{feature: value, ...}, ...]}`` (or ``"instances"``)."""
        served = app.state.served
        if served is None:
            return _json({"detail": "model not loaded yet"}, 503)
        body = await request.body()
        try:
            parsed = app.state.request_model.model_validate_json(body)
        except ValidationError as exc:
            errors = _describe_errors(exc.errors(include_url=False), app.state.names)
            total = exc.error_count()
            more = f" (and {total - len(errors)} more)" if total > len(errors) else ""
            detail = "; ".join(error["message"] for error in errors[:3]) + more
            return JSONResponse({"detail": detail, "errors": errors}, 422)
        # Values are already checked against the signature: read them positionally.
        width = len(app.state.names)
        getters = [f"f{index}" for index in range(width)]
        rows = [tuple(getattr(record, name) for name in getters) for record in parsed.records]
        try:
            if len(rows) <= _INLINE_MAX_RECORDS:
                predictions = _predict_and_log(served, rows)
            else:
                predictions = await run_in_threadpool(_predict_and_log, served, rows)
        except (ValueError, TypeError) as exc:
            # Well-typed values the model still refuses (NaN in a model without NaN support,
            # an unseen category): the input's fault, so 422 with the model's own words.
            message = f"the model refused these records: {exc}".splitlines()[0]
            return JSONResponse({"detail": message, "errors": []}, 422)
        return _json(
            {
                "predictions": predictions,
                "model_name": served.name,
                "model_version": served.version,
            }
        )

    batch = {"type": "array", "minItems": 1, "maxItems": max_records, "items": {"type": "object"}}
    body_schema = {
        "type": "object",
        "oneOf": [{"required": [key]} for key in _BATCH_KEYS],
        "properties": dict.fromkeys(_BATCH_KEYS, batch),
        "additionalProperties": False,
    }
    openapi_body = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    }
    # One handler each, at every path a cloud probes or posts to.
    health_route, predict_route = _cloud_routes()
    ready_paths = list(_READY_PATHS)
    if health_route and health_route not in ("/health", *ready_paths):
        ready_paths.append(health_route)
    predict_paths = list(_PREDICT_PATHS)
    if predict_route and predict_route not in predict_paths:
        predict_paths.append(predict_route)
    for path in ready_paths:
        app.add_api_route(path, ready, methods=["GET"])
    for path in predict_paths:
        app.add_api_route(path, predict, methods=["POST"], openapi_extra=openapi_body)
    return app


def _cloud_routes() -> tuple[str | None, str | None]:
    """Vertex AI's ``AIP_HEALTH_ROUTE`` and ``AIP_PREDICT_ROUTE`` (None when unset)."""
    routes = []
    for variable in ("AIP_HEALTH_ROUTE", "AIP_PREDICT_ROUTE"):
        value = os.environ.get(variable, "").strip() or None
        if value is not None and not value.startswith("/"):
            raise ConfigError(
                f"{variable}={value!r}: a route must start with '/'; fix the model's "
                "container_spec (health_route / predict_route)"
            )
        routes.append(value)
    return routes[0], routes[1]


def serve(
    *,
    model_name: str | None = None,
    alias: str = "champion",
    model_uri: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    prediction_log: Path | str | None = None,
    tracking_uri: str | None = None,
    access_log: bool = False,
) -> None:
    """Load the model, then run the service with uvicorn until interrupted.

    The model is loaded before the socket opens, so a missing model or signature fails here
    with ``RegistryError``/``ConfigError`` instead of a server that never becomes ready.

    >>> serve(model_name="churn-model", port=8000)  # doctest: +SKIP
    """
    import uvicorn

    if not 0 <= port <= 65535:
        raise InputError(f"port {port}: must be between 0 and 65535")
    served = load_served_model(
        model_uri, model_name=model_name, alias=alias, tracking_uri=tracking_uri
    )
    app = create_app(
        served.uri,
        model_name=served.name,
        alias=alias,
        prediction_log=prediction_log,
        tracking_uri=served.tracking_uri,
        _served=served,
    )
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info")
