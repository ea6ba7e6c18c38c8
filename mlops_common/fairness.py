"""The gate's optional fairness check: a metric per group of a sensitive column, and its gap.

Off unless ``params.yaml`` asks for it::

    gate:
      fairness:
        sensitive: [sex, region]   # columns of the evaluation data (need not be model features)
        metric: selection_rate     # one of METRICS
        max_gap: 0.1               # largest allowed difference between the best and worst group

:func:`measure_fairness` computes the metric for every group of each sensitive column with
fairlearn's ``MetricFrame`` (``between_groups`` difference) and says which columns exceed
``max_gap``; :func:`mlops_common.gate.evaluate_gate` turns that into checks, so a gap above
``max_gap`` blocks promotion, and the audit entry and the model card show it. Columns are
judged one at a time (each must stay within ``max_gap``). fairlearn is imported only here, when
a gate asks for fairness (``pip install 'mlops-common[fairness]'``); :class:`FairnessConfig` is
pure and validates ``params.yaml`` without it.

>>> config = FairnessConfig.from_dict({"sensitive": ["sex"], "metric": "accuracy", "max_gap": 0.1})
>>> report = measure_fairness([1, 0, 1, 1], [1, 0, 0, 1], {"sex": ["f", "f", "m", "m"]}, config)
>>> report.passed, report.columns[0].gap
(False, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_common.errors import ConfigError, EnvironmentProblem, InputError
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result

__all__ = [
    "METRICS",
    "ColumnFairness",
    "FairnessConfig",
    "FairnessReport",
    "measure_fairness",
]

#: Metric name -> (module, function): scored per group on (y_true, y_pred).
METRICS = {
    "accuracy": ("sklearn.metrics", "accuracy_score"),
    "balanced_accuracy": ("sklearn.metrics", "balanced_accuracy_score"),
    "precision": ("sklearn.metrics", "precision_score"),
    "recall": ("sklearn.metrics", "recall_score"),
    "f1": ("sklearn.metrics", "f1_score"),
    "selection_rate": ("fairlearn.metrics", "selection_rate"),
    "true_positive_rate": ("fairlearn.metrics", "true_positive_rate"),
    "false_positive_rate": ("fairlearn.metrics", "false_positive_rate"),
    "false_negative_rate": ("fairlearn.metrics", "false_negative_rate"),
    "true_negative_rate": ("fairlearn.metrics", "true_negative_rate"),
    "mean_prediction": ("fairlearn.metrics", "mean_prediction"),
    "mean_absolute_error": ("sklearn.metrics", "mean_absolute_error"),
}
_KEYS = ("sensitive", "metric", "max_gap")


@dataclass(frozen=True)
class FairnessConfig:
    """``gate.fairness`` of ``params.yaml``: sensitive columns, a metric and the largest gap."""

    sensitive: tuple[str, ...]
    metric: str = "selection_rate"
    max_gap: float = 0.1

    @classmethod
    def from_dict(cls, data: Any) -> FairnessConfig | None:
        """Validate ``gate.fairness``; None (or an empty mapping) means "no fairness check".

        >>> FairnessConfig.from_dict({"sensitive": "sex"}).sensitive
        ('sex',)
        """
        where = "params.yaml gate.fairness"
        if data is None or data == {}:
            return None
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{where}: expected a mapping like {{sensitive: [sex], max_gap: 0.1}}"
            )
        unknown = sorted(set(map(str, data)) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: sensitive, metric, max_gap"
            )
        sensitive = data.get("sensitive")
        if isinstance(sensitive, str):
            sensitive = [sensitive]
        if (
            not sensitive
            or not isinstance(sensitive, (list, tuple))
            or not all(isinstance(column, str) and column for column in sensitive)
        ):
            raise ConfigError(f"{where}.sensitive: give the column name(s), e.g. [sex, region]")
        metric = data.get("metric", "selection_rate")
        if metric not in METRICS:
            raise ConfigError(
                f"{where}.metric: {metric!r} is not one of {', '.join(sorted(METRICS))}"
            )
        gap = data.get("max_gap", 0.1)
        if isinstance(gap, bool) or not isinstance(gap, (int, float)) or math.isnan(gap) or gap < 0:
            raise ConfigError(f"{where}.max_gap: expected a number >= 0, got {gap!r}")
        return cls(sensitive=tuple(sensitive), metric=str(metric), max_gap=float(gap))

    def to_dict(self) -> dict[str, Any]:
        return {"sensitive": list(self.sensitive), "metric": self.metric, "max_gap": self.max_gap}


@dataclass(frozen=True)
class ColumnFairness:
    """The metric per group of one sensitive column, and the gap between the extremes."""

    column: str
    groups: dict[str, float]
    counts: dict[str, int]
    gap: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "groups": self.groups,
            "counts": self.counts,
            "gap": self.gap,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class FairnessReport(Result):
    """What :func:`measure_fairness` found; ``exit_code`` is 1 when a gap exceeds ``max_gap``."""

    metric: str
    max_gap: float
    columns: list[ColumnFairness] = field(default_factory=list)
    overall: float | None = None

    @property
    def passed(self) -> bool:
        return all(column.passed for column in self.columns)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_NEGATIVE

    def summary(self) -> str:
        lines = [
            f"fairness ({self.metric}, max gap {self.max_gap:g}): "
            + ("within" if self.passed else "EXCEEDED")
        ]
        for column in sorted(self.columns, key=lambda c: c.passed):  # failures first
            groups = ", ".join(f"{name} {value:.3g}" for name, value in column.groups.items())
            verdict = "ok" if column.passed else "EXCEEDS"
            lines.append(f"  - {column.column}: gap {column.gap:.3g} {verdict} ({groups})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "max_gap": self.max_gap,
            "overall": self.overall,
            "passed": self.passed,
            "columns": [column.to_dict() for column in self.columns],
        }


def _metric_function(name: str) -> Any:
    import importlib

    module, function = METRICS[name]
    return getattr(importlib.import_module(module), function)


def measure_fairness(
    y_true: Any, y_pred: Any, sensitive: Any, config: FairnessConfig
) -> FairnessReport:
    """Score ``config.metric`` per group of each column of ``config.sensitive``.

    ``sensitive`` is a DataFrame (or a mapping of column -> values) holding at least those
    columns, row-aligned with ``y_true`` and ``y_pred``. Missing values form their own group.
    """
    try:
        from fairlearn.metrics import MetricFrame, count
    except ImportError as exc:
        raise EnvironmentProblem(
            "gate.fairness needs fairlearn, which is not installed; fix: "
            "pip install 'mlops-common[fairness]' (or add fairlearn to the project)"
        ) from exc
    import pandas as pd

    frame = sensitive if isinstance(sensitive, pd.DataFrame) else pd.DataFrame(dict(sensitive))
    missing = [column for column in config.sensitive if column not in frame.columns]
    if missing:
        raise InputError(
            f"gate.fairness.sensitive: column(s) {', '.join(missing)} not in the evaluation data "
            f"(columns: {', '.join(map(str, frame.columns[:20]))}); fix params.yaml or keep the "
            "column in the test data"
        )
    truth, predicted = pd.Series(list(y_true)), pd.Series(list(y_pred))
    if not (len(truth) == len(predicted) == len(frame)):
        raise InputError(
            f"fairness: {len(truth)} labels, {len(predicted)} predictions and {len(frame)} rows "
            "of sensitive data; they must be the same rows"
        )
    metric = _metric_function(config.metric)
    columns, overall = [], None
    for name in config.sensitive:
        groups = (
            frame[name]
            .reset_index(drop=True)
            .astype("object")
            .where(frame[name].notna(), "<missing>")
        )
        result = MetricFrame(
            metrics={"value": metric, "count": count},
            y_true=truth,
            y_pred=predicted,
            sensitive_features=groups.astype(str).rename(name),
        )
        gap = float(result.difference(method="between_groups")["value"])
        overall = float(result.overall["value"])
        by_group = result.by_group
        columns.append(
            ColumnFairness(
                column=name,
                groups={str(k): float(v) for k, v in by_group["value"].items()},
                counts={str(k): int(v) for k, v in by_group["count"].items()},
                gap=gap,
                passed=gap <= config.max_gap or math.isclose(gap, config.max_gap, abs_tol=1e-12),
            )
        )
    return FairnessReport(
        metric=config.metric, max_gap=config.max_gap, columns=columns, overall=overall
    )
