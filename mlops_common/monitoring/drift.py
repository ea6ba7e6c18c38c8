"""Drift detection: which columns to compare, how, and the verdicts (the statistics are in
:mod:`mlops_common.monitoring.stats`).

Per column: PSI, the two-sample KS test (numeric) or chi-square (categorical), and the shift of
the missing-value share, each against a :class:`DriftConfig` threshold; the data drifts when
enough columns do. The :class:`DriftReport` follows the result protocol of
:mod:`mlops_common.results` (``to_dict``, ``to_json``, ``summary``, ``write_html``,
``exit_code``).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_common.errors import ConfigError, InputError
from mlops_common.monitoring import stats
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result, to_jsonable

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "MAX_LISTED_UNSEEN",
    "MAX_PLOT_CATEGORIES",
    "OTHER",
    "TESTS",
    "VERDICT_DRIFT",
    "VERDICT_INSUFFICIENT",
    "VERDICT_NO_DRIFT",
    "ColumnDrift",
    "DriftConfig",
    "DriftReport",
    "column_kind",
    "detect_drift",
]

OTHER = "<other>"
# The plot keeps the most frequent reference categories; PSI and chi-square use all of them.
MAX_PLOT_CATEGORIES = 30
MAX_LISTED_UNSEEN = 20


#: The per-column tests: which kind of column each applies to, and whether it is a p-value test
#: (drift when the p-value falls *below* the threshold) or a distance (drift *above* it).
TESTS: dict[str, tuple[str, bool]] = {
    "ks": ("numeric", True),
    "wasserstein": ("numeric", False),
    "chi2": ("categorical", True),
    "jensenshannon": ("categorical", False),
    "psi": ("any", False),
}
VERDICT_DRIFT, VERDICT_NO_DRIFT, VERDICT_INSUFFICIENT = "drift", "no drift", "insufficient data"
#: How the column verdicts make the dataset verdict (see :func:`dataset_drift`).
DATASET_RULES = ("share", "any_corrected")


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of the drift verdicts: the library's defaults, held here once.

    **Which test decides a column** depends on the size of the *current* window (the reference
    is always large), as in Evidently's defaults: with more than ``large_sample`` non-missing
    current values, numeric columns use the Wasserstein distance divided by the reference
    standard deviation (drift when > ``wasserstein_threshold``) and categorical columns the
    Jensen-Shannon distance (> ``jensenshannon_threshold``): effect sizes, which do not call a
    negligible shift "significant" just because the window is big. Smaller windows use the KS
    (numeric) or chi-square (categorical; categories expected fewer than 5 times in the window
    pooled into one) p-value (drift when < ``p_value``), reported beside an effect size (the KS
    statistic and normed Wasserstein; the Jensen-Shannon distance). PSI is always reported; it
    decides only where ``per_column`` asks for ``test: psi`` (``psi_threshold``). A column also
    drifts when its missing share moves by more than ``missing_share_threshold``.

    ``per_column`` overrides the test and/or threshold of named columns:
    ``{"age": {"test": "psi", "threshold": 0.1}, "plan": {"threshold": 0.2}}``.

    **Dataset verdict**: fewer than ``min_rows`` current rows is *insufficient data* (never
    drift, exit 0); otherwise ``dataset_rule`` decides (:func:`dataset_drift`): ``"share"``
    (the default) when the share of drifted columns is >= ``drift_share``; ``"any_corrected"``
    when any one column drifts once the p-value columns are corrected for testing many columns
    (Holm, family-wise at ``p_value``), an effect-size column exceeds its threshold, or a
    missing share moves, so a shift of one column among many is caught. ``n_jobs`` columns are
    computed at once (default: CPU count, at most 4).

    >>> DriftConfig(min_rows=50).large_sample
    1000
    """

    p_value: float = 0.05
    wasserstein_threshold: float = 0.1
    jensenshannon_threshold: float = 0.1
    psi_threshold: float = 0.2
    large_sample: int = 1000
    min_rows: int = 100
    missing_share_threshold: float = 0.1
    drift_share: float = 0.5
    bins: int = 10
    epsilon: float = 1e-4
    ks_method: str = "auto"
    n_jobs: int | None = None
    per_column: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_rule: str = "share"

    def __post_init__(self) -> None:
        checks = [
            (self.psi_threshold >= 0, "psi_threshold must be >= 0"),
            (0 < self.p_value < 1, "p_value must be between 0 and 1"),
            (self.wasserstein_threshold >= 0, "wasserstein_threshold must be >= 0"),
            (self.jensenshannon_threshold >= 0, "jensenshannon_threshold must be >= 0"),
            (_is_int(self.large_sample) and self.large_sample >= 1, "large_sample must be >= 1"),
            (_is_int(self.min_rows) and self.min_rows >= 1, "min_rows must be an integer >= 1"),
            (0 <= self.missing_share_threshold <= 1, "missing_share_threshold must be in [0, 1]"),
            (_is_int(self.bins) and self.bins >= 2, "bins must be an integer >= 2"),
            (0 < self.drift_share <= 1, "drift_share must be in (0, 1]"),
            (0 < self.epsilon < 1, "epsilon must be between 0 and 1"),
            (self.ks_method in ("auto", "exact", "asymp"), "ks_method must be auto/exact/asymp"),
            (self.n_jobs is None or self.n_jobs >= 1, "n_jobs must be >= 1 or None"),
            (isinstance(self.per_column, dict), "per_column must map column names to settings"),
            (self.dataset_rule in DATASET_RULES, f"dataset_rule must be one of {DATASET_RULES}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"DriftConfig: {message} (fix the `drift` section of params)")
        for name, override in self.per_column.items():
            if not isinstance(override, dict) or not set(override) <= {"test", "threshold"}:
                raise ConfigError(
                    f"DriftConfig: per_column[{name!r}] must be a mapping with `test` and/or "
                    f"`threshold`, got {override!r} (fix the `drift` section of params)"
                )
            test = override.get("test")
            if test is not None and test not in TESTS:
                raise ConfigError(
                    f"DriftConfig: per_column[{name!r}] test {test!r} is not one of "
                    f"{sorted(TESTS)} (fix the `drift` section of params)"
                )
            threshold = override.get("threshold")
            if threshold is not None and not (
                isinstance(threshold, (int, float)) and threshold >= 0
            ):
                raise ConfigError(
                    f"DriftConfig: per_column[{name!r}] threshold must be a number >= 0, got "
                    f"{threshold!r} (fix the `drift` section of params)"
                )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DriftConfig:
        """Build from the ``drift`` section of ``params.yaml``; unknown keys are an error.

        >>> config = DriftConfig.from_dict({"min_rows": 500, "per_column": {"x": {"test": "psi"}}})
        >>> config.min_rows
        500
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"drift params: unknown keys {unknown}; expected some of {sorted(known)}"
            )
        if data.get("per_column") is None:
            data.pop("per_column", None)
        return cls(**data)

    @classmethod
    def from_params(
        cls, path: str | os.PathLike[str] | None = None, **overrides: Any
    ) -> DriftConfig:
        """The ``drift:`` section of a params file (if given), then ``overrides`` that are not
        None (command-line flags) on top: one source of thresholds for nox, CI and the CLI.

        >>> DriftConfig.from_params(None, p_value=0.01, min_rows=None).p_value
        0.01
        """
        from mlops_common.io import read_params_section

        data: dict[str, Any] = {}
        if path is not None:
            data.update(read_params_section(path, "drift"))
        data.update({key: value for key, value in overrides.items() if value is not None})
        return cls.from_dict(data)

    def test_for(self, name: str, kind: str, current_count: int) -> tuple[str, float]:
        """The test that decides column ``name`` and its threshold, for ``current_count``
        non-missing current values.

        >>> config = DriftConfig()
        >>> config.test_for("age", "numeric", 500), config.test_for("age", "numeric", 5000)
        (('ks', 0.05), ('wasserstein', 0.1))
        """
        override = self.per_column.get(name, {})
        test = override.get("test")
        if test is None:
            large = current_count > self.large_sample
            if kind == "numeric":
                test = "wasserstein" if large else "ks"
            else:
                test = "jensenshannon" if large else "chi2"
        applies_to = TESTS[test][0]
        if applies_to not in ("any", kind):
            raise ConfigError(
                f"drift params: per_column[{name!r}] test {test!r} applies to {applies_to} "
                f"columns, but {name!r} is {kind}; choose one of "
                f"{sorted(t for t, (k, _) in TESTS.items() if k in ('any', kind))}"
            )
        default = {
            "ks": self.p_value,
            "chi2": self.p_value,
            "wasserstein": self.wasserstein_threshold,
            "jensenshannon": self.jensenshannon_threshold,
            "psi": self.psi_threshold,
        }[test]
        threshold = override.get("threshold")
        return test, float(default if threshold is None else threshold)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class ColumnDrift(Result):
    """Statistics, verdict and plot data of one column.

    ``test`` is the test that decided the column (see :class:`DriftConfig`), ``statistic`` its
    value and ``threshold`` the bound it was held to; ``p_value`` is set for the p-value tests
    (KS, chi-square), always beside effect sizes: ``ks_statistic`` and ``wasserstein`` (normed by
    the reference standard deviation) for numeric columns, ``jensenshannon`` for categorical
    ones (Cramér's V is left out: against a large reference it shrinks with the window size).
    ``psi`` is always reported. ``insufficient`` marks a column with fewer
    than ``min_rows`` non-missing current values: no test decides it.
    ``bins``/``reference_shares``/``current_shares`` are the bin labels and shares (without
    epsilon smoothing) that the HTML report plots; ``edges`` are the numeric inner bin edges.
    """

    name: str
    kind: str  # "numeric" or "categorical"
    test: str | None  # a key of TESTS; None when no test could decide
    statistic: float | None
    threshold: float | None
    p_value: float | None
    psi: float | None
    ks_statistic: float | None
    wasserstein: float | None
    chi2_statistic: float | None
    jensenshannon: float | None
    reference_count: int  # non-missing values
    current_count: int
    reference_missing_share: float
    current_missing_share: float
    missing_share_delta: float
    drifted: bool
    insufficient: bool
    reasons: list[str]
    bins: list[str]
    reference_shares: list[float]
    current_shares: list[float]
    edges: list[float] | None = None
    unseen_categories: list[str] = field(default_factory=list)
    #: Holm-adjusted p-value across the window's p-value columns (``dataset_rule:
    #: any_corrected`` only); the dataset drifts when one is below ``p_value``.
    adjusted_p_value: float | None = None

    @property
    def effect_size(self) -> float | None:
        """The distance of the column's kind: normed Wasserstein or Jensen-Shannon."""
        return self.wasserstein if self.kind == "numeric" else self.jensenshannon

    def to_dict(self) -> dict[str, Any]:
        return _finite(asdict(self))

    def summary(self) -> str:
        """One line: verdict, name, kind, deciding test, effect sizes, PSI, missing delta, reasons.

        >>> import pandas as pd
        >>> same = pd.DataFrame({"x": range(100)})
        >>> detect_drift(same, same).column("x").summary()
        'ok     x  numeric  ks p 1 (D 0, W 0)  psi 0.0000  missing +0.000'
        """
        status = "DRIFT" if self.drifted else ("n/a" if self.insufficient else "ok")
        if self.test is None:
            decided = "no test"
        elif self.p_value is not None:
            if self.kind == "numeric":
                sizes = f"D {_fmt(self.ks_statistic)}, W {_fmt(self.wasserstein)}"
            else:
                sizes = f"JS {_fmt(self.jensenshannon)}"
            decided = f"{self.test} p {self.p_value:.4g} ({sizes})"
        else:
            decided = f"{self.test} {_fmt(self.statistic)}"
        psi = "psi -" if self.psi is None else f"psi {self.psi:.4f}"
        line = (
            f"{status:<5}  {self.name}  {self.kind}  {decided}  {psi}"
            f"  missing {self.missing_share_delta:+.3f}"
        )
        return f"{line}  {'; '.join(self.reasons)}" if self.reasons else line

    @property
    def exit_code(self) -> int:
        return EXIT_NEGATIVE if self.drifted else EXIT_OK


@dataclass
class DriftReport(Result):
    """The result of :func:`detect_drift`.

    ``ignored_columns`` maps each column left out of the comparison to why (only in current,
    such as ``prediction`` or ``timestamp`` of a prediction log; only in reference; not selected;
    unsupported dtype).
    """

    drift_detected: bool
    drifted_share: float
    insufficient_data: bool
    columns: list[ColumnDrift]
    ignored_columns: dict[str, str]
    reference_source: str
    current_source: str
    reference_rows: int
    current_rows: int
    config: DriftConfig

    @property
    def verdict(self) -> str:
        """``"drift"``, ``"no drift"`` or ``"insufficient data"`` (fewer than ``min_rows``)."""
        if self.insufficient_data:
            return VERDICT_INSUFFICIENT
        return VERDICT_DRIFT if self.drift_detected else VERDICT_NO_DRIFT

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
        """The verdict first, then sources, config and the columns (strict JSON: no NaN)."""
        keys = ["verdict", "drift_detected", "drifted_share", "drifted_columns"]
        keys += ["reference_source"]
        keys += ["current_source", "reference_rows", "current_rows", "config", "ignored_columns"]
        return {key: to_jsonable(getattr(self, key)) for key in [*keys, "columns"]}

    def summary(self) -> str:
        """The verdict, then one line per column (drifted columns first), then what was left out.

        >>> import pandas as pd
        >>> ref = pd.DataFrame({"x": range(100)})
        >>> print(detect_drift(ref, ref.assign(x=ref.x + 50)).summary())  # doctest: +ELLIPSIS
        drift of current DataFrame against reference DataFrame: drift detected (1 of 1 columns ...)
        DRIFT  x  numeric  ks p 1.002e-11 (D 0.5, W 1.732)  psi 4.3463  missing +0.000  KS ...
        """
        head = f"drift of {self.current_source} against {self.reference_source}: "
        if self.insufficient_data:
            head += (
                f"insufficient data ({self.current_rows} current rows < min_rows "
                f"{self.config.min_rows}; no verdict)"
            )
        else:
            verdict = "drift detected" if self.drift_detected else "no drift"
            head += (
                f"{verdict} ({len(self.drifted_columns)} of {len(self.columns)} columns drifted, "
                f"{self.rule_text})"
            )
        lines = [head]
        ordered = sorted(self.columns, key=lambda column: not column.drifted)
        lines += [column.summary() for column in ordered]
        if self.ignored_columns:
            left_out = ", ".join(f"{name} ({why})" for name, why in self.ignored_columns.items())
            lines.append(f"not compared: {left_out}")
        return "\n".join(lines)

    @property
    def rule_text(self) -> str:
        """How the dataset verdict was reached, in a few words."""
        if self.config.dataset_rule == "share":
            return f"threshold {self.config.drift_share:.0%}"
        significant = sum(
            p is not None and p < self.config.p_value
            for p in (column.adjusted_p_value for column in self.columns)
        )
        return (
            f"rule any_corrected: {significant} column(s) below p {self.config.p_value:g} "
            "after Holm's correction"
        )

    @property
    def exit_code(self) -> int:
        """1 when drift is detected, else 0 (also for insufficient data)."""
        return EXIT_NEGATIVE if self.drift_detected else EXIT_OK

    def write_html(self, path: str | os.PathLike[str], *, title: str = "Data drift report") -> Path:
        """Write the report as one self-contained HTML page (inline CSS and SVG); return the path.

        >>> import pandas as pd
        >>> frame = pd.DataFrame({"x": [1.0, 2, 3]})
        >>> detect_drift(frame, frame).write_html("reports/drift.html")  # doctest: +SKIP
        PosixPath('reports/drift.html')
        """
        from mlops_common.monitoring.report import render_html

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_html(self, title=title), encoding="utf-8")
        return target


def holm_adjusted(columns: Sequence[ColumnDrift]) -> list[float | None]:
    """Holm's step-down adjusted p-values of the columns decided by a p-value (KS,
    chi-square), None for the others: family-wise error control over the window's columns.

    >>> import pandas as pd
    >>> ref = pd.DataFrame({"x": range(200), "y": range(200)})
    >>> [round(p, 3) for p in holm_adjusted(detect_drift(ref, ref).columns)]
    [1.0, 1.0]
    """
    tested = [
        (column.p_value, index)
        for index, column in enumerate(columns)
        if column.test is not None and TESTS[column.test][1] and column.p_value is not None
    ]
    adjusted: list[float | None] = [None] * len(columns)
    running = 0.0
    for rank, (p_value, index) in enumerate(sorted(tested)):
        running = max(running, min(1.0, (len(tested) - rank) * p_value))
        adjusted[index] = running
    return adjusted


def dataset_drift(columns: Sequence[ColumnDrift], config: DriftConfig) -> bool:
    """The dataset verdict from the column verdicts, by ``config.dataset_rule``.

    ``share``: at least ``drift_share`` of the columns drifted. ``any_corrected``: one column
    is enough, where a p-value column counts only when its Holm-adjusted p-value is below
    ``p_value`` (31 columns tested at 5% each would alarm ~80% of the time on clean data);
    effect-size columns (large windows, or ``test: psi``) count when they exceed their
    threshold, and any column whose missing share moved by more than
    ``missing_share_threshold``.
    """
    if not columns:
        return False
    if config.dataset_rule == "share":
        drifted = sum(column.drifted for column in columns)
        return drifted > 0 and drifted / len(columns) >= config.drift_share
    for column, adjusted in zip(columns, holm_adjusted(columns), strict=True):
        if column.insufficient:
            continue
        if abs(column.missing_share_delta) > config.missing_share_threshold:
            return True
        if adjusted is not None:
            if adjusted < config.p_value:
                return True
        elif column.drifted:  # decided by an effect size, or no value at all in current
            return True
    return False


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
    (``.jsonl``/``.ndjson``/``.json``, one record per line, as the prediction log), or
    reference profiles (:class:`~mlops_common.monitoring.profile.Profile` or a
    ``*profile.json`` path): a current profile is how data that never leaves its engine is
    compared (:mod:`mlops_common.monitoring.spark` builds one with Spark aggregates). Only columns
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
    ref_frame, ref_source, reference_rows, profile = _side(reference, "reference")
    cur_frame, cur_source, current_rows, cur_profile = _side(current, "current")
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

    def cur_col(name: str) -> pd.Series:
        return cur_frame[cur_label[name]]

    plan: list[tuple[str, str]] = []
    for name in selected:
        if profile is not None:
            kind: str | None = profile.columns[name].kind
            if name in forced and kind != "categorical":
                raise InputError(
                    f"{ref_source}: column {name!r} was profiled as {kind}; rebuild the profile "
                    f"with categorical=[{name!r}] to compare it as categories"
                )
            if kind == "numeric" and cur_profile is None:
                _check_numeric_current(name, cur_col(name))
        elif cur_profile is not None:
            series = ref_frame[ref_label[name]]
            kind = column_kind(name, series, series, name in forced)
            if kind is None:
                ignored[name] = f"unsupported dtype {series.dtype}"
        else:
            series = ref_frame[ref_label[name]]
            kind = column_kind(name, series, cur_col(name), name in forced)
            if kind is None:
                ignored[name] = f"unsupported dtype {series.dtype}"
        if kind is not None and cur_profile is not None:
            cur_kind = cur_profile.columns[name].kind
            if cur_kind != kind:
                raise InputError(
                    f"{cur_source}: column {name!r} was profiled as {cur_kind} but the reference "
                    f"has it {kind}; profile the current data with the reference's kinds"
                )
        if kind is not None:
            plan.append((name, kind))
    if not plan:
        raise InputError(
            f"{ref_source} / {cur_source}: no numeric or categorical column to compare "
            f"(ignored: {ignored}); pass columns with numbers or categories"
        )
    unknown = sorted(set(config.per_column) - {name for name, _ in plan})
    if unknown:
        raise InputError(
            f"drift params: per_column names {unknown} that are not among the compared columns "
            f"{[name for name, _ in plan]}; check their spelling"
        )

    def reference_of(name: str, kind: str) -> _Reference:
        if profile is not None:
            return _Reference.from_profile(profile.columns[name], profile.rows)
        return _Reference.from_series(ref_frame[ref_label[name]], kind, name, ref_source)

    def current_of(name: str, kind: str) -> _Current:
        if cur_profile is not None:
            return _Current.from_profile(cur_profile.columns[name], cur_profile.rows)
        return _Current.from_series(cur_col(name), kind)

    def run(item: tuple[str, str]) -> ColumnDrift:
        name, kind = item
        ref, cur = reference_of(name, kind), current_of(name, kind)
        if kind == "numeric":
            return _numeric_column(name, ref, cur, config)
        return _categorical_column(name, ref, cur, config)

    n_jobs = config.n_jobs or min(4, os.cpu_count() or 1)
    if n_jobs > 1 and len(plan) > 1:
        from concurrent.futures import ThreadPoolExecutor

        # numpy sorts and merges release the GIL, so columns run in parallel threads.
        with ThreadPoolExecutor(max_workers=min(n_jobs, len(plan))) as pool:
            results = list(pool.map(run, plan))
    else:
        results = [run(item) for item in plan]

    insufficient = current_rows < config.min_rows
    if insufficient:
        # Too few rows for any verdict: report the statistics, flag nothing.
        for column in results:
            column.drifted, column.insufficient = False, True
    drifted = sum(column.drifted for column in results)
    share = drifted / len(results)
    if config.dataset_rule == "any_corrected":
        for column, adjusted in zip(results, holm_adjusted(results), strict=True):
            column.adjusted_p_value = adjusted
    return DriftReport(
        drift_detected=not insufficient and dataset_drift(results, config),
        drifted_share=share,
        insufficient_data=insufficient,
        columns=results,
        ignored_columns=ignored,
        reference_source=ref_source,
        current_source=cur_source,
        reference_rows=reference_rows,
        current_rows=current_rows,
        config=config,
    )


# --- input -----------------------------------------------------------------------------------


def _side(data: Any, role: str) -> tuple[pd.DataFrame, str, int, Any]:
    """``(frame, source, rows, profile)`` of one side of the comparison: a ``Profile`` (or a
    ``*profile.json``) stands in as an empty frame with its columns; data has no profile."""
    from mlops_common.monitoring.profile import Profile, is_profile_path

    if is_profile_path(data):
        data = Profile.load(data)
    if isinstance(data, Profile):
        import pandas as pd

        return pd.DataFrame(columns=list(data.columns)), data.source, data.rows, data
    frame, source = _load(data, role)
    return frame, source, len(frame), None


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


def column_kind(name: str, ref: pd.Series, cur: pd.Series, forced_categorical: bool) -> str | None:
    """How drift treats a column: ``"categorical"``, ``"numeric"`` or None (not compared).

    Booleans, strings and categoricals are categorical; other numbers numeric. A numeric
    reference column whose current values are not numeric is an ``InputError``.
    """
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
    _check_numeric_current(name, cur)
    return "numeric"


def _check_numeric_current(name: str, cur: pd.Series) -> None:
    from pandas.api import types

    numeric = types.is_numeric_dtype(cur.dtype) and not types.is_bool_dtype(cur.dtype)
    if not numeric and not cur.isna().all():
        raise InputError(
            f"column {name!r} is numeric in reference but {cur.dtype} in current; fix its "
            f"values or pass categorical=[{name!r}] to compare it as categories"
        )


@dataclass
class _Reference:
    """One reference column, from the data itself or from its profile.

    ``values``: the sorted finite values, or the profile's quantiles (``exact`` False), which
    stand in for them; ``count`` the true number of non-missing values.
    """

    kind: str
    count: int
    missing: int
    rows: int
    values: Any = None
    exact: bool = True
    std: float = 0.0
    categories: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_series(cls, series: pd.Series, kind: str, name: str, source: str) -> _Reference:
        import numpy as np

        if kind == "numeric":
            finite, missing = stats.sorted_finite(series)
            if finite.size == 0:
                raise InputError(
                    f"{source}: column {name!r} has no finite value; fix the baseline or leave "
                    "the column out with columns=[...]"
                )
            return cls(
                kind, int(finite.size), int(missing), len(series), finite, std=float(np.std(finite))
            )
        counts = stats.category_counts(series)
        if not counts:
            raise InputError(
                f"reference column {name!r} has only missing values; fix the baseline or leave "
                "the column out with columns=[...]"
            )
        missing = int(series.isna().sum())
        return cls(kind, sum(counts.values()), missing, len(series), categories=counts)

    @classmethod
    def from_profile(cls, column: Any, rows: int) -> _Reference:
        import numpy as np

        values = np.asarray(column.values, dtype=np.float64)
        return cls(
            column.kind,
            column.count,
            column.missing,
            rows,
            values,
            exact=column.exact,
            std=float(column.std or 0.0),
            categories=dict(column.categories),
        )


@dataclass
class _Current:
    """One current column, from the data or from a profile of it (data that stays in Spark).

    ``values``: the sorted finite values, or the profile's quantiles (``exact`` False);
    ``count`` the true number of non-missing values, ``rows`` of rows.
    """

    count: int
    missing: int
    rows: int
    values: Any = None
    exact: bool = True
    categories: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_series(cls, series: pd.Series, kind: str) -> _Current:
        if kind == "numeric":
            finite, missing = stats.sorted_finite(series)
            return cls(int(finite.size), int(missing), len(series), finite)
        counts = stats.category_counts(series)
        missing = int(series.isna().sum())
        return cls(sum(counts.values()), missing, len(series), categories=counts)

    @classmethod
    def from_profile(cls, column: Any, rows: int) -> _Current:
        import numpy as np

        values = np.asarray(column.values, dtype=np.float64)
        return cls(
            column.count,
            column.missing,
            rows,
            values,
            exact=column.exact,
            categories=dict(column.categories),
        )


# --- per column ------------------------------------------------------------------------------


def _numeric_column(
    name: str, reference: _Reference, current: _Current, config: DriftConfig
) -> ColumnDrift:
    ref = reference.values
    cur, cur_missing = current.values, current.missing
    if ref is None or ref.size == 0:
        raise InputError(
            f"reference column {name!r} has no finite value; fix the baseline or leave the "
            "column out with columns=[...]"
        )
    cuts, labels = stats.quantile_bins(ref, config.bins)
    ref_counts, cur_counts = stats.bin_counts(ref, cuts), stats.bin_counts(cur, cuts)
    test, threshold = config.test_for(name, "numeric", current.count)
    measured = _Measured(test=test, threshold=threshold)
    if cur.size:
        measured.psi = stats.psi_from_counts(ref_counts, cur_counts, config.epsilon)
        # Evidently's "normed" Wasserstein: in reference standard deviations (floored).
        measured.wasserstein = stats.wasserstein_sorted(ref, cur) / max(reference.std, 1e-3)
        if reference.exact and current.exact:
            statistic, p_value = (
                stats.ks_2samp_sorted(ref, cur, config.ks_method)
                if test == "ks"
                else (stats.ks_statistic_sorted(ref, cur), None)
            )
        else:
            # A profile's quantiles stand in for the data; the p-value uses the true counts.
            statistic = stats.ks_statistic_sorted(ref, cur)
            p_value = stats.ks_p_value(statistic, reference.count, current.count)
            p_value = p_value if test == "ks" else None
        measured.ks_statistic, measured.p_value = statistic, p_value
    counts = _Counts(ref_counts, cur_counts, labels, reference.rows, current.rows)
    column = _verdict(
        name,
        "numeric",
        config,
        measured,
        counts,
        reference,
        cur_missing,
        reference.count,
        current.count,
    )
    column.edges = sorted({v for v, _ in cuts})
    return column


def _categorical_column(
    name: str, reference: _Reference, current: _Current, config: DriftConfig
) -> ColumnDrift:
    import numpy as np

    categories, unseen, ref_counts, cur_counts = stats.category_bins(
        reference.categories, current.categories
    )
    test, threshold = config.test_for(name, "categorical", int(cur_counts.sum()))
    measured = _Measured(test=test, threshold=threshold)
    if cur_counts.sum():
        measured.psi = stats.psi_from_counts(ref_counts, cur_counts, config.epsilon)
        measured.jensenshannon = stats.jensenshannon_from_counts(ref_counts, cur_counts)
        chi2, p_value = stats.chi2_from_counts(
            *stats.pool_sparse_categories(ref_counts, cur_counts)
        )
        measured.chi2_statistic = chi2
        if test == "chi2":
            measured.p_value = p_value
    labels = [*categories, stats.UNSEEN] if unseen else list(categories)
    if len(categories) > MAX_PLOT_CATEGORIES:
        # The plot folds the rarest reference categories into one <other> bar.
        keep, tail = MAX_PLOT_CATEGORIES, slice(MAX_PLOT_CATEGORIES, len(categories))
        last = slice(-1, None) if unseen else slice(0, 0)
        ref_counts = np.concatenate([ref_counts[:keep], [ref_counts[tail].sum()], ref_counts[last]])
        cur_counts = np.concatenate([cur_counts[:keep], [cur_counts[tail].sum()], cur_counts[last]])
        labels = [*categories[:keep], OTHER, *labels[last]]
    counts = _Counts(ref_counts, cur_counts, labels, reference.rows, current.rows)
    column = _verdict(
        name,
        "categorical",
        config,
        measured,
        counts,
        reference,
        current.missing,
        reference.count,
        current.count,
    )
    column.unseen_categories = unseen[:MAX_LISTED_UNSEEN]
    return column


# --- verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    """What a column's plot shows: counts per bin on both sides, bin labels, and row totals."""

    reference: np.ndarray
    current: np.ndarray
    labels: list[str]
    reference_rows: int
    current_rows: int


@dataclass
class _Measured:
    """A column's statistics before the verdict (None where not measured)."""

    test: str
    threshold: float
    psi: float | None = None
    p_value: float | None = None
    ks_statistic: float | None = None
    wasserstein: float | None = None
    chi2_statistic: float | None = None
    jensenshannon: float | None = None

    def deciding(self) -> float | None:
        """The value of the deciding test."""
        return {
            "ks": self.p_value,
            "chi2": self.p_value,
            "wasserstein": self.wasserstein,
            "jensenshannon": self.jensenshannon,
            "psi": self.psi,
        }[self.test]


TEST_LABELS = {
    "ks": "KS p-value",
    "chi2": "chi-square p-value",
    "wasserstein": "Wasserstein (normed)",
    "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
}


def _verdict(
    name: str,
    kind: str,
    config: DriftConfig,
    m: _Measured,
    counts: _Counts,
    reference: _Reference,
    cur_missing: int,
    ref_n: int,
    cur_n: int,
) -> ColumnDrift:
    """Apply the thresholds of ``config`` to one column's measurements (``ref_n``, ``cur_n``:
    the non-missing values on each side, whether the bins hold them or a profile's quantiles)."""
    ref_missing = reference.missing
    ref_missing_share = ref_missing / counts.reference_rows if counts.reference_rows else 0.0
    cur_missing_share = cur_missing / counts.current_rows if counts.current_rows else 0.0
    delta = cur_missing_share - ref_missing_share
    ref_binned, cur_binned = int(counts.reference.sum()), int(counts.current.sum())
    insufficient = 0 < cur_n < config.min_rows
    value = m.deciding()
    reasons = []
    if cur_n == 0:
        reasons.append("no non-missing value in current")
    elif not insufficient and value is not None:
        p_test = TESTS[m.test][1]
        if (value < m.threshold) if p_test else (value > m.threshold):
            sign = "<" if p_test else ">"
            reasons.append(f"{TEST_LABELS[m.test]} {value:.3g} {sign} {m.threshold:g}")
    if abs(delta) > config.missing_share_threshold:
        reasons.append(
            f"missing share {ref_missing_share:.1%} -> {cur_missing_share:.1%} "
            f"(delta {delta:+.1%}, threshold {config.missing_share_threshold:.1%})"
        )
    decided = cur_n > 0 and not insufficient
    return ColumnDrift(
        name=name,
        kind=kind,
        test=m.test if decided else None,
        statistic=value if decided else None,
        threshold=m.threshold if decided else None,
        p_value=m.p_value,
        psi=m.psi,
        ks_statistic=m.ks_statistic,
        wasserstein=m.wasserstein,
        chi2_statistic=m.chi2_statistic,
        jensenshannon=m.jensenshannon,
        reference_count=ref_n,
        current_count=cur_n,
        reference_missing_share=ref_missing_share,
        current_missing_share=cur_missing_share,
        missing_share_delta=delta,
        drifted=bool(reasons),
        insufficient=insufficient,
        reasons=reasons,
        bins=counts.labels,
        reference_shares=[int(c) / ref_binned if ref_binned else 0.0 for c in counts.reference],
        current_shares=[int(c) / cur_binned if cur_binned else 0.0 for c in counts.current],
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _finite(value: Any) -> Any:
    """Replace non-finite floats by None so the JSON is strict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
