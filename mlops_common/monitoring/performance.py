"""Model quality once labels arrive: captured predictions joined with labels, scored, and
compared with the champion's recorded test metrics (``mlops monitor``).

The pure part (:func:`classification_metrics`, :func:`regression_metrics`,
:func:`compare_metrics`, :func:`join_labels`, :class:`MonitorConfig`) works on plain values and
frames; :func:`monitor_performance` adds the I/O: the capture window (read the way ``mlops
drift`` reads it), the labels file or URI, the champion's metrics from the registry.

Metrics carry the names the rendered project's evaluate stage records: ``accuracy``, ``f1``,
``roc_auc`` (classification; roc_auc only when the capture holds a ``probability`` column) and
``rmse``, ``mae``, ``r2`` (regression). The task is the one the champion's metrics describe.

>>> config = MonitorConfig.from_dict({"tolerance": {"default": 0.02, "rmse": 5.0}})
>>> accuracy, rmse = compare_metrics(
...     {"accuracy": 0.80, "rmse": 52.0}, {"accuracy": 0.85, "rmse": 50.0}, config)
>>> accuracy.degraded, rmse.degraded
(True, False)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import ConfigError, InputError
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result

__all__ = [
    "CLASSIFICATION_METRICS",
    "LOWER_IS_BETTER",
    "REGRESSION_METRICS",
    "MetricCheck",
    "MonitorConfig",
    "PerformanceReport",
    "classification_metrics",
    "compare_metrics",
    "join_labels",
    "monitor_performance",
    "regression_metrics",
]

CLASSIFICATION_METRICS = ("accuracy", "f1", "roc_auc")
REGRESSION_METRICS = ("rmse", "mae", "r2")
LOWER_IS_BETTER = frozenset({"rmse", "mae"})
#: The captured column read as the positive-class probability, where a service records one.
PROBABILITY_COLUMN = "probability"


@dataclass(frozen=True)
class MonitorConfig:
    """The ``monitor:`` section of params.yaml.

    ``labels``: where labels arrive (empty: not configured); ``tolerance``: the allowed absolute
    drop of each metric against the champion (a number, or a mapping of metric name to number
    with an optional ``default``); ``min_rows``: fewer labelled rows is "insufficient data";
    ``target``: the labels' target column.
    """

    labels: str = ""
    tolerance: float = 0.02
    per_metric: dict[str, float] = field(default_factory=dict)
    min_rows: int = 100
    target: str = "target"

    def __post_init__(self) -> None:
        problems = []
        if not _is_number(self.tolerance) or self.tolerance < 0:
            problems.append(f"tolerance must be a number >= 0, got {self.tolerance!r}")
        for name, value in self.per_metric.items():
            if not _is_number(value) or value < 0:
                problems.append(f"tolerance[{name!r}] must be a number >= 0, got {value!r}")
        whole = isinstance(self.min_rows, int) and not isinstance(self.min_rows, bool)
        if not whole or self.min_rows < 1:
            problems.append(f"min_rows must be an integer >= 1, got {self.min_rows!r}")
        if not isinstance(self.labels, str):
            problems.append(f"labels must be a path or URI string, got {self.labels!r}")
        if not isinstance(self.target, str) or not self.target:
            problems.append(f"target must name the labels' column, got {self.target!r}")
        if problems:
            raise ConfigError(f"monitor params: {problems[0]} (fix the `monitor:` section)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> MonitorConfig:
        """From the ``monitor:`` mapping; unknown keys are an error.

        >>> MonitorConfig.from_dict({"tolerance": {"roc_auc": 0.05}}).tolerance_for("roc_auc")
        0.05
        """
        data = dict(data or {})
        known = {"labels", "tolerance", "min_rows", "target"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"monitor params: unknown keys {unknown}; expected {sorted(known)}")
        tolerance = data.pop("tolerance", None)
        if isinstance(tolerance, Mapping):
            per_metric = {str(k): v for k, v in tolerance.items() if k != "default"}
            data["per_metric"] = per_metric
            tolerance = tolerance.get("default")
        if tolerance is not None:
            data["tolerance"] = tolerance
        if data.get("labels") is None:
            data.pop("labels", None)
        return cls(**data)

    @classmethod
    def from_params(
        cls, path: str | os.PathLike[str] | None = None, **overrides: Any
    ) -> MonitorConfig:
        """The ``monitor:`` section of a params file (if given), then ``overrides`` that are not
        None (command-line flags) on top. A ``tolerance`` flag sets the default and keeps the
        file's per-metric values.

        >>> MonitorConfig.from_params(None, min_rows=10, labels=None).min_rows
        10
        """
        from mlops_common.io import read_params_section

        data = read_params_section(path, "monitor") if path is not None else {}
        config = cls.from_dict(data)
        given = {key: value for key, value in overrides.items() if value is not None}
        if not given:
            return config
        values = {**asdict(config), **given}
        return cls(**values)

    def tolerance_for(self, metric: str) -> float:
        return float(self.per_metric.get(metric, self.tolerance))

    def to_dict(self) -> dict[str, Any]:
        tolerance: Any = self.tolerance
        if self.per_metric:
            tolerance = {"default": self.tolerance, **self.per_metric}
        return {
            "labels": self.labels,
            "tolerance": tolerance,
            "min_rows": self.min_rows,
            "target": self.target,
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- metrics (pure)


def _positive_label(labels: Sequence[Any]) -> Any | None:
    """1 (or True) when the labels are binary 0/1, as sklearn's f1 and roc_auc assume."""
    values = set(labels)
    if values <= {0, 1}:  # True == 1 and False == 0, so booleans land here too
        return 1
    return None


