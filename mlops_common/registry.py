"""Model registry: register a version, gate its promotion to ``champion``, roll back.

Aliases tell where a model stands: ``challenger`` is the last version that was considered,
``champion`` the one that serves, ``awaiting-approval`` one that passed the gate and waits for a
person (``gate.approval: required``). :func:`promote` always moves ``challenger`` to the
candidate and moves ``champion`` only when the gate passes (and no approval is required); a
version whose data failed validation is never promoted. :func:`approve` and :func:`reject` are
the person's answer. Every decision is appended to the audit trail (:mod:`mlops_common.audit`,
one MLflow run per decision, never overwritten), which :func:`rollback` follows; the latest
verdict is also on the version as ``mlops.gate.*`` tags for the MLflow UI.

The gate's rules and its decision are pure and live in :mod:`mlops_common.gate` (the ``gate``
section of ``params.yaml``); this module is the registry I/O around them. Promotions, approvals,
rejections and rollbacks hold the model's gate lock (:mod:`mlops_common.gate_lock`) and read the
champion under it, so two concurrent decisions happen one after the other.

>>> from mlops_common.gate import GateConfig
>>> gate = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}})
>>> passed = validation_passed("churn-model", "4")  # doctest: +SKIP
>>> promote("churn-model", "4", None, gate, validation_passed=passed).summary()  # doctest: +SKIP
'churn-model v4: promoted to champion (previous champion: v3)'
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_common import audit, store, tags
from mlops_common.errors import InputError, RegistryError

# The gate's names stay importable from here: rendered projects import GateConfig from this module.
from mlops_common.gate import (  # noqa: F401
    AWAITING_APPROVAL,
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
    "AWAITING_APPROVAL",
    "CHALLENGER",
    "CHAMPION",
    "ReviewResult",
    "RollbackResult",
    "approve",
    "champion_version",
    "promote",
    "recorded_metrics",
    "register_model",
    "reject",
    "rollback",
    "validation_passed",
    "validation_status",
]

_MAX_TAG_VALUE = 5000  # the smallest model-version tag limit across MLflow 2.x and 3.x


# ------------------------------------------------------------------------------ registry access


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


def recorded_metrics(client: Any, model_version: Any) -> dict[str, float]:
    """The test metrics a registered version was gated with (its audit tag); without the tag,
    its run's metrics, where a ``test_<name>`` metric (logged by the register stage) wins over
    a ``<name>`` logged during training.

    >>> recorded_metrics(store.client(), champion_version("churn-model"))  # doctest: +SKIP
    {'accuracy': 0.91, 'f1': 0.88, 'roc_auc': 0.95}
    """
    metrics = _version_metrics(client, model_version)
    tested = {name[5:]: value for name, value in metrics.items() if name.startswith("test_")}
    return {**metrics, **tested}


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


def _record(
    client: Any,
    model_version: Any,
    decision: GateDecision,
    *,
    action: str,
    champion_after: str | None,
) -> None:
    """Append the decision to the model's audit trail (a new run; see :mod:`mlops_common.audit`)."""
    entry = audit.AuditEntry(
        model=decision.model_name or model_version.name,
        version=str(decision.version),
        outcome=str(decision.outcome),
        action=action,
        by=str(decision.decided_by),
        at=str(decision.decided_at),
        reason=decision.review_reason,
        approver=decision.approver,
        champion_before=decision.champion_version,
        champion_after=champion_after,
        validation_passed=decision.validation_passed,
        candidate_metrics=decision.candidate_metrics,
        champion_metrics=decision.champion_metrics,
        gate=decision.gate,
        checks=[check.to_dict() for check in decision.checks],
        fairness=decision.fairness,
        **audit.version_lineage(client, model_version),
    )
    decision.audit_entry = audit.record(client, entry).entry_id


def _tag_decision(client: Any, model_name: str, version: str, decision: GateDecision) -> None:
    """The latest verdict on the version itself, for the MLflow UI (the trail keeps them all)."""
    latest = {
        tags.GATE_DECISION: str(decision.outcome),
        tags.GATE_REASONS: _json(decision.reasons),
        tags.GATE_BY: str(decision.decided_by),
        tags.GATE_AT: str(decision.decided_at),
        tags.GATE_CANDIDATE_METRICS: _json(decision.candidate_metrics),
        tags.GATE_CHAMPION_METRICS: _json(decision.champion_metrics),
        tags.GATE_CONFIG: _json(decision.gate),
        tags.GATE_VALIDATION: str(decision.validation_passed).lower(),
    }
    if decision.promoted:  # a refused candidate replaced nobody
        latest[tags.GATE_PREVIOUS_CHAMPION] = decision.champion_version or ""
    for key, value in latest.items():
        retry_locked(client.set_model_version_tag, model_name, version, key, value)


