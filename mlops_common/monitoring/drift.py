"""Drift statistics: PSI, two-sample KS, chi-square and missing-share shift, per column.

Definitions (also in the docs of :func:`detect_drift`):

* **Missing** means NaN/None, and for numeric columns also ``+inf``/``-inf``. Missing values are
  dropped before PSI, KS and chi-square, and counted in the column's missing share.
* **Numeric PSI** uses quantile bins of the reference: ``np.quantile(reference, linspace(0, 1,
  bins + 1))``, de-duplicated (ties collapse bins); the inner edges cut the line into left-closed
  bins ``[a, b)`` and the outer bins are open, so current values beyond the reference range count
  in the first/last bin. When fewer than 3 distinct edges remain (a constant or two-valued
  reference), each distinct value gets its own bin plus the open intervals around it
  (``< v``, ``= v``, ``> v``), so a shift away from a constant still shows.
* **Categorical PSI** has one bin per reference category plus one ``<unseen>`` bin for every
  current value the reference never had.
* **PSI** is ``sum((c - r) * ln(c / r))`` over bin shares, where a zero share is replaced by
  ``DriftConfig.epsilon`` (1e-4) so empty bins neither divide by zero nor take a log of zero.
* **KS**: statistic and p-value as :func:`scipy.stats.ks_2samp` (two-sided, same ``auto`` rule:
  exact when both samples have at most 10,000 values, asymptotic otherwise). The statistic is
  computed here on the sorted samples (one stable merge, no per-value binary search); in exact
  mode scipy itself is called, which is cheap at those sizes. The asymptotic p-value is scipy's
  own ``kstwo.sf(D, round(n1 * n2 / (n1 + n2)))``: when ``2.2 <= n * D**2 < 370`` (mild drift in
  large samples) scipy evaluates it as an exact O(n) sum, about 0.5 s at n = 500,000, the
  same cost ``ks_2samp`` pays.
* **Chi-square**: :func:`scipy.stats.chi2_contingency` on the 2 x K table of reference and
  current counts per category (``correction=False``), i.e. a test that both samples come from
  the same distribution. A goodness-of-fit test against reference shares (``chisquare``) would
  divide by zero on unseen categories, which this table handles as an ordinary column.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_common.errors import ConfigError, InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["ColumnDrift", "DriftConfig", "DriftReport", "detect_drift"]

UNSEEN = "<unseen>"
OTHER = "<other>"
# The plot keeps the most frequent reference categories; PSI and chi-square use all of them.
MAX_PLOT_CATEGORIES = 30
MAX_LISTED_UNSEEN = 20
KS_CHUNK = 1 << 18
KS_MAX_AUTO_N = 10_000  # scipy.stats.ks_2samp: method="auto" is exact up to this sample size


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of the drift verdicts.

    A column drifts when any of: PSI > ``psi_threshold``; the KS (numeric) or chi-square
    (categorical) p-value < ``p_value``; ``|missing share delta|`` > ``missing_share_threshold``.
    The data drifts when the share of drifted columns is >= ``drift_share`` (and at least one
    column drifted). ``n_jobs`` columns are computed at once (default: CPU count, at most 4).

    >>> DriftConfig(psi_threshold=0.1).bins
    10
    """

    psi_threshold: float = 0.2
    p_value: float = 0.05
    missing_share_threshold: float = 0.1
    bins: int = 10
    drift_share: float = 0.5
    epsilon: float = 1e-4
    ks_method: str = "auto"
    n_jobs: int | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.psi_threshold >= 0, "psi_threshold must be >= 0"),
            (0 < self.p_value < 1, "p_value must be between 0 and 1"),
            (0 <= self.missing_share_threshold <= 1, "missing_share_threshold must be in [0, 1]"),
            (isinstance(self.bins, int) and self.bins >= 2, "bins must be an integer >= 2"),
            (0 < self.drift_share <= 1, "drift_share must be in (0, 1]"),
            (0 < self.epsilon < 1, "epsilon must be between 0 and 1"),
            (self.ks_method in ("auto", "exact", "asymp"), "ks_method must be auto/exact/asymp"),
            (self.n_jobs is None or self.n_jobs >= 1, "n_jobs must be >= 1 or None"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"DriftConfig: {message} (fix the `drift` section of params)")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DriftConfig:
        """Build from the ``drift`` section of ``params.yaml``; unknown keys are an error."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"drift params: unknown keys {unknown}; expected some of {sorted(known)}"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ColumnDrift:
    """Statistics, verdict and plot data of one column.

    ``bins``/``reference_shares``/``current_shares`` are the bin labels and shares (without
    epsilon smoothing) that the HTML report plots; ``edges`` are the numeric inner bin edges.
    """

    name: str
    kind: str  # "numeric" or "categorical"
    psi: float | None
    ks_statistic: float | None
    chi2_statistic: float | None
    p_value: float | None
    test: str | None  # "ks" or "chi2"; None when a side has no value to test
    reference_count: int  # non-missing values
    current_count: int
    reference_missing_share: float
    current_missing_share: float
    missing_share_delta: float
    drifted: bool
    reasons: list[str]
    bins: list[str]
    reference_shares: list[float]
    current_shares: list[float]
    edges: list[float] | None = None
    unseen_categories: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _finite(asdict(self))


@dataclass
class DriftReport:
    """The result of :func:`detect_drift`.

    ``ignored_columns`` maps each column left out of the comparison to why (only in current,
    such as ``prediction`` or ``timestamp`` of a prediction log; only in reference; not selected;
    unsupported dtype).
    """

    drift_detected: bool
    drifted_share: float
    columns: list[ColumnDrift]
    ignored_columns: dict[str, str]
    reference_source: str
    current_source: str
    reference_rows: int
    current_rows: int
    config: DriftConfig

    @property
    def drifted_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.drifted]

    def column(self, name: str) -> ColumnDrift:
        """The result of column ``name`` (``KeyError`` if it was not compared)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift_detected": self.drift_detected,
            "drifted_share": self.drifted_share,
            "drifted_columns": self.drifted_columns,
            "reference_source": self.reference_source,
            "current_source": self.current_source,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "config": self.config.to_dict(),
            "ignored_columns": dict(self.ignored_columns),
            "columns": [column.to_dict() for column in self.columns],
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as strict JSON (no NaN) to ``path``; return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
        return path