def classification_metrics(
    actual: Sequence[Any], predicted: Sequence[Any], probability: Sequence[float] | None = None
) -> dict[str, float | None]:
    """``accuracy``, ``f1`` (binary on label 1, macro-averaged for other labels) and
    ``roc_auc`` (only with ``probability`` of label 1, and both classes present), as
    sklearn computes them.

    >>> classification_metrics([1, 0, 1, 1], [1, 0, 0, 1], [0.9, 0.2, 0.4, 0.8])
    {'accuracy': 0.75, 'f1': 0.8, 'roc_auc': 1.0}
    """
    import numpy as np

    y = np.asarray(list(actual), dtype=object)
    p = np.asarray(list(predicted), dtype=object)
    if len(y) == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS)
    result: dict[str, float | None] = {"accuracy": float(np.mean(y == p))}
    positive = _positive_label([*y.tolist(), *p.tolist()])
    classes = [positive] if positive is not None else sorted(set(y.tolist()), key=str)
    scores = []
    for label in classes:
        tp = float(np.sum((p == label) & (y == label)))
        fp = float(np.sum((p == label) & (y != label)))
        fn = float(np.sum((p != label) & (y == label)))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    result["f1"] = float(np.mean(scores))
    result["roc_auc"] = None
    if probability is not None and positive is not None:
        result["roc_auc"] = _roc_auc(y == positive, np.asarray(probability, dtype=float))
    return result


def _roc_auc(is_positive: Any, scores: Any) -> float | None:
    """Mann-Whitney U over the scores' average ranks (ties count half), like sklearn."""
    import numpy as np
    from scipy.stats import rankdata

    keep = np.isfinite(scores)
    is_positive, scores = np.asarray(is_positive)[keep].astype(bool), scores[keep]
    n_pos = int(is_positive.sum())
    n_neg = len(scores) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def regression_metrics(actual: Sequence[float], predicted: Sequence[float]) -> dict[str, Any]:
    """``rmse``, ``mae`` and ``r2`` (None for a constant target), as sklearn computes them.

    >>> regression_metrics([3.0, 5.0, 7.0], [2.0, 5.0, 8.0])
    {'rmse': 0.816496580927726, 'mae': 0.6666666666666666, 'r2': 0.75}
    """
    import numpy as np

    y = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if len(y) == 0:
        return dict.fromkeys(REGRESSION_METRICS)
    error = y - p
    total = float(np.sum((y - y.mean()) ** 2))
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": None if total == 0 else float(1 - np.sum(error**2) / total),
    }


