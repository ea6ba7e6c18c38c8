"""The promotion gate, pure: rules from ``params.yaml``, checks, and the decision.

No registry access and no MLflow import: :func:`evaluate_gate` takes the candidate's and the
champion's metrics as plain mappings and returns a :class:`GateDecision`;
:func:`mlops_common.registry.promote` fetches those metrics, calls it and records the verdict.

The gate lives in ``params.yaml``::

    gate:
      metrics:
        accuracy: {min: 0.85, direction: higher, margin: 0.0}
        rmse: {max: 60.0, direction: lower, margin: 0.5}

For each metric (all keys optional, at least one of ``min``/``max``/``direction``):

- ``min`` / ``max``: absolute thresholds, inclusive (``accuracy >= 0.85``, ``rmse <= 60``).
- ``direction``: ``higher`` or ``lower`` is better; compares the candidate with the current
  champion. The candidate may not fall behind the champion by more than ``margin``:
  ``candidate >= champion - margin`` (higher) or ``candidate <= champion + margin`` (lower),
  within float rounding. ``margin: 0`` (the default) means "no worse than the champion". The
  comparison is skipped (and said so in the reasons) when there is no champion yet or the
  champion has no value for it.
- Ties: a candidate equal to the champion on every compared metric keeps the champion (so each
  ``dvc repro -f`` does not crown an identical copy). ``ties: promote`` at the gate level lets a
  tie replace the champion instead::

      gate:
        ties: keep        # keep (default) or promote
        metrics: ...

- Approval: ``approval: required`` makes a passing candidate wait under the alias
  ``awaiting-approval`` until a person runs ``mlops approve VERSION --reason ...`` (which
  re-checks it against the champion of that moment) or ``mlops reject``; ``approval: none`` (the
  default) promotes it at once.
- Fairness (optional, off by default): ``fairness: {sensitive: [sex], metric: selection_rate,
  max_gap: 0.1}`` fails the gate when the metric differs between the groups of a sensitive column
  by more than ``max_gap`` (measured by :func:`mlops_common.fairness.measure_fairness` and passed
  in as ``fairness``); a gate that asks for fairness and gets no measurement fails.
- A metric named in the gate but missing (or NaN) in the candidate's metrics fails the gate.
- A candidate whose data failed validation never passes, whatever its metrics.

>>> gate = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}})
>>> decision = evaluate_gate({"accuracy": 0.9}, {"accuracy": 0.88}, gate, validation_passed=True)
>>> decision.passed, decision.exit_code
(True, 0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mlops_common.errors import ConfigError
from mlops_common.fairness import FairnessConfig
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result

__all__ = [
    "APPROVALS",
    "AWAITING_APPROVAL",
    "CHALLENGER",
    "CHAMPION",
    "GateCheck",
    "GateConfig",
    "GateDecision",
    "MetricRule",
    "evaluate_gate",
]

#: The registry alias of the model that serves.
CHAMPION = "champion"
#: The registry alias of the last version the gate considered.
CHALLENGER = "challenger"
#: The registry alias of a version that passed the gate and waits for a person's approval.
AWAITING_APPROVAL = "awaiting-approval"
#: Values of ``gate.approval``: promote at once, or wait for ``mlops approve``.
APPROVALS = ("none", "required")

_RULE_KEYS = ("min", "max", "direction", "margin")
_GATE_KEYS = ("metrics", "ties", "approval", "fairness")
_TIES = ("keep", "promote")
_DIRECTIONS = ("higher", "lower")


# ----------------------------------------------------------------------------------- gate config


@dataclass(frozen=True)
class MetricRule:
    """The gate's rule for one metric (see the module docstring for the semantics)."""

    name: str
    min: float | None = None
    max: float | None = None
    direction: str | None = None
    margin: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "name"}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _known_keys_only(data: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(map(str, data)) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )


