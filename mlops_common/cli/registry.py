"""``mlops promote``, ``approve``, ``reject``, ``rollback``, ``audit`` and ``card``: the promotion
gate, a person's answer to it, its undo, the trail of every decision, and what a reviewer reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mlops_common.cli._options import (
    AsJson,
    ModelName,
    Output,
    TrackingUri,
    deprecated_version_option,
    model_name,
    version_argument,
    version_from,
)
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "approve", "audit", "card", "promote", "reject", "rollback"]

By = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Who decides, recorded in the audit trail (default: GITHUB_ACTOR / "
        "GITLAB_USER_LOGIN in CI, else the OS user; approve and reject need one of the first).",
    ),
]
Reason = Annotated[
    str, typer.Option("--reason", help="Why, recorded in the audit trail (required).")
]
Params = Annotated[Path, typer.Option(help="params.yaml holding the `gate` section.")]
AwaitingVersion = Annotated[str, version_argument("The version awaiting approval.")]


def _gate(params: Path) -> Any:
    """The promotion gate of ``params`` (its `gate` section)."""
    from mlops_common.config import load_params
    from mlops_common.gate import GateConfig

    return GateConfig.from_dict(load_params(params).get("gate", {}))


def promote(
    version: Annotated[str, version_argument("Model version to consider for champion.")],
    metrics: Annotated[
        Path | None,
        typer.Option(
            help="JSON file of the candidate's metrics (default: the metrics of its run)."
        ),
    ] = None,
    params: Params = Path("params.yaml"),
    validation: Annotated[
        Path | None,
        typer.Option(
            help="Validation result JSON of the training data (default: the run's "
            "mlops.validation.success tag; passed when the run recorded none)."
        ),
    ] = None,
    fairness: Annotated[
        Path | None,
        typer.Option(
            help="Fairness report JSON of the candidate (FairnessReport.to_json), needed when "
            "the gate has a `fairness` rule; the register stage measures it itself."
        ),
    ] = None,
    by: By = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Apply the promotion gate to VERSION; exit 1 when the gate refuses it."""
    from mlops_common.io import read_json_object
    from mlops_common.registry import promote as run_promote
    from mlops_common.registry import validation_passed as passed_validation

    name, gate = model_name(model), _gate(params)
    candidate = None if metrics is None else read_json_object(metrics)
    validation_passed = passed_validation(
        name, version, report_path=validation, tracking_uri=tracking_uri
    )
    decision = run_promote(
        name,
        version,
        candidate,
        gate,
        validation_passed=validation_passed,
        fairness=None if fairness is None else read_json_object(fairness),
        by=by,
        tracking_uri=tracking_uri,
    )
    emit(decision, as_json=as_json, output=output)


def approve(
    version: AwaitingVersion,
    reason: Reason,
    by: By = None,
    params: Params = Path("params.yaml"),
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Approve VERSION (alias awaiting-approval): re-check it against today's champion, promote
    it, record who and why; exit 1 when it no longer passes the gate."""
    from mlops_common.audit import reviewer
    from mlops_common.registry import approve as run_approve

    by = reviewer(by, action="approve")  # before anything is read: no anonymous approval
    name, gate = model_name(model), _gate(params)
    decision = run_approve(name, version, gate, reason=reason, by=by, tracking_uri=tracking_uri)
    emit(decision, as_json=as_json, output=output)


def reject(
    version: AwaitingVersion,
    reason: Reason,
    by: By = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Reject VERSION (alias awaiting-approval): clear the alias, keep the champion, record who
    and why."""
    from mlops_common.registry import reject as run_reject

    result = run_reject(model_name(model), version, reason=reason, by=by, tracking_uri=tracking_uri)
    emit(result, as_json=as_json, output=output)


def rollback(
    version: Annotated[
        str | None,
        version_argument(
            "Version to make champion (default: the champion before the current one)."
        ),
    ] = None,
    to: Annotated[str | None, deprecated_version_option("--to")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why, recorded in the audit trail.")] = "",
    by: By = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Move the `champion` alias back to VERSION, or to the champion before the current one in
    the audit trail."""
    from mlops_common.registry import rollback as run_rollback

    wanted = version_from(version, to, option="--to", usage="mlops rollback")
    result = run_rollback(
        model_name(model), to_version=wanted, tracking_uri=tracking_uri, by=by, reason=reason
    )
    emit(result, as_json=as_json, output=output)


def audit(
    version: Annotated[
        str | None, version_argument("Only the decisions about this version (default: all).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only decisions since then: an ISO date/time or an age (7d, 12h)."),
    ] = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """List the audit trail: every gate decision, approval, rejection and rollback, newest
    first; refusals and rejections marked `!!`."""
    from mlops_common import store
    from mlops_common.audit import read_trail

    trail = read_trail(store.client(tracking_uri), model_name(model), since=since, version=version)
    emit(trail, as_json=as_json, output=output)


def card(
    version: Annotated[str, version_argument("The version to describe.")],
    params: Annotated[
        Path, typer.Option(help="params.yaml holding the `model_card` section.")
    ] = Path("params.yaml"),
    reports: Annotated[
        Path, typer.Option(help="Folder for model_card_vVERSION.md and .html (without --output).")
    ] = Path("reports"),
    log: Annotated[
        bool, typer.Option(help="Also log the card with the version (artifacts of its run).")
    ] = False,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Write VERSION's model card (Markdown and HTML): intended use, data and validation, metrics
    against the champion, gate decision, fairness, approvals, lineage, limitations."""
    from mlops_common.card import build_card, save_card
    from mlops_common.config import load_params, load_project_config

    config = load_project_config()
    values = load_params(params) if params.is_file() else {}
    found = build_card(
        model or config.model_name,
        version,
        params=values,
        project_root=config.root,
        tracking_uri=tracking_uri,
    )
    if output is None:
        save_card(found, reports, stem=f"model_card_v{version}", log=log, tracking_uri=tracking_uri)
    emit(found, as_json=as_json, output=output)


COMMANDS = (promote, approve, reject, rollback, audit, card)