@dataclass
class MetricCheck:
    """One metric of the window against the champion's recorded value."""

    name: str
    current: float | None
    champion: float
    tolerance: float
    direction: str  # "higher" or "lower" is better
    #: How much worse than the champion (positive: worse), None when not computed.
    drop: float | None
    degraded: bool
    note: str = ""


def compare_metrics(
    current: Mapping[str, float | None],
    champion: Mapping[str, float],
    config: MonitorConfig,
) -> list[MetricCheck]:
    """A check per metric the champion recorded and the window has a value for (or a note why
    not): degraded when it is worse than the champion's by more than its tolerance."""
    checks = []
    for name, reference in champion.items():
        if name not in current:
            continue
        direction = "lower" if name in LOWER_IS_BETTER else "higher"
        tolerance = config.tolerance_for(name)
        value = current[name]
        if value is None:
            note = (
                f"no `{PROBABILITY_COLUMN}` column in the capture"
                if name == "roc_auc"
                else "not defined on this window"
            )
            unknown = MetricCheck(name, None, reference, tolerance, direction, None, False, note)
            checks.append(unknown)
            continue
        drop = (value - reference) if direction == "lower" else (reference - value)
        # A float rounding hair over the tolerance is not a degradation.
        degraded = drop > tolerance + 1e-12
        checks.append(MetricCheck(name, value, reference, tolerance, direction, drop, degraded))
    return checks


# ------------------------------------------------------------------------------- join (pure)


def join_labels(window: Any, labels: Any, target: str, *, labels_source: str = "labels") -> Any:
    """The captured rows that have a label: ``window`` (captured records with ``request_id``
    and ``prediction``) inner-joined with ``labels`` (``request_id``, ``target`` and, for
    requests of several records, ``row``: the record's 0-based position in its request).

    Returns the window's columns plus ``label``. Missing labels or predictions are dropped.
    """
    import pandas as pd

    for column in ("request_id", "prediction"):
        if column not in window.columns:
            raise InputError(
                f"window: no `{column}` column; pass the service's capture (mlops serve --capture)"
            )
    missing = [c for c in ("request_id", target) if c not in labels.columns]
    if missing:
        raise InputError(
            f"{labels_source}: missing column(s) {missing}; labels need `request_id` and the "
            f"target `{target}` (set monitor.target in params.yaml for another name)"
        )
    captured = window.copy()
    captured["request_id"] = captured["request_id"].astype(str)
    # Records keep their order within a request in the capture files.
    captured["row"] = captured.groupby("request_id", sort=False).cumcount()
    keys = ["request_id", "row"]
    given = labels[[c for c in ("request_id", "row", target) if c in labels.columns]].copy()
    given["request_id"] = given["request_id"].astype(str)
    if "row" not in given.columns:
        repeated = given["request_id"][given["request_id"].duplicated()]
        if len(repeated):
            raise InputError(
                f"{labels_source}: request_id {repeated.iloc[0]!r} has several labels; add a "
                "`row` column (the record's position in its request, from 0)"
            )
        batches = captured.loc[captured["row"] > 0, "request_id"]
        batched = set(batches) & set(given["request_id"])
        if batched:
            raise InputError(
                f"{labels_source}: request {sorted(batched)[0]!r} sent several records; add a "
                "`row` column (the record's position in its request, from 0)"
            )
        given["row"] = 0
    else:
        given["row"] = pd.to_numeric(given["row"], errors="coerce")
        if given["row"].isna().any() or (given["row"] < 0).any():
            raise InputError(f"{labels_source}: `row` must hold whole numbers from 0")
        given["row"] = given["row"].astype(int)
        if given.duplicated(keys).any():
            first = given.loc[given.duplicated(keys), keys].iloc[0].tolist()
            raise InputError(f"{labels_source}: two labels for request {first[0]!r} row {first[1]}")
    given = given.rename(columns={target: "label"})
    if "label" in captured.columns and target != "label":
        captured = captured.drop(columns=["label"])
    joined = captured.merge(given, on=keys, how="inner")
    return joined[joined["label"].notna() & joined["prediction"].notna()].reset_index(drop=True)


