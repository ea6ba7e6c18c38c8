"""Model registry: register a version, gate its promotion to ``champion``, roll back.

Two aliases tell where a model stands: ``challenger`` is the last version that was considered,
``champion`` the one that serves. :func:`promote` always moves ``challenger`` to the candidate and
moves ``champion`` only when the gate passes; a version whose data failed validation is never
promoted. Every decision is written as model-version tags (``mlops.gate.*``), an audit trail that
says what was decided, why, by whom, when, on which metrics, under which gate, and which version
was champion before, so :func:`rollback` can undo it.

The gate lives in ``params.yaml``::

    gate:
      metrics:
        accuracy: {min: 0.85, direction: higher, margin: 0.0}
        rmse: {max: 60.0, direction: lower, margin: 0.5}

For each metric (all keys optional, at least one of ``min``/``max``/``direction``):

- ``min`` / ``max``: absolute thresholds, inclusive (``accuracy >= 0.85``, ``rmse <= 60``).
- ``direction``: ``higher`` or ``lower`` is better; compares the candidate with the current
  champion. The candidate must beat the champion by at least ``margin`` in that direction:
  ``candidate >= champion + margin`` (higher) or ``candidate <= champion - margin`` (lower),
  within float rounding. With ``margin: 0`` (the default) a tie passes, so retraining on the same
  data can replace the champion; with ``margin > 0`` a tie fails. The comparison is skipped (and
  said so in the reasons) when there is no champion yet or the champion has no value for it.
- A metric named in the gate but missing (or NaN) in the candidate's metrics fails the gate.

>>> gate = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}})
>>> decision = evaluate_gate({"accuracy": 0.9}, {"accuracy": 0.88}, gate, validation_passed=True)
>>> decision.passed
True
"""

from __future__ import annotations

import getpass
import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from mlops_common import store, tags
from mlops_common.errors import ConfigError, RegistryError

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GateCheck",
    "GateConfig",
    "GateDecision",
    "MetricRule",
    "RollbackResult",
    "champion_version",
    "evaluate_gate",
    "promote",
    "register_model",
    "rollback",
    "validation_status",
]

CHAMPION = "champion"
CHALLENGER = "challenger"

_RULE_KEYS = ("min", "max", "direction", "margin")
_DIRECTIONS = ("higher", "lower")
_MAX_TAG_VALUE = 5000  # the smallest model-version tag limit across MLflow 2.x and 3.x


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


@dataclass(frozen=True)
class GateConfig:
    """Per-metric promotion rules, usually ``GateConfig.from_dict(params["gate"])``."""

    metrics: dict[str, MetricRule] = field(default_factory=dict)

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
        unknown = sorted(set(data) - {"metrics"})
        if unknown:
            raise ConfigError(
                f"params.yaml gate: unknown key(s) {', '.join(map(str, unknown))}; "
                f"only `metrics` is allowed"
            )
        metrics = data.get("metrics") or {}
        if not isinstance(metrics, Mapping):
            raise ConfigError("params.yaml gate.metrics: expected a mapping of metric -> rule")
        rules = {}
        for name, raw in metrics.items():
            rules[str(name)] = cls._rule(str(name), raw)
        return cls(metrics=rules)

    @staticmethod
    def _rule(name: str, raw: Any) -> MetricRule:
        where = f"params.yaml gate.metrics.{name}"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping like {{min: 0.8, direction: higher}}")
        unknown = sorted(set(map(str, raw)) - set(_RULE_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_RULE_KEYS)}"
            )
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
        return {"metrics": {name: rule.to_dict() for name, rule in self.metrics.items()}}


# -------------------------------------------------------------------------------- gate decision