def _champion_under_lock(
    client: Any,
    model_name: str,
    version: str,
    scorer: Callable[[str], Mapping[str, Any]] | None = None,
) -> tuple[str | None, Any]:
    """``(champion version, its metrics)`` read under the gate lock: a concurrent promotion may
    just have moved it. No metrics when there is no champion or it is ``version`` itself; with a
    ``scorer``, the champion's metrics are what it answers for ``models:/NAME/VERSION``."""
    current = retry_locked(_alias_version, client, model_name, CHAMPION)
    current_version = None if current is None else str(current.version)
    metrics = None
    if current is not None and current_version != version:
        if scorer is not None:
            metrics = dict(scorer(f"models:/{model_name}/{current_version}"))
        else:
            metrics = retry_locked(_version_metrics, client, current)
    return current_version, metrics


def _delete_alias(client: Any, model_name: str, alias: str) -> None:
    from mlflow.exceptions import MlflowException

    with contextlib.suppress(MlflowException):  # already gone
        retry_locked(client.delete_registered_model_alias, model_name, alias)


def promote(
    model_name: str,
    version: str | int,
    metrics: Mapping[str, Any] | None,
    gate: GateConfig | Mapping[str, Any],
    *,
    validation_passed: bool,
    fairness: Any = None,
    by: str | None = None,
    tracking_uri: str | None = None,
    champion_scorer: Callable[[str], Mapping[str, Any]] | None = None,
) -> GateDecision:
    """Gate ``version`` against the thresholds and the current champion, and record the decision.

    Always sets ``challenger`` on the candidate. A passing candidate becomes ``champion``, or,
    with ``gate.approval: required``, waits as ``awaiting-approval`` for :func:`approve`; a
    version whose data failed validation never passes. ``metrics`` None means the candidate run's
    metrics; ``fairness`` the candidate's :class:`~mlops_common.fairness.FairnessReport`, needed
    when the gate has a ``fairness`` rule. The decision is appended to the audit trail
    (:mod:`mlops_common.audit`, ``by`` names who decided) and its latest state written as
    ``mlops.gate.*`` tags on the version.
    ``champion_scorer`` (given the champion's ``models:/NAME/VERSION`` URI, returns its metrics)
    scores the champion on the candidate's own holdout instead of using the metrics recorded when
    it was trained, which came from older data.

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
        current_version, champion_metrics = _champion_under_lock(
            client, model_name, version, champion_scorer
        )
        decision = evaluate_gate(
            metrics,
            champion_metrics,
            config,
            validation_passed=validation_passed,
            fairness=fairness,
        )
        decision.model_name = model_name
        decision.version = version
        decision.champion_version = current_version
        decision.decided_by = audit.actor(by)
        decision.decided_at = audit._now()

        retry_locked(client.set_registered_model_alias, model_name, CHALLENGER, version)
        champion_after = current_version
        if decision.passed and config.approval == "required":
            retry_locked(client.set_registered_model_alias, model_name, AWAITING_APPROVAL, version)
            decision.outcome = "awaiting-approval"
        elif decision.passed:
            lock.verify()
            retry_locked(client.set_registered_model_alias, model_name, CHAMPION, version)
            decision.promoted, decision.outcome, champion_after = True, "promoted", version
        else:
            decision.outcome = "refused"
        _tag_decision(client, model_name, version, decision)
        _record(client, candidate, decision, action="gate", champion_after=champion_after)
    _refresh_cards(model_name, (version, current_version), champion_after, tracking_uri)
    return decision


def _refresh_cards(
    model_name: str,
    versions: tuple[str | None, ...],
    champion_after: str | None,
    tracking_uri: str | None,
) -> None:
    """Log again the cards of the decided version and of a champion it replaced, so a card
    opened from the registry shows the decision (only versions that have a logged card).

    After the gate lock: a card is a view of the trail, not part of the decision."""
    from mlops_common.card import refresh_card

    decided, *others = versions
    touched = [decided] + [v for v in others if v and v != champion_after]
    for version in dict.fromkeys(v for v in touched if v):
        refresh_card(model_name, version, tracking_uri=tracking_uri)


# ------------------------------------------------------------------------- approve and reject


def _awaiting(client: Any, model_name: str, version: str, action: str) -> None:
    waiting = retry_locked(_alias_version, client, model_name, AWAITING_APPROVAL)
    if waiting is None or str(waiting.version) != version:
        now = f"v{waiting.version} is" if waiting is not None else "no version is"
        raise RegistryError(
            f"model {model_name!r} v{version} is not awaiting approval ({now} "
            f"{AWAITING_APPROVAL}); only a version that passed the gate under "
            f"`gate.approval: required` can be {action}d (see `mlops audit`)"
        )


def _need_reason(reason: str, action: str) -> str:
    if not reason or not reason.strip():
        raise InputError(f'`mlops {action}` records why: pass --reason "..."')
    return reason.strip()


def approve(
    model_name: str,
    version: str | int,
    gate: GateConfig | Mapping[str, Any],
    *,
    reason: str,
    by: str | None = None,
    tracking_uri: str | None = None,
) -> GateDecision:
    """A person approves ``version``, which waits as ``awaiting-approval``: re-check it under the
    gate lock against the champion of this moment, promote it if it still passes, and record it.

    ``by`` (else the CI's actor variable) names the approver; there is no anonymous approval. The
    candidate's metrics, validation and fairness are those its gate decision recorded; the
    champion's are those the gate compared with when the champion is still the same, else the new
    champion's recorded metrics. A candidate that no longer passes (a better champion arrived
    meanwhile) is refused, recorded as such, and no longer awaits.

    >>> approve("churn-model", "4", gate, reason="reviewed the card", by="ana")  # doctest: +SKIP
    """
    config = gate if isinstance(gate, GateConfig) else GateConfig.from_dict(gate)
    who = audit.reviewer(by, action="approve")
    why = _need_reason(reason, "approve")
    client = store.client(tracking_uri)
    version = str(version)
    candidate = _version(client, model_name, version)
    with gate_lock(client, model_name) as lock:
        _awaiting(client, model_name, version, "approve")
        passed_gate = [
            entry
            for entry in audit.read_trail(client, model_name, version=version).entries
            if entry.outcome == "awaiting-approval"
        ]
        if not passed_gate:
            raise RegistryError(
                f"model {model_name!r} v{version} has no gate decision in its audit trail; "
                f"run `mlops promote {version}` first"
            )
        gated = passed_gate[0]  # newest first
        current_version, champion_metrics = _champion_under_lock(client, model_name, version)
        if current_version == gated.champion_before and gated.champion_metrics is not None:
            # The champion the gate met: compare as the gate did (a champion_scorer may have
            # scored it on the candidate's own holdout, which is not at hand here).
            champion_metrics = gated.champion_metrics
        decision = evaluate_gate(
            gated.candidate_metrics,
            champion_metrics,
            config,
            validation_passed=gated.validation_passed is not False,
            fairness=gated.fairness,
        )
        decision.model_name, decision.version = model_name, version
        decision.champion_version = current_version
        decision.decided_by, decision.decided_at = who, audit._now()
        decision.approver, decision.review_reason = who, why
        champion_after = current_version
        if decision.passed:
            lock.verify()
            retry_locked(client.set_registered_model_alias, model_name, CHAMPION, version)
            decision.promoted, decision.outcome, champion_after = True, "approved", version
        else:
            decision.outcome = "refused"
        _delete_alias(client, model_name, AWAITING_APPROVAL)
        _tag_decision(client, model_name, version, decision)
        _record(client, candidate, decision, action="approve", champion_after=champion_after)
    _refresh_cards(model_name, (version, current_version), champion_after, tracking_uri)
    return decision


@dataclass(frozen=True)
class ReviewResult(Result):
    """A person's rejection of a version that awaited approval."""

    model_name: str
    version: str
    outcome: str
    by: str
    at: str
    reason: str
    champion_version: str | None
    audit_entry: str

    def summary(self) -> str:
        was = f"v{self.champion_version}" if self.champion_version else "none"
        return (
            f"{self.model_name} v{self.version}: {self.outcome} by {self.by} ({self.reason}); "
            f"{CHAMPION} stays {was}"
        )