@dataclass(frozen=True)
class GateConfig:
    """Per-metric promotion rules, usually ``GateConfig.from_dict(params["gate"])``."""

    metrics: dict[str, MetricRule] = field(default_factory=dict)
    ties: str = "keep"
    approval: str = "none"
    fairness: FairnessConfig | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> GateConfig:
        """Validate and read the ``gate`` section of ``params.yaml``.

        >>> GateConfig.from_dict({"metrics": {"rmse": {"max": 60}}}).metrics["rmse"].max
        60.0
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigError(f"params.yaml gate: expected a mapping with `metrics`, got {data!r}")
        _known_keys_only(data, _GATE_KEYS, "params.yaml gate")
        ties = data.get("ties", "keep")
        if ties not in _TIES:
            raise ConfigError(f"params.yaml gate.ties: {ties!r} is not `keep` or `promote`")
        approval = data.get("approval", "none")
        if approval not in APPROVALS:
            raise ConfigError(
                f"params.yaml gate.approval: {approval!r} is not `none` or `required`"
            )
        metrics = data.get("metrics") or {}
        if not isinstance(metrics, Mapping):
            raise ConfigError("params.yaml gate.metrics: expected a mapping of metric -> rule")
        rules = {}
        for name, raw in metrics.items():
            rules[str(name)] = cls._rule(str(name), raw)
        fairness = FairnessConfig.from_dict(data.get("fairness"))
        return cls(metrics=rules, ties=ties, approval=approval, fairness=fairness)

    @staticmethod
    def _rule(name: str, raw: Any) -> MetricRule:
        where = f"params.yaml gate.metrics.{name}"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping like {{min: 0.8, direction: higher}}")
        _known_keys_only(raw, _RULE_KEYS, where)
        direction = raw.get("direction")
        if direction is not None and direction not in _DIRECTIONS:
            raise ConfigError(f"{where}.direction: {direction!r} is not `higher` or `lower`")
        low = None if raw.get("min") is None else _number(raw["min"], f"{where}.min")
        high = None if raw.get("max") is None else _number(raw["max"], f"{where}.max")
        margin = _number(raw.get("margin", 0.0), f"{where}.margin")
        if margin < 0:
            raise ConfigError(f"{where}.margin: {margin:g} is negative; use 0 or more")
        if margin and direction is None:
            raise ConfigError(f"{where}: margin needs a direction (higher or lower)")
        if low is None and high is None and direction is None:
            raise ConfigError(f"{where}: give at least one of min, max or direction")
        if low is not None and high is not None and low > high:
            raise ConfigError(f"{where}: min {low:g} is above max {high:g}")
        return MetricRule(name=name, min=low, max=high, direction=direction, margin=margin)

    def to_dict(self) -> dict[str, Any]:
        metrics = {name: rule.to_dict() for name, rule in self.metrics.items()}
        fairness = None if self.fairness is None else self.fairness.to_dict()
        return {
            "metrics": metrics,
            "ties": self.ties,
            "approval": self.approval,
            "fairness": fairness,
        }


# -------------------------------------------------------------------------------- gate decision


@dataclass(frozen=True)
class GateCheck:
    """One comparison the gate made; ``passed`` is None when it was skipped."""

    metric: str
    kind: str  # "min", "max", "champion", "tie", "validation", "present", "fairness"
    passed: bool | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GateDecision(Result):
    """The gate's verdict on a candidate; ``exit_code`` is 1 when the gate refused it.

    ``reasons`` are the failed checks when the gate refused, and every check (passed or skipped)
    when it passed; ``checks`` always has them all. ``promoted`` is True only once
    :func:`mlops_common.registry.promote` (or ``approve``) moved ``champion`` to it
    (:func:`evaluate_gate` alone never promotes). ``outcome`` is what the registry recorded
    (:data:`mlops_common.audit.OUTCOMES`) and ``audit_entry`` the id of its audit-trail run.
    """

    passed: bool
    reasons: list[str]
    checks: list[GateCheck]
    candidate_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    gate: dict[str, Any]
    validation_passed: bool
    model_name: str | None = None
    version: str | None = None
    champion_version: str | None = None
    fairness: dict[str, Any] | None = None
    promoted: bool = False
    decided_by: str | None = None
    decided_at: str | None = None
    outcome: str | None = None
    approver: str | None = None
    review_reason: str = ""
    audit_entry: str | None = None

    @property
    def failures(self) -> list[str]:
        return [check.message for check in self.checks if check.passed is False]

    def summary(self) -> str:
        """A few lines for humans: the verdict first, then one line per check."""
        who = f"{self.model_name} v{self.version}" if self.model_name else "candidate"
        was = f"v{self.champion_version}" if self.champion_version else "none"
        if self.promoted and self.outcome == "approved":
            head = f"{who}: approved by {self.approver}, promoted to {CHAMPION} (previous: {was})"
        elif self.promoted:
            head = f"{who}: promoted to {CHAMPION} (previous champion: {was})"
        elif self.outcome == "awaiting-approval":
            head = (
                f"{who}: passed the gate, awaits approval as {AWAITING_APPROVAL} (champion: "
                f"{was}); `mlops approve {self.version} --reason ...` or `mlops reject`"
            )
        elif self.passed:
            head = f"{who}: passed the gate"
        else:
            head = f"{who}: NOT promoted, stays {CHALLENGER} (champion: {was})"
        return "\n".join([head, *(f"  - {reason}" for reason in self.reasons)])

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_NEGATIVE

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["failures"] = self.failures
        return data


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def evaluate_gate(
    candidate_metrics: Mapping[str, Any],
    champion_metrics: Mapping[str, Any] | None,
    config: GateConfig,
    *,
    validation_passed: bool,
    fairness: Any = None,
) -> GateDecision:
    """Apply ``config`` to the candidate (pure: no registry access).

    ``champion_metrics`` is None when there is no champion. Fails when validation failed, whatever
    the metrics. ``fairness`` is the candidate's :class:`~mlops_common.fairness.FairnessReport`
    (or its ``to_dict()``), judged only when ``config.fairness`` is set.

    >>> gate = GateConfig.from_dict({"metrics": {"rmse": {"max": 60}}})
    >>> evaluate_gate({"rmse": 72.0}, None, gate, validation_passed=True).reasons
    ['rmse 72 is above max 60']
    """
    checks: list[GateCheck] = []
    if not validation_passed:
        checks.append(GateCheck("", "validation", False, "data validation failed: never promoted"))
    candidate = {str(k): v for k, v in candidate_metrics.items()}
    champion = None if champion_metrics is None else dict(champion_metrics)
    for name, rule in config.metrics.items():
        value = candidate.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            checks.append(
                GateCheck(name, "present", False, f"{name} missing from the candidate's metrics")
            )
            continue
        value = float(value)
        if rule.min is not None:
            ok = value >= rule.min or _close(value, rule.min)
            word = "is at least" if ok else "is below"
            checks.append(
                GateCheck(name, "min", ok, f"{name} {_fmt(value)} {word} min {_fmt(rule.min)}")
            )
        if rule.max is not None:
            ok = value <= rule.max or _close(value, rule.max)
            word = "is at most" if ok else "is above"
            checks.append(
                GateCheck(name, "max", ok, f"{name} {_fmt(value)} {word} max {_fmt(rule.max)}")
            )
        if rule.direction is not None:
            checks.append(_champion_check(name, value, rule, champion))
    measured = fairness.to_dict() if hasattr(fairness, "to_dict") else fairness
    if config.fairness is not None:
        checks.extend(_fairness_checks(config.fairness, measured))
    compared = [check for check in checks if check.kind == "champion" and check.passed is not None]
    tie = compared and all(_tied(check.metric, candidate, champion) for check in compared)
    if tie and config.ties == "keep":
        checks.append(
            GateCheck(
                "",
                "tie",
                False,
                "ties the champion on every compared metric: champion kept (gate.ties: keep)",
            )
        )
    if not config.metrics and validation_passed:
        checks.append(
            GateCheck("", "present", None, "gate has no metric rules: nothing to compare")
        )
    passed = all(check.passed is not False for check in checks)
    failed = [check.message for check in checks if check.passed is False]
    reasons = failed if not passed else [check.message for check in checks]
    return GateDecision(
        passed=passed,
        reasons=reasons,
        checks=checks,
        candidate_metrics={k: float(v) for k, v in candidate.items() if _is_number(v)},
        champion_metrics=None
        if champion is None
        else {k: float(v) for k, v in champion.items() if _is_number(v)},
        gate=config.to_dict(),
        validation_passed=validation_passed,
        fairness=None if measured is None else dict(measured),
    )


def _fairness_checks(rule: FairnessConfig, measured: Mapping[str, Any] | None) -> list[GateCheck]:
    """One check per sensitive column, judged against the gate's ``max_gap`` of today."""
    if not measured:
        return [
            GateCheck(
                "",
                "fairness",
                False,
                "gate.fairness is set but no fairness was measured for this candidate",
            )
        ]
    if measured.get("metric") != rule.metric:
        return [
            GateCheck(
                "",
                "fairness",
                False,
                f"fairness was measured with {measured.get('metric')}, the gate asks for "
                f"{rule.metric}: measure it again",
            )
        ]
    by_column = {str(c.get("column")): c for c in measured.get("columns") or ()}
    checks = []
    for column in rule.sensitive:
        found = by_column.get(column)
        gap = None if found is None else found.get("gap")
        if not _is_number(gap) or math.isnan(gap):
            checks.append(
                GateCheck(column, "fairness", False, f"fairness: no {rule.metric} gap for {column}")
            )
            continue
        groups = ", ".join(f"{k} {_fmt(float(v))}" for k, v in (found.get("groups") or {}).items())
        ok = gap <= rule.max_gap or _close(gap, rule.max_gap)
        verdict = "is within" if ok else "exceeds"
        checks.append(
            GateCheck(
                column,
                "fairness",
                ok,
                f"fairness: {rule.metric} gap {_fmt(gap)} between groups of {column} {verdict} "
                f"max_gap {_fmt(rule.max_gap)} ({groups})",
            )
        )
    return checks


def _tied(name: str, candidate: Mapping[str, Any], champion: Mapping[str, Any] | None) -> bool:
    return champion is not None and _close(float(candidate[name]), float(champion[name]))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _champion_check(
    name: str, value: float, rule: MetricRule, champion: dict[str, Any] | None
) -> GateCheck:
    if champion is None:
        return GateCheck(name, "champion", None, f"{name}: no champion yet, comparison skipped")
    reference = champion.get(name)
    if not _is_number(reference) or math.isnan(reference):
        return GateCheck(
            name, "champion", None, f"{name}: champion has no value, comparison skipped"
        )
    reference = float(reference)
    # How far the candidate falls behind the champion (negative when it is better).
    behind = reference - value if rule.direction == "higher" else value - reference
    ok = behind <= rule.margin or _close(behind, rule.margin)
    better = "higher" if rule.direction == "higher" else "lower"
    allowed = f"may fall behind by {_fmt(rule.margin)}" if rule.margin else "may not fall behind"
    verdict = "keeps up with" if ok else "falls behind"
    return GateCheck(
        name,
        "champion",
        ok,
        f"{name} {_fmt(value)} {verdict} champion {_fmt(reference)} ({better} is better, "
        f"{allowed})",
    )
