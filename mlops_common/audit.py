"""The append-only audit trail of the promotion gate: one MLflow run per decision.

Model-version tags say where a version stands *now*, and anyone with write access can overwrite
them. A reviewer needs every decision in order, with nothing rewritten, so each one (the gate in
the register stage or ``mlops promote``, ``mlops approve``, ``mlops reject``, ``mlops rollback``)
writes a **new run** in the experiment ``<model>.audit`` and nothing ever edits one:

- the entry's fields are the run's *params*, which MLflow never lets anyone change once logged
  (logging a param again with another value fails), on the sqlite store and on a server alike;
  the run's tags only repeat a few of them for the MLflow UI's filters;
- who (``--by``, else the CI's ``GITHUB_ACTOR`` / ``GITLAB_USER_LOGIN``, else the OS user),
  when, the version, its training run, git commit and DVC data hashes, the metrics against the
  champion's, the gate config, the checks, the outcome, the champion before and after, and for a
  review the approver and the reason;
- one experiment per model, next to its ``<model>.gate-lock`` lock: an MLflow server's
  permissions are per experiment, so a model's reviewers can be given its trail alone. Entries
  that move ``champion`` are written under the gate lock, after the alias moved.

Outcomes (:data:`OUTCOMES`): ``promoted``, ``refused`` (the gate said no), ``awaiting-approval``
(``gate.approval: required``), ``approved``, ``rejected`` (a person said no), ``rolled-back``.
:func:`champion_history` replays the trail, which is what ``mlops rollback`` follows.

Deleting an audit run (``mlflow runs delete`` or the UI) is the one way to lose an entry:
restrict delete rights on the ``<model>.audit`` experiment in a shared server.

>>> from mlops_common import store
>>> trail = read_trail(store.client(), "churn-model", since="7d")  # doctest: +SKIP
>>> print(trail.summary())  # doctest: +SKIP
churn-model: 3 decisions since 2026-11-25 (1 refused)
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from mlops_common import tags
from mlops_common.errors import InputError
from mlops_common.results import Result

__all__ = [
    "AUDIT_SUFFIX",
    "CI_ACTOR_VARIABLES",
    "NEGATIVE_OUTCOMES",
    "OUTCOMES",
    "AuditEntry",
    "AuditTrail",
    "actor",
    "audit_experiment_name",
    "champion_history",
    "parse_since",
    "read_trail",
    "record",
    "reviewer",
    "version_lineage",
]

#: Appended to the model's name to name its audit experiment.
AUDIT_SUFFIX = ".audit"
#: Every outcome an entry can have.
OUTCOMES = ("promoted", "refused", "awaiting-approval", "approved", "rejected", "rolled-back")
#: Outcomes that said no: listed first and marked in the summary.
NEGATIVE_OUTCOMES = ("refused", "rejected")
#: Outcomes after which the entry's version is ``champion``.
CROWNING_OUTCOMES = ("promoted", "approved", "rolled-back")
#: Where CI systems name the person (or bot) that triggered the job, in the order read.
CI_ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN")

# MLflow rejects longer param values (6000 in MLflow 2.x and 3.x); longer JSON is split in parts.
_MAX_PARAM = 6000
_JSON_FIELDS = (
    "candidate_metrics",
    "champion_metrics",
    "gate",
    "checks",
    "fairness",
    "data_hashes",
)


# ------------------------------------------------------------------------------------ identity


def _named(by: str | None) -> str | None:
    """``by`` when given, else the CI's actor variable, else None."""
    if by and by.strip():
        return by.strip()
    for variable in CI_ACTOR_VARIABLES:
        if os.environ.get(variable, "").strip():
            return os.environ[variable].strip()
    return None