# ------------------------------------------------------------------------------- the report


@dataclass
class PerformanceReport(Result):
    """The window's metrics against the champion's; ``verdict`` decides the exit code."""

    model_uri: str
    model_version: str | None
    task: str
    window_source: str
    labels_source: str
    captured_rows: int
    labels_rows: int
    labelled_rows: int
    config: MonitorConfig
    checks: list[MetricCheck] = field(default_factory=list)
    #: Per day (UTC, from the capture timestamp): ``{"day", "rows", <metric>: value, ...}``.
    daily: list[dict[str, Any]] = field(default_factory=list)
    champion_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.labelled_rows < self.config.min_rows:
            return "insufficient data"
        return "degradation" if self.degraded_metrics else "no degradation"

    @property
    def degraded_metrics(self) -> list[str]:
        return [check.name for check in self.checks if check.degraded]

    @property
    def degradation_detected(self) -> bool:
        return self.verdict == "degradation"

    @property
    def exit_code(self) -> int:
        return EXIT_NEGATIVE if self.degradation_detected else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        from mlops_common.results import to_jsonable

        return to_jsonable(
            {
                "verdict": self.verdict,
                "degradation_detected": self.degradation_detected,
                "degraded_metrics": self.degraded_metrics,
                "model_uri": self.model_uri,
                "model_version": self.model_version,
                "task": self.task,
                "window_source": self.window_source,
                "labels_source": self.labels_source,
                "captured_rows": self.captured_rows,
                "labels_rows": self.labels_rows,
                "labelled_rows": self.labelled_rows,
                "config": self.config.to_dict(),
                "metrics": {check.name: asdict(check) for check in self.checks},
                "champion_metrics": self.champion_metrics,
                "daily": self.daily,
            }
        )

    def summary(self) -> str:
        coverage = (
            f"{self.labelled_rows} of {self.captured_rows} captured rows labelled "
            f"({self.window_source}; labels {self.labels_source})"
        )
        head = f"performance of {self.model_uri} (version {self.model_version}): {self.verdict}"
        if self.verdict == "insufficient data":
            return f"{head}: {coverage}, fewer than min_rows {self.config.min_rows}"
        lines = [f"{head}; {coverage}"]
        ordered = sorted(self.checks, key=lambda check: not check.degraded)
        for check in ordered:
            if check.current is None:
                lines.append(f"  {check.name}: not computed ({check.note})")
                continue
            mark = "DEGRADED" if check.degraded else "ok"
            lines.append(
                f"  {mark} {check.name} {check.current:.4f} vs champion {check.champion:.4f} "
                f"({'drop' if check.drop > 0 else 'gain'} {abs(check.drop):.4f}, "
                f"tolerance {check.tolerance:g}, {check.direction} is better)"
            )
        return "\n".join(lines)

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """One self-contained page (inline CSS and SVG): verdict, metrics, a plot per metric of
        its daily value against the champion's and the tolerance."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_render_html(self), encoding="utf-8")
        return target


def _render_html(report: PerformanceReport) -> str:
    from html import escape

    from mlops_common.monitoring.report import CSS, CUR_COLOR, REF_COLOR

    verdict_class = "drift" if report.degradation_detected else "ok"
    rows = []
    for check in report.checks:
        value = "&ndash;" if check.current is None else f"{check.current:.4f}"
        drop = "&ndash;" if check.drop is None else f"{check.drop:+.4f}"
        state = "not computed" if check.current is None else "ok"
        state = "degraded" if check.degraded else state
        note = f": {escape(check.note)}" if check.note else ""
        rows.append(
            f'<tr class="{"drift" if check.degraded else ""}"><td>{escape(check.name)}</td>'
            f'<td class="num">{value}</td><td class="num">{check.champion:.4f}</td>'
            f'<td class="num">{drop}</td><td class="num">{check.tolerance:g}</td>'
            f"<td>{check.direction}</td><td>{state}{note}</td></tr>"
        )
    legend = (
        f'<p class="legend"><span style="background:{CUR_COLOR}"></span>window (labelled rows '
        f'per day under each point)<span style="background:{REF_COLOR}"></span>champion'
        '<span style="background:#e02424"></span>bound: champion less its tolerance</p></div>'
    )
    plots = []
    for check in report.checks:
        points = [(day["day"], day.get(check.name), day["rows"]) for day in report.daily]
        points = [(d, v, n) for d, v, n in points if v is not None]
        if points:
            plots.append(
                f'<div class="column"><h3>{escape(check.name)} per day</h3>'
                + _daily_plot(check, points, CUR_COLOR, REF_COLOR)
                + legend
            )
    degraded = ""
    if report.degraded_metrics:
        degraded = f"; degraded: {escape(', '.join(report.degraded_metrics))}"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Model performance: {escape(report.model_uri)}</title><style>{CSS}</style></head>"
        f"<body><h1>Model performance</h1><p class='meta'>{escape(report.model_uri)} version "
        f"{escape(str(report.model_version))} &middot; {escape(report.task)} &middot; window "
        f"{escape(report.window_source)} &middot; labels {escape(report.labels_source)}</p>"
        f"<div class='verdict {verdict_class}'>{escape(report.verdict)}: "
        f"{report.labelled_rows} of {report.captured_rows} captured rows labelled "
        f"(min_rows {report.config.min_rows})"
        + degraded
        + "</div><table><tr><th>metric</th><th>window</th><th>champion</th><th>drop</th>"
        "<th>tolerance</th><th>better</th><th>state</th></tr>"
        + "".join(rows)
        + "</table>"
        + "".join(plots)
        + "</body></html>"
    )


def _daily_plot(
    check: MetricCheck,
    points: list[tuple[str, float, int]],
    value_color: str,
    champion_color: str,
    width: int = 720,
    height: int = 200,
) -> str:
    from html import escape

    left, right, top, bottom = 56, 16, 12, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    bound = (
        check.champion - check.tolerance
        if check.direction == "higher"
        else (check.champion + check.tolerance)
    )
    values = [v for _, v, _ in points] + [check.champion, bound]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 0.05
    low, high = low - pad, high + pad

    def y(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    step = plot_w / max(len(points), 1)
    xs = [left + step * (i + 0.5) for i in range(len(points))]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(check.name)} per day">'
    ]
    for frac in (0.0, 0.5, 1.0):
        value = low + (high - low) * frac
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{width - right}" y2="{y(value):.1f}" '
            f'stroke="#e4e7eb"/><text x="{left - 6}" y="{y(value) + 3:.1f}" '
            f'text-anchor="end">{value:.3g}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{y(check.champion):.1f}" x2="{width - right}" '
        f'y2="{y(check.champion):.1f}" stroke="{champion_color}" stroke-width="2"/>'
        f'<line x1="{left}" y1="{y(bound):.1f}" x2="{width - right}" y2="{y(bound):.1f}" '
        f'stroke="#e02424" stroke-dasharray="5,4"/>'
    )
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y(v):.1f}" for x, (_, v, _) in zip(xs, points, strict=True))
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{value_color}" stroke-width="2"/>'
        )
    for x, (day, value, rows) in zip(xs, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="4" fill="{value_color}">'
            f"<title>{escape(day)}: {value:.4f} over {rows} rows</title></circle>"
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(day)}</text>"
            f'<text x="{x:.1f}" y="{height - bottom + 30}" text-anchor="middle">n={rows}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- the I/O shell


def _task_of(champion: Mapping[str, float]) -> str:
    if any(name in champion for name in CLASSIFICATION_METRICS):
        return "classification"
    if any(name in champion for name in REGRESSION_METRICS):
        return "regression"
    raise InputError(
        f"the champion recorded none of {[*CLASSIFICATION_METRICS, *REGRESSION_METRICS]} "
        f"(it has {sorted(champion) or 'no metrics'}); register it through the evaluate and "
        "register stages, which record the test metrics"
    )


def _score(task: str, frame: Any) -> dict[str, float | None]:
    if task == "classification":
        probability = frame[PROBABILITY_COLUMN] if PROBABILITY_COLUMN in frame.columns else None
        return classification_metrics(
            _comparable(frame["label"]), _comparable(frame["prediction"]), probability
        )
    import pandas as pd

    actual = pd.to_numeric(frame["label"], errors="coerce")
    predicted = pd.to_numeric(frame["prediction"], errors="coerce")
    if actual.isna().any() or predicted.isna().any():
        raise InputError("labels or predictions are not numbers; a regression needs numbers")
    return regression_metrics(actual.tolist(), predicted.tolist())


def _comparable(values: Any) -> list[Any]:
    """Class labels compared as numbers when they all are (1 == 1.0), else as text."""
    import pandas as pd

    numeric = pd.to_numeric(values, errors="coerce")
    if not numeric.isna().any():
        return [int(v) if float(v).is_integer() else float(v) for v in numeric]
    return values.astype(str).tolist()


def champion_test_metrics(model_uri: str, *, tracking_uri: str | None = None) -> tuple[Any, dict]:
    """``(ModelVersion, metrics)``: the test metrics the version was gated with (its gate tag),
    else its run's ``test_<name>`` metrics."""
    from mlops_common import store
    from mlops_common.registry import recorded_metrics

    name, version, alias = store.parse_model_uri(model_uri)
    client = store.client(tracking_uri)
    found = store.model_version(client, name, version=version, alias=alias)
    return found, recorded_metrics(client, found)


