"""``mlops promote``, ``approve``, ``reject``, ``rollback`` and ``audit``: the promotion gate, a
person's answer to it, its undo, and the trail of every decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import (
    AsJson,
    ModelName,
    Output,
    TrackingUri,
    deprecated_version_option,
    version_argument,
    version_from,
)
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "approve", "audit", "promote", "reject", "rollback"]

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


def promote(
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="Model version to consider for champion.")
    ],
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
    by: By = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Apply the promotion gate to VERSION; exit 1 when the gate refuses it."""
    from mlops_common.config import load_params, load_project_config
    from mlops_common.gate import GateConfig
    from mlops_common.io import read_json_object
    from mlops_common.registry import promote as run_promote
    from mlops_common.registry import validation_passed as passed_validation

    model_name = model or load_project_config().model_name
    gate = GateConfig.from_dict(load_params(params).get("gate", {}))
    candidate = None if metrics is None else read_json_object(metrics)
    validation_passed = passed_validation(
        model_name, version, report_path=validation, tracking_uri=tracking_uri
    )
    decision = run_promote(
        model_name,
        version,
        candidate,
        gate,
        validation_passed=validation_passed,
        by=by,
        tracking_uri=tracking_uri,
    )
    emit(decision, as_json=as_json, output=output)


def approve(
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="The version awaiting approval.")
    ],
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
    from mlops_common.config import load_params, load_project_config
    from mlops_common.gate import GateConfig
    from mlops_common.registry import approve as run_approve

    by = reviewer(by, action="approve")  # before anything is read: no anonymous approval
    model_name = model or load_project_config().model_name
    gate = GateConfig.from_dict(load_params(params).get("gate", {}))
    decision = run_approve(
        model_name, version, gate, reason=reason, by=by, tracking_uri=tracking_uri
    )
    emit(decision, as_json=as_json, output=output)


def reject(
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="The version awaiting approval.")
    ],
    reason: Reason,
    by: By = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Reject VERSION (alias awaiting-approval): clear the alias, keep the champion, record who
    and why."""
    from mlops_common.config import load_project_config
    from mlops_common.registry import reject as run_reject

    model_name = model or load_project_config().model_name
    result = run_reject(model_name, version, reason=reason, by=by, tracking_uri=tracking_uri)
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
    from mlops_common.config import load_project_config
    from mlops_common.registry import rollback as run_rollback

    wanted = version_from(version, to, option="--to", usage="mlops rollback")
    model_name = model or load_project_config().model_name
    result = run_rollback(
        model_name, to_version=wanted, tracking_uri=tracking_uri, by=by, reason=reason
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
    from mlops_common.config import load_project_config

    model_name = model or load_project_config().model_name
    trail = read_trail(store.client(tracking_uri), model_name, since=since, version=version)
    emit(trail, as_json=as_json, output=output)


COMMANDS = (promote, approve, reject, rollback, audit)