def actor(by: str | None = None) -> str:
    """Who is deciding: ``by``, else the CI's actor variable, else the OS user.

    >>> actor("ana@example.com")
    'ana@example.com'
    """
    named = _named(by)
    if named:
        return named
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def reviewer(by: str | None = None, *, action: str = "approve") -> str:
    """The named person behind an approval or rejection: ``by`` or the CI's actor, never a guess.

    >>> reviewer("ana@example.com")
    'ana@example.com'
    """
    named = _named(by)
    if named:
        return named
    raise InputError(
        f"`mlops {action}` records who decided and found nobody: pass --by NAME (or run it in CI, "
        f"where {' / '.join(CI_ACTOR_VARIABLES)} names the actor)"
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------------------- entries


@dataclass
class AuditEntry(Result):
    """One decision about one version; ``entry_id`` is the id of the audit run that holds it."""

    model: str
    version: str
    outcome: str
    action: str  # "gate", "approve", "reject" or "rollback"
    by: str
    at: str = field(default_factory=_now)
    reason: str = ""
    approver: str | None = None
    champion_before: str | None = None
    champion_after: str | None = None
    validation_passed: bool | None = None
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    champion_metrics: dict[str, float] | None = None
    gate: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)  # GateCheck.to_dict() each
    fairness: dict[str, Any] | None = None
    run_id: str | None = None
    git_commit: str | None = None
    data_hashes: dict[str, str] = field(default_factory=dict)
    entry_id: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")

    @property
    def negative(self) -> bool:
        return self.outcome in NEGATIVE_OUTCOMES

    @property
    def failures(self) -> list[str]:
        """The messages of the checks that failed."""
        return [str(c.get("message")) for c in self.checks if c.get("passed") is False]

    @property
    def why(self) -> str:
        """The person's reason, else the first failed check of a refusal."""
        return self.reason or (self.failures[0] if self.negative and self.failures else "")

    def summary(self) -> str:
        moved = ""
        if self.champion_before != self.champion_after:
            moved = f" (champion v{self.champion_before or '-'} -> v{self.champion_after or '-'})"
        outcome = self.outcome.upper() if self.negative else self.outcome
        why = f": {self.why}" if self.why else ""
        return f"{self.at} v{self.version} {outcome} by {self.by}{moved}{why}"

    def _params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for item in fields(self):
            if item.name == "entry_id":
                continue
            value = getattr(self, item.name)
            if item.name in _JSON_FIELDS:
                text = json.dumps(value, sort_keys=True, default=str)
            elif isinstance(value, bool):
                text = str(value).lower()
            else:
                text = "" if value is None else str(value)
            chunks = [text[i : i + _MAX_PARAM] for i in range(0, len(text), _MAX_PARAM)] or [""]
            params[item.name] = chunks[0]
            for number, chunk in enumerate(chunks[1:], start=1):
                params[f"{item.name}.{number}"] = chunk
        return params

    @classmethod
    def _from_params(cls, params: Mapping[str, str], entry_id: str) -> AuditEntry:
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name == "entry_id" or item.name not in params:
                continue
            text, number = params[item.name], 1
            while f"{item.name}.{number}" in params:
                text += params[f"{item.name}.{number}"]
                number += 1
            if item.name in _JSON_FIELDS:
                try:
                    values[item.name] = json.loads(text) if text else None
                except json.JSONDecodeError:
                    values[item.name] = None
            elif item.name == "validation_passed":
                values[item.name] = {"true": True, "false": False}.get(text)
            elif item.name in (
                "approver",
                "champion_before",
                "champion_after",
                "run_id",
                "git_commit",
            ):
                values[item.name] = text or None
            else:
                values[item.name] = text
        for name in ("candidate_metrics", "gate", "data_hashes"):
            values[name] = values.get(name) or {}
        values["checks"] = values.get("checks") or []
        return cls(**values, entry_id=entry_id)


def audit_experiment_name(model_name: str) -> str:
    """The experiment that holds ``model_name``'s audit trail.

    >>> audit_experiment_name("churn-model")
    'churn-model.audit'
    """
    return model_name + AUDIT_SUFFIX