def reject(
    model_name: str,
    version: str | int,
    *,
    reason: str,
    by: str | None = None,
    tracking_uri: str | None = None,
) -> ReviewResult:
    """A person rejects ``version``, which waits as ``awaiting-approval``: the alias is cleared,
    ``champion`` stays, and the rejection goes into the audit trail.

    >>> reject("churn-model", "4", reason="biased on region", by="ana").summary()  # doctest: +SKIP
    'churn-model v4: rejected by ana (biased on region); champion stays v3'
    """
    who = audit.reviewer(by, action="reject")
    why = _need_reason(reason, "reject")
    client = store.client(tracking_uri)
    version = str(version)
    candidate = _version(client, model_name, version)
    with gate_lock(client, model_name):
        _awaiting(client, model_name, version, "reject")
        current = retry_locked(_alias_version, client, model_name, CHAMPION)
        current_version = None if current is None else str(current.version)
        _delete_alias(client, model_name, AWAITING_APPROVAL)
        entry = audit.AuditEntry(
            model=model_name,
            version=version,
            outcome="rejected",
            action="reject",
            by=who,
            reason=why,
            approver=who,
            champion_before=current_version,
            champion_after=current_version,
            **audit.version_lineage(client, candidate),
        )
        audit.record(client, entry)
        retry_locked(
            client.set_model_version_tag, model_name, version, tags.GATE_DECISION, "rejected"
        )
    _refresh_cards(model_name, (version,), current_version, tracking_uri)
    return ReviewResult(
        model_name=model_name,
        version=version,
        outcome="rejected",
        by=who,
        at=entry.at,
        reason=why,
        champion_version=current_version,
        audit_entry=entry.entry_id,
    )