def monitor_performance(
    model_uri: str,
    window: str,
    labels: str | None = None,
    *,
    since: str | None = None,
    config: MonitorConfig | None = None,
    tracking_uri: str | None = None,
) -> PerformanceReport:
    """Score the captured ``window`` (a capture folder, glob or URL, or one file; ``since``
    as in ``mlops drift``) against ``labels`` (CSV, Parquet or JSON lines, a path or URI) and
    compare with the champion's recorded test metrics.

    >>> report = monitor_performance(  # doctest: +SKIP
    ...     "models:/churn-model@champion", "s3://bucket/capture", "s3://bucket/labels.parquet",
    ...     since="7d", config=MonitorConfig.from_params("params.yaml"))
    >>> report.verdict, report.exit_code  # doctest: +SKIP
    ('no degradation', 0)
    """
    import pandas as pd

    from mlops_common import store
    from mlops_common.io import read_table
    from mlops_common.serving.capture import read_window

    store.parse_model_uri(model_uri)  # bad input first, before any store is reached
    config = config or MonitorConfig()
    labels = labels or config.labels
    if not labels:
        raise InputError(
            "no labels: pass --labels PATH_OR_URI or set monitor.labels in params.yaml"
        )
    found, champion = champion_test_metrics(model_uri, tracking_uri=tracking_uri)
    task = _task_of(champion)
    names = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    champion = {name: float(champion[name]) for name in names if name in champion}
    data, window_source = read_window(window, since=since)
    captured, _ = read_table(data, role="window")
    given, labels_source = read_table(labels, role="labels")
    joined = join_labels(captured, given, config.target, labels_source=labels_source)
    report = PerformanceReport(
        model_uri=model_uri,
        model_version=str(found.version),
        task=task,
        window_source=window_source,
        labels_source=labels_source,
        captured_rows=len(captured),
        labels_rows=len(given),
        labelled_rows=len(joined),
        config=config,
        champion_metrics=champion,
    )
    if len(joined) == 0:
        return report
    report.checks = compare_metrics(_score(task, joined), champion, config)
    if "timestamp" in joined.columns:
        days = pd.to_datetime(joined["timestamp"], utc=True, errors="coerce").dt.strftime(
            "%Y-%m-%d"
        )
        for day, part in joined.groupby(days, sort=True):
            scores = _score(task, part)
            report.daily.append({"day": day, "rows": len(part), **scores})
    return report
