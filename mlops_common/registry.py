"""Model registry: register a version, gate its promotion to ``champion``, roll back.

Two aliases tell where a model stands: ``challenger`` is the last version that was considered,
``champion`` the one that serves. :func:`promote` always moves ``challenger`` to the candidate and
moves ``champion`` only when the gate passes; a version whose data failed validation is never
promoted. Every decision is written as model-version tags (``mlops.gate.*``), an audit trail that
says what was decided, why, by whom, when, on which metrics, under which gate, and which version
was champion before, so :func:`rollback` can undo it.

The gate's rules and its decision are pure and live in :mod:`mlops_common.gate` (the ``gate``
section of ``params.yaml``); this module is the registry I/O around them. Promotions and rollbacks
hold the model's gate lock (:mod:`mlops_common.gate_lock`) and read the champion under it, so two
concurrent promotions decide one after the other.

>>> from mlops_common.gate import GateConfig
>>> gate = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}})
>>> passed = validation_passed("churn-model", "4")  # doctest: +SKIP
>>> promote("churn-model", "4", None, gate, validation_passed=passed).summary()  # doctest: +SKIP
'churn-model v4: promoted to champion (previous champion: v3)'
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common import store, tags
from mlops_common.errors import RegistryError

# The gate's names stay importable from here: rendered projects import GateConfig from this module.
from mlops_common.gate import (  # noqa: F401
    CHALLENGER,
    CHAMPION,
    GateCheck,
    GateConfig,
    GateDecision,
    MetricRule,
    evaluate_gate,
)
from mlops_common.gate_lock import gate_lock, retry_locked
from mlops_common.io import read_json_object
from mlops_common.results import Result

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "RollbackResult",
    "champion_version",
    "promote",
    "register_model",
    "rollback",
    "validation_passed",
    "validation_status",
]

_MAX_TAG_VALUE = 5000  # the smallest model-version tag limit across MLflow 2.x and 3.x


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


def validation_passed(
    model_name: str,
    version: str | int,
    *,
    report_path: Path | str | None = None,
    tracking_uri: str | None = None,
) -> bool:
    """Whether ``version`` counts as trained on validated data, as the gate needs to know.

    With ``report_path`` (a validation result JSON), its ``success`` must be ``true``. Without it,
    the training run's ``mlops.validation.success`` tag decides, and a run that recorded no
    validation counts as passed (:func:`validation_status` tells the three cases apart).

    >>> validation_passed("churn-model", "4")  # doctest: +SKIP
    True
    >>> validation_passed("churn-model", "4", report_path="validation.json")  # doctest: +SKIP
    False
    """
    if report_path is not None:
        return read_json_object(report_path).get("success") is True
    return validation_status(model_name, version, tracking_uri=tracking_uri) is not False


def _is_metric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _version_metrics(client: Any, model_version: Any) -> dict[str, float]:
    """The metrics a version was gated with (its audit tag), else its run's metrics."""
    recorded = (model_version.tags or {}).get(tags.GATE_CANDIDATE_METRICS)
    if recorded:
        try:
            metrics = json.loads(recorded)
            if isinstance(metrics, dict):
                return {k: float(v) for k, v in metrics.items() if _is_metric(v)}
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
            logged = client.get_logged_model(model_id)
            source, artifact_path = logged.artifact_location, logged.name or artifact_path
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
        version_tags = {tags.RUN_ID: run_id}
        digest = run.data.tags.get(f"{tags.MODEL_DIGEST}.{artifact_path}")
        if digest:  # recorded by log_model; checked before every load (mlops_common.integrity)
            version_tags[tags.MODEL_DIGEST] = digest
        version = client.create_model_version(
            model_name, source, run_id=run_id, tags=version_tags, **kwargs
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
    with gate_lock(client, model_name) as lock:
        # Read the champion under the lock: a concurrent promotion may just have moved it.
        current = retry_locked(_alias_version, client, model_name, CHAMPION)
        current_version = None if current is None else str(current.version)
        champion_metrics = None
        if current is not None and current_version != version:
            champion_metrics = retry_locked(_version_metrics, client, current)
        decision = evaluate_gate(
            metrics, champion_metrics, config, validation_passed=validation_passed
        )
        decision.model_name = model_name
        decision.version = version
        decision.champion_version = current_version
        decision.decided_by = _who()
        decision.decided_at = _now()

        retry_locked(client.set_registered_model_alias, model_name, CHALLENGER, version)
        if decision.passed:
            lock.verify()
            retry_locked(client.set_registered_model_alias, model_name, CHAMPION, version)
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
        }
        if decision.promoted:  # a refused candidate replaced nobody
            audit[tags.GATE_PREVIOUS_CHAMPION] = current_version or ""
        for key, value in audit.items():
            retry_locked(client.set_model_version_tag, model_name, version, key, value)
    return decision


# ------------------------------------------------------------------------------------ rollback


@dataclass(frozen=True)
class RollbackResult(Result):
    """Where ``champion`` was and where it is now."""

    model_name: str
    from_version: str | None
    to_version: str
    by: str
    at: str

    def summary(self) -> str:
        was = f"v{self.from_version}" if self.from_version else "no champion"
        return f"{self.model_name}: {CHAMPION} moved from {was} back to v{self.to_version}"


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
    with gate_lock(client, model_name):
        current = _alias_version(client, model_name, CHAMPION)
        current_version = None if current is None else str(current.version)
        if to_version is None:
            if current is None:
                raise RegistryError(
                    f"model {model_name!r} has no {CHAMPION} to roll back; promote a version first "
                    "or name one (`mlops rollback VERSION`)"
                )
            previous = (current.tags or {}).get(tags.GATE_PREVIOUS_CHAMPION, "")
            if not previous:
                raise RegistryError(
                    f"model {model_name!r} v{current_version} has no previous champion recorded; "
                    "name the version to roll back to (`mlops rollback VERSION`)"
                )
            to_version = previous
        target_version = str(to_version)
        target = _version(client, model_name, target_version)
        if target_version == current_version:
            raise RegistryError(
                f"model {model_name!r} v{target_version} is already {CHAMPION}; "
                "nothing to roll back"
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
            client.set_model_version_tag(
                model_name, current_version, tags.ROLLBACK_REPLACED, record
            )
    return result