@dataclass(frozen=True)
class GateCheck:
    """One comparison the gate made; ``passed`` is None when it was skipped."""

    metric: str
    kind: str  # "min", "max", "champion", "validation", "present"
    passed: bool | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GateDecision:
    """The gate's verdict on a candidate.

    ``reasons`` are the failed checks when the gate refused, and every check (passed or skipped)
    when it passed; ``checks`` always has them all. ``promoted`` is True only once
    :func:`promote` moved ``champion`` to it (:func:`evaluate_gate` alone never promotes).
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
    promoted: bool = False
    decided_by: str | None = None
    decided_at: str | None = None

    @property
    def failures(self) -> list[str]:
        return [check.message for check in self.checks if check.passed is False]

    def summary(self) -> str:
        """A few lines for humans: the verdict first, then one line per check."""
        who = f"{self.model_name} v{self.version}" if self.model_name else "candidate"
        was = f"v{self.champion_version}" if self.champion_version else "none"
        if self.promoted:
            head = f"{who}: promoted to {CHAMPION} (previous champion: {was})"
        elif self.passed:
            head = f"{who}: passed the gate"
        else:
            head = f"{who}: NOT promoted, stays {CHALLENGER} (champion: {was})"
        return "\n".join([head, *(f"  - {reason}" for reason in self.reasons)])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
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
) -> GateDecision:
    """Apply ``config`` to the candidate (pure: no registry access).

    ``champion_metrics`` is None when there is no champion. Fails when validation failed, whatever
    the metrics.

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
    )


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
    gain = value - reference if rule.direction == "higher" else reference - value
    ok = gain >= rule.margin or _close(gain, rule.margin)
    better = "higher" if rule.direction == "higher" else "lower"
    need = f"by at least {_fmt(rule.margin)}" if rule.margin else "or equal"
    verdict = "beats" if ok else "does not beat"
    return GateCheck(
        name,
        "champion",
        ok,
        f"{name} {_fmt(value)} {verdict} champion {_fmt(reference)} ({better} is better, {need})",
    )


# ------------------------------------------------------------------------------ registry access


def _who() -> str:
    for variable in ("GITLAB_USER_LOGIN", "GITHUB_ACTOR"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)[:_MAX_TAG_VALUE]