def detect_drift(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    config: DriftConfig | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column.

    ``reference`` and ``current`` are DataFrames or paths to CSV, Parquet or JSON-lines files
    (``.jsonl``/``.ndjson``/``.json``, one record per line, as the prediction log). Only columns
    present in both are compared; the others are listed in ``report.ignored_columns``.
    ``columns`` restricts the comparison (each must exist on both sides); ``categorical`` forces
    columns (say, integer codes) to be compared as categories. Object, string, category and bool
    columns are categorical, other numeric dtypes numeric. DataFrames are never modified.

    >>> import pandas as pd
    >>> ref = pd.DataFrame({"x": range(100), "city": ["a", "b"] * 50})
    >>> cur = pd.DataFrame({"x": range(50, 150), "city": ["a", "c"] * 50, "prediction": 1})
    >>> report = detect_drift(ref, cur)
    >>> report.drift_detected, report.column("x").drifted, report.ignored_columns
    (True, True, {'prediction': 'only in current'})
    """
    config = config if config is not None else DriftConfig()
    if not isinstance(config, DriftConfig):
        raise ConfigError(f"detect_drift: config must be a DriftConfig, got {type(config)}")
    ref_frame, ref_source = _load(reference, "reference")
    cur_frame, cur_source = _load(current, "current")
    selected, ignored = _select_columns(ref_frame, cur_frame, columns, ref_source, cur_source)
    forced = {categorical} if isinstance(categorical, str) else set(categorical or ())
    for name in sorted(forced - set(selected)):
        raise InputError(
            f"categorical column {name!r} is not among the compared columns {selected}; "
            "check its spelling or add it to columns"
        )
    # Columns are named by their str() in the report; keep the frames' own labels for lookups.
    ref_label = {str(label): label for label in ref_frame.columns}
    cur_label = {str(label): label for label in cur_frame.columns}

    def ref_col(name: str) -> pd.Series:
        return ref_frame[ref_label[name]]

    def cur_col(name: str) -> pd.Series:
        return cur_frame[cur_label[name]]

    plan: list[tuple[str, str]] = []
    for name in selected:
        kind = _kind(name, ref_col(name), cur_col(name), name in forced)
        if kind is None:
            ignored[name] = f"unsupported dtype {ref_col(name).dtype}"
        else:
            plan.append((name, kind))
    if not plan:
        raise InputError(
            f"{ref_source} / {cur_source}: no numeric or categorical column to compare "
            f"(ignored: {ignored}); pass columns with numbers or categories"
        )

    def run(item: tuple[str, str]) -> ColumnDrift:
        name, kind = item
        if kind == "numeric":
            return _numeric_column(name, ref_col(name), cur_col(name), config, ref_source)
        return _categorical_column(name, ref_col(name), cur_col(name), config)

    n_jobs = config.n_jobs or min(4, os.cpu_count() or 1)
    if n_jobs > 1 and len(plan) > 1:
        from concurrent.futures import ThreadPoolExecutor

        # numpy sorts and merges release the GIL, so columns run in parallel threads.
        with ThreadPoolExecutor(max_workers=min(n_jobs, len(plan))) as pool:
            results = list(pool.map(run, plan))
    else:
        results = [run(item) for item in plan]

    drifted = sum(column.drifted for column in results)
    share = drifted / len(results)
    return DriftReport(
        drift_detected=drifted > 0 and share >= config.drift_share,
        drifted_share=share,
        columns=results,
        ignored_columns=ignored,
        reference_source=ref_source,
        current_source=cur_source,
        reference_rows=len(ref_frame),
        current_rows=len(cur_frame),
        config=config,
    )


# --- input -----------------------------------------------------------------------------------


def _load(data: Any, role: str) -> tuple[pd.DataFrame, str]:
    from mlops_common.io import read_table

    frame, source = read_table(
        data,
        role=role,
        messages={"no_rows": "{source}: no rows to compare; {role} data must not be empty"},
    )
    seen = Counter(str(label) for label in frame.columns)
    duplicated = sorted(name for name, count in seen.items() if count > 1)
    if duplicated:
        raise InputError(f"{source}: duplicated column names {duplicated}; rename them")
    return frame, source


def _select_columns(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    columns: Sequence[str] | None,
    ref_source: str,
    cur_source: str,
) -> tuple[list[str], dict[str, str]]:
    ref_names = [str(name) for name in ref.columns]
    cur_names = {str(name) for name in cur.columns}
    ignored: dict[str, str] = {}
    for name in cur.columns:
        if str(name) not in set(ref_names):
            ignored[str(name)] = "only in current"
    for name in ref_names:
        if name not in cur_names:
            ignored[name] = "only in reference"
    if isinstance(columns, str):
        columns = [columns]
    if columns is not None:
        for name in columns:
            where = [
                source
                for source, names in ((ref_source, ref_names), (cur_source, cur_names))
                if name not in names
            ]
            if where:
                raise InputError(
                    f"column {name!r} not found in {' and '.join(where)}; "
                    f"shared columns are {sorted(set(ref_names) & cur_names)}"
                )
        wanted = set(columns)
        for name in ref_names:
            if name in cur_names and name not in wanted:
                ignored[name] = "not selected"
        return [name for name in ref_names if name in wanted], ignored
    shared = [name for name in ref_names if name in cur_names]
    if not shared:
        raise InputError(
            f"no shared columns between {ref_source} {ref_names[:10]} and {cur_source} "
            f"{sorted(cur_names)[:10]}; compare files with the same feature names"
        )
    return shared, ignored


def _kind(name: str, ref: pd.Series, cur: pd.Series, forced_categorical: bool) -> str | None:
    import pandas as pd
    from pandas.api import types

    if forced_categorical:
        return "categorical"

    def is_categorical(series: pd.Series) -> bool:
        dtype = series.dtype
        return bool(
            types.is_bool_dtype(dtype)
            or types.is_object_dtype(dtype)
            or types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        )

    def is_numeric(series: pd.Series) -> bool:
        return bool(types.is_numeric_dtype(series.dtype)) and not is_categorical(series)

    if is_categorical(ref):
        return "categorical"
    if not is_numeric(ref):
        return None
    if not is_numeric(cur) and not cur.isna().all():
        raise InputError(
            f"column {name!r} is numeric in reference but {cur.dtype} in current; fix its "
            f"values or pass categorical=[{name!r}] to compare it as categories"
        )
    return "numeric"


# --- numeric columns -------------------------------------------------------------------------


def _sorted_finite(series: pd.Series) -> tuple[np.ndarray, int]:
    """Sorted finite values (one sort; NaN and +-inf are cut off its ends) and the missing count."""
    import numpy as np

    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    ordered = np.sort(values)  # a copy: the caller's data is never touched
    low = int(np.searchsorted(ordered, -np.inf, side="right"))
    high = int(np.searchsorted(ordered, np.inf, side="left"))  # NaN sorts after +inf
    finite = ordered[low:high]
    return finite, values.size - finite.size


def _numeric_bins(ref: np.ndarray, bins: int) -> tuple[list[tuple[float, str]], list[str]]:
    """Cut points (value, searchsorted side) from reference quantiles, and bin labels."""
    import numpy as np

    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)))
    values = [float(v) for v in edges]
    if len(values) >= 3:
        inner = values[1:-1]
        cuts = [(v, "left") for v in inner]
        labels = [f"< {inner[0]:.4g}"]
        labels += [f"[{a:.4g}, {b:.4g})" for a, b in pairwise(inner)]
        labels.append(f">= {inner[-1]:.4g}")
        return cuts, labels
    # A constant or two-valued reference: each value is a bin, and so is each gap around it.
    cuts, labels = [], [f"< {values[0]:.4g}"]
    for i, v in enumerate(values):
        cuts += [(v, "left"), (v, "right")]
        labels.append(f"= {v:.4g}")
        if i + 1 < len(values):
            labels.append(f"({v:.4g}, {values[i + 1]:.4g})")
    labels.append(f"> {values[-1]:.4g}")
    return cuts, labels


def _counts(sorted_values: np.ndarray, cuts: list[tuple[float, str]]) -> np.ndarray:
    import numpy as np

    positions = [int(np.searchsorted(sorted_values, v, side=side)) for v, side in cuts]
    return np.diff(np.array([0, *positions, sorted_values.size], dtype=np.int64))


def psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray, epsilon: float) -> float:
    """``sum((c - r) * ln(c / r))`` over shares, zero shares replaced by ``epsilon``."""
    import numpy as np

    ref_share = ref_counts / max(int(ref_counts.sum()), 1)
    cur_share = cur_counts / max(int(cur_counts.sum()), 1)
    ref_share = np.where(ref_share == 0, epsilon, ref_share)
    cur_share = np.where(cur_share == 0, epsilon, cur_share)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def ks_statistic_sorted(ref: np.ndarray, cur: np.ndarray) -> float:
    """Two-sided KS statistic of two sorted samples, equal to ``scipy.stats.ks_2samp``'s.

    scipy evaluates both empirical CDFs at every value by binary search; here one stable merge
    of the two sorted runs (timsort: linear) gives the same integer counts at each distinct
    value, so the differences are the same floating-point numbers.
    """
    import numpy as np

    n1, n2 = ref.size, cur.size
    both = np.concatenate([ref, cur])
    order = np.argsort(both, kind="stable")  # two sorted runs: timsort merges them linearly
    # Mark the last occurrence of each distinct merged value; gathering the merged values in
    # chunks keeps the extra memory near two copies of the data instead of three.
    size = order.size
    last = np.empty(size, dtype=bool)
    last[-1] = True
    for start in range(0, size - 1, KS_CHUNK):
        chunk = both[order[start : min(start + KS_CHUNK + 1, size)]]
        np.not_equal(chunk[1:], chunk[:-1], out=last[start : start + chunk.size - 1])
    del both
    from_ref = order < n1
    del order
    positions = np.flatnonzero(last)
    del last
    count_type = np.int32 if n1 + n2 < 2**31 else np.int64
    ref_counts = np.cumsum(from_ref, dtype=count_type)[positions]  # reference values <= value
    del from_ref
    positions += 1
    positions -= ref_counts  # current values <= value
    # The same float operations as scipy: count / n for each sample, then the difference.
    diffs = ref_counts / n1
    diffs -= positions / n2
    return float(max(min(max(-float(diffs.min()), 0.0), 1.0), float(diffs.max())))


def ks_2samp_sorted(ref: np.ndarray, cur: np.ndarray, method: str = "auto") -> tuple[float, float]:
    """KS statistic and p-value of two sorted samples, as ``scipy.stats.ks_2samp(ref, cur)``."""
    import numpy as np
    from scipy import stats

    n1, n2 = ref.size, cur.size
    if method == "exact" or (method == "auto" and max(n1, n2) <= KS_MAX_AUTO_N):
        # Exact p-values need scipy's path counting; at these sizes scipy is fast.
        result = stats.ks_2samp(ref, cur, method=method)
        return float(result.statistic), float(result.pvalue)
    statistic = ks_statistic_sorted(ref, cur)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(en)), 0, 1))
    return statistic, p_value


def _numeric_column(
    name: str, ref_series: pd.Series, cur_series: pd.Series, config: DriftConfig, source: str
) -> ColumnDrift:
    ref, ref_missing = _sorted_finite(ref_series)
    cur, cur_missing = _sorted_finite(cur_series)
    if ref.size == 0:
        raise InputError(
            f"{source}: column {name!r} has no finite value; fix the baseline or leave the "
            "column out with columns=[...]"
        )
    cuts, labels = _numeric_bins(ref, config.bins)
    ref_counts, cur_counts = _counts(ref, cuts), _counts(cur, cuts)
    psi = ks_stat = p_value = None
    if cur.size:
        psi = psi_from_counts(ref_counts, cur_counts, config.epsilon)
        ks_stat, p_value = ks_2samp_sorted(ref, cur, config.ks_method)
    return _verdict(
        name=name,
        kind="numeric",
        psi=psi,
        ks_statistic=ks_stat,
        chi2_statistic=None,
        p_value=p_value,
        test="ks" if p_value is not None else None,
        ref_counts=ref_counts,
        cur_counts=cur_counts,
        ref_total=len(ref_series),
        cur_total=len(cur_series),
        ref_missing=ref_missing,
        cur_missing=cur_missing,
        labels=labels,
        edges=sorted({v for v, _ in cuts}),
        unseen=[],
        config=config,
    )


# --- categorical columns ---------------------------------------------------------------------


def _category_counts(series: pd.Series) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key, count in series.value_counts(dropna=True, sort=False).items():
        if isinstance(key, float) and key.is_integer():
            key = int(key)  # 1.0 (a code column with a NaN) and 1 are the same category
        label = str(key)
        counts[label] = counts.get(label, 0) + int(count)
    return counts


def _categorical_column(
    name: str, ref_series: pd.Series, cur_series: pd.Series, config: DriftConfig
) -> ColumnDrift:
    import numpy as np
    from scipy import stats

    ref_map, cur_map = _category_counts(ref_series), _category_counts(cur_series)
    categories = sorted(ref_map, key=lambda key: (-ref_map[key], key))
    unseen = sorted((k for k in cur_map if k not in ref_map), key=lambda k: (-cur_map[k], k))
    ref_counts = np.array([ref_map[k] for k in categories] + [0], dtype=np.int64)
    cur_counts = np.array(
        [cur_map.get(k, 0) for k in categories] + [sum(cur_map[k] for k in unseen)],
        dtype=np.int64,
    )
    if not unseen:  # no <unseen> bin when every current value is known
        ref_counts, cur_counts = ref_counts[:-1], cur_counts[:-1]
    ref_missing = int(ref_series.isna().sum())
    cur_missing = int(cur_series.isna().sum())
    if ref_counts.sum() == 0:
        raise InputError(
            f"reference column {name!r} has only missing values; fix the baseline or leave the "
            "column out with columns=[...]"
        )
    psi = chi2 = p_value = None
    if cur_counts.sum():
        psi = psi_from_counts(ref_counts, cur_counts, config.epsilon)
        table = np.vstack([ref_counts, cur_counts])
        table = table[:, table.sum(axis=0) > 0]
        result = stats.chi2_contingency(table, correction=False)
        chi2, p_value = float(result.statistic), float(result.pvalue)
    labels = [*categories, UNSEEN] if unseen else list(categories)
    plot_ref, plot_cur, plot_labels = ref_counts, cur_counts, labels
    if len(categories) > MAX_PLOT_CATEGORIES:
        keep = MAX_PLOT_CATEGORIES
        tail = slice(keep, len(categories))
        plot_ref = np.concatenate([ref_counts[:keep], [ref_counts[tail].sum()], ref_counts[-1:]])
        plot_cur = np.concatenate([cur_counts[:keep], [cur_counts[tail].sum()], cur_counts[-1:]])
        plot_labels = [*categories[:keep], OTHER, labels[-1]]
        if not unseen:
            plot_ref, plot_cur, plot_labels = plot_ref[:-1], plot_cur[:-1], plot_labels[:-1]
    return _verdict(
        name=name,
        kind="categorical",
        psi=psi,
        ks_statistic=None,
        chi2_statistic=chi2,
        p_value=p_value,
        test="chi2" if p_value is not None else None,
        ref_counts=plot_ref,
        cur_counts=plot_cur,
        ref_total=len(ref_series),
        cur_total=len(cur_series),
        ref_missing=ref_missing,
        cur_missing=cur_missing,
        labels=plot_labels,
        edges=None,
        unseen=unseen[:MAX_LISTED_UNSEEN],
        config=config,
    )


# --- verdict ---------------------------------------------------------------------------------


def _verdict(
    *,
    name: str,
    kind: str,
    psi: float | None,
    ks_statistic: float | None,
    chi2_statistic: float | None,
    p_value: float | None,
    test: str | None,
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    ref_total: int,
    cur_total: int,
    ref_missing: int,
    cur_missing: int,
    labels: list[str],
    edges: list[float] | None,
    unseen: list[str],
    config: DriftConfig,
) -> ColumnDrift:
    ref_missing_share = ref_missing / ref_total if ref_total else 0.0
    cur_missing_share = cur_missing / cur_total if cur_total else 0.0
    delta = cur_missing_share - ref_missing_share
    reasons = []
    if psi is None:
        reasons.append("no non-missing value in current")
    elif psi > config.psi_threshold:
        reasons.append(f"PSI {psi:.3f} > {config.psi_threshold:g}")
    if p_value is not None and p_value < config.p_value:
        label = "KS" if test == "ks" else "chi-square"
        reasons.append(f"{label} p-value {p_value:.3g} < {config.p_value:g}")
    if abs(delta) > config.missing_share_threshold:
        reasons.append(
            f"missing share {ref_missing_share:.1%} -> {cur_missing_share:.1%} "
            f"(delta {delta:+.1%}, threshold {config.missing_share_threshold:.1%})"
        )
    ref_n, cur_n = int(ref_counts.sum()), int(cur_counts.sum())
    return ColumnDrift(
        name=name,
        kind=kind,
        psi=psi,
        ks_statistic=ks_statistic,
        chi2_statistic=chi2_statistic,
        p_value=p_value,
        test=test,
        reference_count=ref_n,
        current_count=cur_n,
        reference_missing_share=ref_missing_share,
        current_missing_share=cur_missing_share,
        missing_share_delta=delta,
        drifted=bool(reasons),
        reasons=reasons,
        bins=labels,
        reference_shares=[int(c) / ref_n if ref_n else 0.0 for c in ref_counts],
        current_shares=[int(c) / cur_n if cur_n else 0.0 for c in cur_counts],
        edges=edges,
        unseen_categories=unseen,
    )


def _finite(value: Any) -> Any:
    """Replace non-finite floats by None so the JSON is strict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
