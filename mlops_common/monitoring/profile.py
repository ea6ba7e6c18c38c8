"""The reference profile: a small summary of the training data that drift compares against.

Logged with the model at training time (``log_model(..., reference=features)`` stores it as the
run artifact :data:`PROFILE_ARTIFACT`), so drift needs the champion's profile and a window of
captured traffic, not the training CSV. Per numeric column it keeps the count, missing count,
mean and standard deviation, and the sorted values themselves when there are at most
:data:`QUANTILES` of them, else :data:`QUANTILES` quantiles at the midpoints of equal-mass
intervals (``(i + 0.5) / QUANTILES``), which stand in for the data as an equally weighted sample:
the best such summary for the Wasserstein distance (measured within ~0.002 reference standard
deviations on normal, lognormal and Poisson data), the empirical CDF within 1/1000 for KS, and
the deciles for the PSI bins. Per categorical column it keeps the count of each
category (exact). A profile of 30 columns is ~400 KB of JSON.

>>> import pandas as pd
>>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0, None], "c": ["a", "b", "a"]}))
>>> profile.columns["x"].kind, profile.columns["x"].missing, profile.columns["c"].categories
('numeric', 1, {'a': 2, 'b': 1})
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import InputError

__all__ = [
    "FORMAT",
    "PROFILE_ARTIFACT",
    "QUANTILES",
    "ColumnProfile",
    "Profile",
    "build_profile",
    "is_profile_path",
    "load_logged_profile",
    "reference_profile",
]

FORMAT = "mlops-profile/1"
#: Where :func:`mlops_common.tracking.log_model` stores the profile in the training run.
PROFILE_ARTIFACT = "monitoring/reference_profile.json"
#: Numeric columns keep this many quantiles (or every value, when they have no more).
QUANTILES = 1000


@dataclass
class ColumnProfile:
    """One column: ``kind`` numeric or categorical, ``count`` non-missing values, ``missing``.

    Numeric: ``values`` sorted, either every finite value (``exact``) or the quantiles at
    ``(arange(QUANTILES) + 0.5) / QUANTILES``; ``mean`` and ``std`` of the finite values.
    Categorical: ``categories`` maps each value's ``str()`` to its count.
    """

    kind: str
    count: int
    missing: int
    values: list[float] = field(default_factory=list)
    exact: bool = False
    mean: float | None = None
    std: float | None = None
    categories: dict[str, int] = field(default_factory=dict)


@dataclass
class Profile:
    """Columns by name, the row count, and where the data came from."""

    rows: int
    columns: dict[str, ColumnProfile]
    source: str = "reference profile"

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "rows": self.rows, "source": self.source} | {
            "columns": {name: asdict(column) for name, column in self.columns.items()}
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile as JSON; return the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), allow_nan=False), encoding="utf-8")
        return target

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Profile:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(
                f"{source or 'profile'}: not a reference profile (format {FORMAT!r} expected); "
                "write one with build_profile(frame).to_json(path)"
            )
        columns = {name: ColumnProfile(**column) for name, column in data["columns"].items()}
        return cls(rows=int(data["rows"]), columns=columns, source=source or data["source"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Profile:
        """Read a profile written by :meth:`to_json`."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"reference {source}: file not found; check the path") from None
        except (OSError, ValueError) as error:
            raise InputError(f"reference {source}: not a readable profile ({error})") from None
        return cls.from_dict(data, source=str(source))


def is_profile_path(value: Any) -> bool:
    """True for a path that names a profile file (``*profile.json``)."""
    return isinstance(value, (str, os.PathLike)) and str(value).endswith("profile.json")


def build_profile(
    frame: Any,
    *,
    categorical: Sequence[str] = (),
    source: str = "reference profile",
    quantiles: int = QUANTILES,
) -> Profile:
    """The profile of a DataFrame (or a CSV/Parquet/JSON-lines path): numeric and categorical
    columns as :func:`~mlops_common.monitoring.detect_drift` classifies them; other dtypes are
    left out. ``categorical`` forces columns (integer codes) to categories.

    >>> import numpy as np, pandas as pd
    >>> column = build_profile(pd.DataFrame({"x": np.arange(5000.0)})).columns["x"]
    >>> len(column.values), column.exact, column.values[0], column.values[-1]
    (1000, False, 2.4995, 4996.5005)
    """
    import numpy as np

    from mlops_common.io import read_table
    from mlops_common.monitoring import stats
    from mlops_common.monitoring.drift import column_kind

    data, where = read_table(frame, role="reference")
    columns: dict[str, ColumnProfile] = {}
    forced = set(categorical)
    for label in data.columns:
        name, series = str(label), data[label]
        kind = column_kind(name, series, series, name in forced)
        if kind == "numeric":
            finite, missing = stats.sorted_finite(series)
            column = ColumnProfile(kind="numeric", count=int(finite.size), missing=int(missing))
            if finite.size:
                column.mean, column.std = float(finite.mean()), float(finite.std())
                if finite.size <= quantiles:
                    column.values, column.exact = finite.tolist(), True
                else:
                    grid = (np.arange(quantiles) + 0.5) / quantiles
                    column.values = np.quantile(finite, grid).tolist()
            columns[name] = column
        elif kind == "categorical":
            counts = stats.category_counts(series)
            columns[name] = ColumnProfile(
                kind="categorical",
                count=sum(counts.values()),
                missing=int(series.isna().sum()),
                categories=counts,
            )
    if source == "reference profile" and not where.endswith("DataFrame"):
        source = f"profile of {where}"
    return Profile(rows=len(data), columns=columns, source=source)


def load_logged_profile(model_uri: str, *, tracking_uri: str | None = None) -> Profile:
    """The profile logged with a registered model version: ``models:/NAME@ALIAS`` (say
    ``models:/churn-model@champion``) or ``models:/NAME/VERSION``.

    >>> load_logged_profile("models:/churn-model@champion").source  # doctest: +SKIP
    'models:/churn-model@champion (version 3, run 0a1b...)'
    """
    import tempfile

    from mlops_common import store

    name, version, alias = store.parse_model_uri(model_uri)
    client = store.client(tracking_uri)
    found = store.model_version(client, name, version=version, alias=alias)
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = client.download_artifacts(found.run_id, PROFILE_ARTIFACT, folder)
        except Exception as error:  # MLflow raises several types for a missing artifact
            raise InputError(
                f"{model_uri} (version {found.version}, run {found.run_id}) has no reference "
                f"profile ({type(error).__name__}); retrain with "
                "log_model(..., reference=features), or pass the training data instead"
            ) from None
        profile = Profile.load(path)
    profile.source = f"{model_uri} (version {found.version}, run {found.run_id})"
    return profile


def reference_profile(
    reference: Any, profile_data: Callable[[Any], Profile], *, tracking_uri: str | None = None
) -> Profile:
    """The reference side of a drift check done by another engine (SQL, Spark): a ``Profile``
    as it is, a ``*profile.json`` loaded, a model URI's logged profile, or anything else
    (data) profiled by ``profile_data``.

    >>> reference_profile("models:/churn-model@champion", build_profile).rows  # doctest: +SKIP
    20000
    """
    if isinstance(reference, str) and reference.startswith("models:/"):
        return load_logged_profile(reference, tracking_uri=tracking_uri)
    if is_profile_path(reference):
        return Profile.load(reference)
    if isinstance(reference, Profile):
        return reference
    return profile_data(reference)
