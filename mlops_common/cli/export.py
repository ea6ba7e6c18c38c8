"""``mlops export``: the pipeline of dvc.yaml as an Airflow DAG, a Prefect flow or a Kubeflow
pipeline; ``--check`` fails when the committed definition is stale."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "export"]


class Target(str, Enum):
    airflow = "airflow"
    prefect = "prefect"
    kfp = "kfp"


def export(
    target: Annotated[
        Target | None,
        typer.Argument(
            help="Orchestrator to write for (default: [tool.mlops] orchestrator of the project).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            help="Where to write the definition (default: orchestration/<orchestrator file>).",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the committed file is stale."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Write dvc.yaml's pipeline for an orchestrator: one task per stage, same order, same files."""
    from mlops_common.config import load_project_config
    from mlops_common.errors import InputError
    from mlops_common.orchestrate import ExportResult, target_of
    from mlops_common.orchestrate import export as run_export

    config = load_project_config()
    chosen = target.value if target is not None else None
    if chosen is None:
        chosen = target_of(str(config.extra.get("orchestrator", "dvc")))
    if chosen is None:
        if not check:
            raise InputError(
                "[tool.mlops] orchestrator is dvc: name one, e.g. `mlops export prefect`"
            )
        emit(
            ExportResult(target="dvc", path="dvc.yaml", state="nothing", check=True),
            as_json=as_json,
        )
        return
    emit(run_export(config.root, chosen, output=output, check=check), as_json=as_json)


COMMANDS = [export]
