"""``mlops promote`` and ``mlops rollback``: the promotion gate and its undo."""

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

__all__ = ["COMMANDS", "promote", "rollback"]


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
    params: Annotated[Path, typer.Option(help="params.yaml holding the `gate` section.")] = Path(
        "params.yaml"
    ),
    validation: Annotated[
        Path | None,
        typer.Option(
            help="Validation result JSON of the training data (default: the run's "
            "mlops.validation.success tag; passed when the run recorded none)."
        ),
    ] = None,
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
        tracking_uri=tracking_uri,
    )
    emit(decision, as_json=as_json, output=output)


def rollback(
    version: Annotated[
        str | None,
        version_argument(
            "Version to make champion (default: the champion before the current one)."
        ),
    ] = None,
    to: Annotated[str | None, deprecated_version_option("--to")] = None,
    model: ModelName = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Move the `champion` alias back to VERSION, or to the previous champion."""
    from mlops_common.config import load_project_config
    from mlops_common.registry import rollback as run_rollback

    wanted = version_from(version, to, option="--to", usage="mlops rollback")
    model_name = model or load_project_config().model_name
    result = run_rollback(model_name, to_version=wanted, tracking_uri=tracking_uri)
    emit(result, as_json=as_json, output=output)


COMMANDS = (promote, rollback)