# ------------------------------------------------------------------------------------ rollback


@dataclass(frozen=True)
class RollbackResult(Result):
    """Where ``champion`` was and where it is now."""

    model_name: str
    from_version: str | None
    to_version: str
    by: str
    at: str
    reason: str = ""
    audit_entry: str = ""

    def summary(self) -> str:
        was = f"v{self.from_version}" if self.from_version else "no champion"
        return f"{self.model_name}: {CHAMPION} moved from {was} back to v{self.to_version}"


def _previous_champion(client: Any, model_name: str, current_version: str) -> str:
    """The champion before ``current_version`` according to the audit trail."""
    history = audit.champion_history(audit.read_trail(client, model_name).entries)
    if history and history[-1] != current_version:
        # champion was moved outside the gate (the MLflow UI): back to the last recorded one.
        return history[-1]
    if len(history) >= 2:
        return history[-2]
    raise RegistryError(
        f"model {model_name!r} v{current_version} has no previous champion recorded in its "
        "audit trail; name the version to roll back to (`mlops rollback VERSION`)"
    )


def rollback(
    model_name: str,
    to_version: str | int | None = None,
    tracking_uri: str | None = None,
    *,
    by: str | None = None,
    reason: str = "",
) -> RollbackResult:
    """Move ``champion`` to ``to_version``, or to the champion before the current one.

    The previous champion comes from the audit trail (:func:`mlops_common.audit.champion_history`):
    repeated rollbacks walk back through the promotions and never cycle. Refuses a version whose
    data failed validation. The rollback is appended to the trail.

    >>> rollback("churn-model").summary()  # doctest: +SKIP
    'churn-model: champion moved from v4 back to v3'
    """
    client = store.client(tracking_uri)
    _model(client, model_name)
    with gate_lock(client, model_name) as lock:
        current = retry_locked(_alias_version, client, model_name, CHAMPION)
        current_version = None if current is None else str(current.version)
        if to_version is None:
            if current_version is None:
                raise RegistryError(
                    f"model {model_name!r} has no {CHAMPION} to roll back; promote a version first "
                    "or name one (`mlops rollback VERSION`)"
                )
            to_version = _previous_champion(client, model_name, current_version)
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
        who, at = audit.actor(by), audit._now()
        lock.verify()
        retry_locked(client.set_registered_model_alias, model_name, CHAMPION, target_version)
        entry = audit.AuditEntry(
            model=model_name,
            version=target_version,
            outcome="rolled-back",
            action="rollback",
            by=who,
            at=at,
            reason=reason.strip(),
            champion_before=current_version,
            champion_after=target_version,
            candidate_metrics=_version_metrics(client, target),
            **audit.version_lineage(client, target),
        )
        audit.record(client, entry)
        result = RollbackResult(
            model_name=model_name,
            from_version=current_version,
            to_version=target_version,
            by=who,
            at=at,
            reason=reason.strip(),
            audit_entry=entry.entry_id,
        )
        record = _json(result.to_dict())
        retry_locked(
            client.set_model_version_tag, model_name, target_version, tags.ROLLBACK, record
        )
        if current_version is not None:
            retry_locked(
                client.set_model_version_tag,
                model_name,
                current_version,
                tags.ROLLBACK_REPLACED,
                record,
            )
    _refresh_cards(model_name, (target_version, current_version), target_version, tracking_uri)
    return result