def _model(client: Any, model_name: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(model_name)
    except MlflowException as exc:
        raise RegistryError(
            f"registered model {model_name!r} not found at {client.tracking_uri}; "
            f"train and register it first, or check [tool.mlops] model_name"
        ) from exc


def _version(client: Any, model_name: str, version: str) -> Any:
    _model(client, model_name)
    return store.model_version(client, model_name, version=version)


def _alias_version(client: Any, model_name: str, alias: str) -> Any | None:
    return store.model_version(client, model_name, alias=alias, required=False)


def champion_version(model_name: str, tracking_uri: str | None = None) -> str | None:
    """The version behind the ``champion`` alias, or None when there is none.

    >>> champion_version("churn-model")  # doctest: +SKIP
    '3'
    """
    version = _alias_version(store.client(tracking_uri), model_name, CHAMPION)
    return None if version is None else str(version.version)


def validation_status(
    model_name: str, version: str | int, tracking_uri: str | None = None
) -> bool | None:
    """Whether the data of ``version``'s training run passed validation (the
    ``mlops.validation.success`` tag that :func:`mlops_common.tracking.tracked_run` sets);
    None when the run recorded no validation.

    >>> validation_status("churn-model", "4")  # doctest: +SKIP
    True
    """
    from mlflow.exceptions import MlflowException

    client = store.client(tracking_uri)
    model_version = _version(client, model_name, str(version))
    if not model_version.run_id:
        return None
    try:
        tag = client.get_run(model_version.run_id).data.tags.get(tags.VALIDATION_SUCCESS)
    except MlflowException:
        return None
    return None if tag is None else tag == "true"


def _version_metrics(client: Any, model_version: Any) -> dict[str, float]:
    """The metrics a version was gated with (its audit tag), else its run's metrics."""
    recorded = (model_version.tags or {}).get(tags.GATE_CANDIDATE_METRICS)
    if recorded:
        try:
            metrics = json.loads(recorded)
            if isinstance(metrics, dict):
                return {k: float(v) for k, v in metrics.items() if _is_number(v)}
        except json.JSONDecodeError:
            pass
    if model_version.run_id:
        from mlflow.exceptions import MlflowException

        try:
            return dict(client.get_run(model_version.run_id).data.metrics)
        except MlflowException:
            return {}
    return {}


def register_model(
    run_id: str,
    model_name: str,
    artifact_path: str = "model",
    *,
    model_uri: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Register the model logged as ``artifact_path`` in run ``run_id``; returns the version.

    ``model_uri`` (``ModelInfo.model_uri`` from :func:`mlops_common.tracking.log_model`) takes
    precedence when given.

    >>> register_model(run.info.run_id, "churn-model")  # doctest: +SKIP
    '4'
    """
    from mlflow.exceptions import MlflowException

    client = store.client(tracking_uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise RegistryError(
            f"run {run_id} not found at {client.tracking_uri}; pass the id of "
            f"the training run (see the MLflow UI or `mlflow runs list`)"
        ) from exc
    source, model_id = model_uri, None
    if source is None:
        source, model_id = _logged_model_source(client, run, artifact_path)
    elif source.startswith("models:/m-"):
        model_id = source.split("/", 1)[1].strip("/")
    if model_id:
        # Register from the logged model's own artifact location: given a `models:/m-...` source,
        # MLflow looks the model up through the process-wide tracking URI, not this client's.
        try:
            source = client.get_logged_model(model_id).artifact_location
        except MlflowException as exc:
            raise RegistryError(
                f"logged model {model_id} not found at {client.tracking_uri}; pass the "
                f"model_uri that log_model returned in this store"
            ) from exc
    try:
        try:
            client.create_registered_model(model_name)
        except MlflowException as exc:
            if "ALREADY_EXISTS" not in str(exc.error_code):
                raise
        kwargs = {"model_id": model_id} if model_id else {}
        version = client.create_model_version(
            model_name, source, run_id=run_id, tags={tags.RUN_ID: run_id}, **kwargs
        )
    except MlflowException as exc:
        raise RegistryError(
            f"cannot register {source} as {model_name!r}: {exc.message}; check the model name "
            f"and that the run logged a model at {artifact_path!r}"
        ) from exc
    return str(version.version)


def _logged_model_source(client: Any, run: Any, artifact_path: str) -> tuple[str, str | None]:
    """MLflow 3 stores models outside the run (``models:/<id>``); MLflow 2 under the run."""
    outputs = getattr(run, "outputs", None)
    model_outputs = list(getattr(outputs, "model_outputs", None) or [])
    candidates = []
    for output in model_outputs:
        logged = client.get_logged_model(output.model_id)
        if logged.name == artifact_path:
            candidates.append((output.step, output.model_id))
    if candidates:
        model_id = max(candidates)[1]
        return f"models:/{model_id}", model_id
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    if artifact_path in artifacts:
        return f"{run.info.artifact_uri.rstrip('/')}/{artifact_path}", None
    raise RegistryError(
        f"run {run.info.run_id} logged no model named {artifact_path!r}; log one with "
        f"mlops_common.tracking.log_model(..., name={artifact_path!r})"
    )


# -------------------------------------------------------------------------------- promote


def promote(
    model_name: str,
    version: str | int,
    metrics: Mapping[str, Any] | None,
    gate: GateConfig | Mapping[str, Any],
    *,
    validation_passed: bool,
    tracking_uri: str | None = None,
) -> GateDecision:
    """Gate ``version`` against the thresholds and the current champion, and record the decision.

    Always sets ``challenger`` on the candidate; sets ``champion`` only when the gate passes
    (never when ``validation_passed`` is False). ``metrics`` None means the candidate run's metrics.
    The decision is written as ``mlops.gate.*`` tags on the candidate version.

    >>> decision = promote("churn-model", "4", {"accuracy": 0.91}, gate,
    ...                    validation_passed=True)  # doctest: +SKIP
    >>> decision.promoted, decision.champion_version  # doctest: +SKIP
    (True, '3')
    """
    config = gate if isinstance(gate, GateConfig) else GateConfig.from_dict(gate)
    client = store.client(tracking_uri)
    version = str(version)
    candidate = _version(client, model_name, version)
    if metrics is None:
        metrics = _version_metrics(client, candidate)
    current = _alias_version(client, model_name, CHAMPION)
    current_version = None if current is None else str(current.version)
    champion_metrics = None
    if current is not None and current_version != version:
        champion_metrics = _version_metrics(client, current)
    decision = evaluate_gate(metrics, champion_metrics, config, validation_passed=validation_passed)
    decision.model_name = model_name
    decision.version = version
    decision.champion_version = current_version
    decision.decided_by = _who()
    decision.decided_at = _now()

    client.set_registered_model_alias(model_name, CHALLENGER, version)
    if decision.passed:
        client.set_registered_model_alias(model_name, CHAMPION, version)
        decision.promoted = True
    audit = {
        tags.GATE_DECISION: "promoted" if decision.promoted else "rejected",
        tags.GATE_REASONS: _json(decision.reasons),
        tags.GATE_BY: decision.decided_by,
        tags.GATE_AT: decision.decided_at,
        tags.GATE_CANDIDATE_METRICS: _json(decision.candidate_metrics),
        tags.GATE_CHAMPION_METRICS: _json(decision.champion_metrics),
        tags.GATE_CONFIG: _json(decision.gate),
        tags.GATE_VALIDATION: str(validation_passed).lower(),
        tags.GATE_PREVIOUS_CHAMPION: current_version or "",
    }
    for key, value in audit.items():
        client.set_model_version_tag(model_name, version, key, value)
    return decision


# ------------------------------------------------------------------------------------ rollback


@dataclass(frozen=True)
class RollbackResult:
    """Where ``champion`` was and where it is now."""

    model_name: str
    from_version: str | None
    to_version: str
    by: str
    at: str

    def summary(self) -> str:
        was = f"v{self.from_version}" if self.from_version else "no champion"
        return f"{self.model_name}: {CHAMPION} moved from {was} back to v{self.to_version}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rollback(
    model_name: str, to_version: str | int | None = None, tracking_uri: str | None = None
) -> RollbackResult:
    """Move ``champion`` to ``to_version``, or to the champion before the current one.

    The previous champion comes from the current champion's ``mlops.gate.previous_champion`` tag,
    so repeated rollbacks walk back through the promotion history. Refuses a version whose data
    failed validation.

    >>> rollback("churn-model").summary()  # doctest: +SKIP
    'churn-model: champion moved from v4 back to v3'
    """
    client = store.client(tracking_uri)
    _model(client, model_name)
    current = _alias_version(client, model_name, CHAMPION)
    current_version = None if current is None else str(current.version)
    if to_version is None:
        if current is None:
            raise RegistryError(
                f"model {model_name!r} has no {CHAMPION} to roll back; promote a version first "
                f"or pass --to VERSION"
            )
        previous = (current.tags or {}).get(tags.GATE_PREVIOUS_CHAMPION, "")
        if not previous:
            raise RegistryError(
                f"model {model_name!r} v{current_version} has no previous champion recorded; "
                f"pass --to VERSION to choose one"
            )
        to_version = previous
    target_version = str(to_version)
    target = _version(client, model_name, target_version)
    if target_version == current_version:
        raise RegistryError(
            f"model {model_name!r} v{target_version} is already {CHAMPION}; nothing to roll back"
        )
    if (target.tags or {}).get(tags.GATE_VALIDATION) == "false":
        raise RegistryError(
            f"model {model_name!r} v{target_version} failed data validation and cannot be "
            f"{CHAMPION}; choose another version"
        )
    result = RollbackResult(
        model_name=model_name,
        from_version=current_version,
        to_version=target_version,
        by=_who(),
        at=_now(),
    )
    client.set_registered_model_alias(model_name, CHAMPION, target_version)
    record = _json(result.to_dict())
    client.set_model_version_tag(model_name, target_version, tags.ROLLBACK, record)
    if current_version is not None:
        client.set_model_version_tag(model_name, current_version, tags.ROLLBACK_REPLACED, record)
    return result