def _experiment_id(client: Any, model_name: str, *, create: bool) -> str | None:
    from mlflow.exceptions import MlflowException

    from mlops_common.gate_lock import retry_locked

    name = audit_experiment_name(model_name)
    experiment = retry_locked(client.get_experiment_by_name, name)
    if experiment is None and create:
        try:
            return retry_locked(
                client.create_experiment,
                name,
                tags={tags.AUDIT_MODEL: model_name},
            )
        except MlflowException:  # another process created it between our lookup and create
            experiment = retry_locked(client.get_experiment_by_name, name)
            if experiment is None:
                raise
    if experiment is None:
        return None
    if experiment.lifecycle_stage == "deleted":
        raise InputError(
            f"the audit experiment {name!r} is deleted; restore it with "
            f"`mlflow experiments restore --experiment-id {experiment.experiment_id}`"
        )
    return experiment.experiment_id


def record(client: Any, entry: AuditEntry) -> AuditEntry:
    """Write ``entry`` as a new run of the model's audit experiment; returns it with its id.

    >>> entry = AuditEntry("churn-model", "4", "refused", "gate", by="ci")
    >>> record(store.client(), entry).entry_id  # doctest: +SKIP
    '5f0c...'
    """
    from mlflow.entities import Metric, Param

    from mlops_common.gate_lock import retry_locked

    experiment_id = _experiment_id(client, entry.model, create=True)
    millis = int(time.time() * 1000)
    run_tags = {
        tags.AUDIT_MODEL: entry.model,
        tags.AUDIT_VERSION: entry.version,
        tags.AUDIT_OUTCOME: entry.outcome,
    }
    run = retry_locked(
        client.create_run,
        experiment_id,
        start_time=millis,
        tags=run_tags,
        run_name=f"v{entry.version} {entry.outcome}",
    )
    run_id = run.info.run_id
    params = [Param(key, value) for key, value in entry._params().items()]
    metrics = [
        Metric(f"candidate.{name}", float(value), millis, 0)
        for name, value in entry.candidate_metrics.items()
    ]
    for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
        retry_locked(
            client.log_batch,
            run_id,
            params=params[start : start + 100],
            metrics=metrics if start == 0 else [],
        )
    retry_locked(client.set_terminated, run_id, "FINISHED", end_time=millis)
    entry.entry_id = run_id
    return entry


# ----------------------------------------------------------------------------------- the trail


_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(since: str | datetime | None) -> datetime | None:
    """``7d``, ``12h``, ``30m``, ``2w`` ago, or an ISO date/time (UTC when it names no zone).

    >>> parse_since("2026-11-30").isoformat()
    '2026-11-30T00:00:00+00:00'
    """
    if since is None or isinstance(since, datetime):
        if since is not None and since.tzinfo is None:
            return since.replace(tzinfo=timezone.utc)
        return since
    text = since.strip()
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        return datetime.now(timezone.utc) - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--since {since!r}: give an ISO date or time (2026-11-30, 2026-11-30T12:00) or an "
            "age like 7d, 12h, 30m, 2w"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class AuditTrail(Result):
    """The entries of one model's trail, newest first (``entries``), and what was asked."""

    model: str
    entries: list[AuditEntry]
    since: str | None = None
    version: str | None = None

    def summary(self) -> str:
        scope = f" v{self.version}" if self.version else ""
        since = f" since {self.since}" if self.since else ""
        counts = {}
        for entry in self.entries:
            counts[entry.outcome] = counts.get(entry.outcome, 0) + 1
        said_no = ", ".join(f"{counts[o]} {o}" for o in NEGATIVE_OUTCOMES if counts.get(o))
        head = f"{self.model}{scope}: {len(self.entries)} decision(s){since}"
        if said_no:
            head += f" ({said_no})"
        if not self.entries:
            return head + "; nothing recorded (decisions are recorded from `mlops promote` on)"
        rows = [("", "when (UTC)", "version", "outcome", "by", "champion", "why")]
        # Newest first, as history reads; what said no is marked `!!` and named in the head line.
        for entry in self.entries:
            champion = entry.champion_after or "-"
            if entry.champion_before != entry.champion_after:
                champion = f"{entry.champion_before or '-'}->{entry.champion_after or '-'}"
            why = entry.why
            when = entry.at[:19].replace("T", " ")
            mark = "!!" if entry.negative else ""
            rows.append((mark, when, f"v{entry.version}", entry.outcome, entry.by, champion, why))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1][:100]
            for row in rows
        ]
        return "\n".join([head, *(line.rstrip() for line in lines)])


def _entries(client: Any, model_name: str, filters: Iterable[str]) -> list[AuditEntry]:
    from mlops_common.gate_lock import retry_locked

    experiment_id = _experiment_id(client, model_name, create=False)
    if experiment_id is None:
        return []
    found: list[AuditEntry] = []
    token = None
    while True:
        page = retry_locked(
            client.search_runs,
            [experiment_id],
            filter_string=" and ".join(filters),
            order_by=["attributes.start_time DESC"],
            max_results=1000,
            page_token=token,
        )
        for run in page:
            if run.data.params.get("outcome") in OUTCOMES:
                found.append(AuditEntry._from_params(run.data.params, run.info.run_id))
        token = page.token
        if not token:
            break
    # Newest first; `at` has milliseconds where two runs can share a start_time.
    return sorted(found, key=lambda entry: entry.at, reverse=True)


def read_trail(
    client: Any,
    model_name: str,
    *,
    since: str | datetime | None = None,
    version: str | int | None = None,
) -> AuditTrail:
    """``model_name``'s audit trail, newest first, optionally since a time and for one version.

    >>> trail = read_trail(store.client(), "churn-model", since="2026-11-30")  # doctest: +SKIP
    >>> trail.entries[0].outcome  # doctest: +SKIP
    'promoted'
    """
    moment = parse_since(since)
    filters = []
    if moment is not None:
        filters.append(f"attributes.start_time >= {int(moment.timestamp() * 1000)}")
    if version is not None:
        filters.append(f"params.version = '{version}'")
    entries = _entries(client, model_name, filters)
    return AuditTrail(
        model=model_name,
        entries=entries,
        since=None if moment is None else moment.isoformat(timespec="seconds"),
        version=None if version is None else str(version),
    )


def champion_history(entries: Iterable[AuditEntry]) -> list[str]:
    """The versions that were ``champion``, oldest first, as the trail records them (pure).

    A promotion or approval pushes its version; a rollback to a version already in the history
    truncates the history back to it (so repeated rollbacks walk back and never cycle), and a
    rollback to any other version pushes it.

    >>> e = lambda v, outcome: AuditEntry("m", v, outcome, "gate", "ci")
    >>> champion_history([e("1", "promoted"), e("2", "promoted"), e("3", "refused"),
    ...                   e("1", "rolled-back")])
    ['1']
    """
    history: list[str] = []
    for entry in sorted(entries, key=lambda item: item.at):
        if entry.outcome not in CROWNING_OUTCOMES:
            continue
        if entry.outcome == "rolled-back" and entry.version in history:
            del history[len(history) - history[::-1].index(entry.version) :]
            continue
        history.append(entry.version)
    return history


def version_lineage(client: Any, model_version: Any) -> dict[str, Any]:
    """``run_id``, ``git_commit`` and ``data_hashes`` (DVC) of the run a version came from.

    The run's lineage tags (:mod:`mlops_common.tracking`): the data the model was trained on.
    """
    from mlflow.exceptions import MlflowException

    run_id = model_version.run_id or (model_version.tags or {}).get(tags.RUN_ID)
    lineage: dict[str, Any] = {"run_id": run_id or None, "git_commit": None, "data_hashes": {}}
    if not run_id:
        return lineage
    try:
        run_tags = client.get_run(run_id).data.tags
    except MlflowException:
        return lineage
    lineage["git_commit"] = run_tags.get(tags.GIT_COMMIT)
    lineage["data_hashes"] = {
        key[len(tags.DVC_PREFIX) :]: value
        for key, value in sorted(run_tags.items())
        if key.startswith(tags.DVC_PREFIX)
    }
    return lineage
