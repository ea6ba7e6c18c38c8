"""``mlops export prefect``: a Prefect 3 flow with one task per stage of ``dvc.yaml``."""

from __future__ import annotations

from mlops_common.orchestrate import _source
from mlops_common.orchestrate.pipeline import Pipeline

__all__ = ["PATH", "render"]

PATH = "orchestration/prefect_flow.py"

_RUN = """\
Run it locally (a temporary Prefect server starts and stops with the flow):
    python orchestration/prefect_flow.py
or serve it from a Prefect server or Prefect Cloud (PREFECT_API_URL):
    prefect deploy orchestration/prefect_flow.py:pipeline --name NAME --pool POOL
"""


def render(pipeline: Pipeline, name: str) -> str:
    """The flow's source; ``name`` is the project's distribution name (the flow's name)."""
    return (
        _source.header("Prefect", "prefect", _RUN) + "\nfrom __future__ import annotations\n\n"
        "import os\nimport subprocess\nfrom pathlib import Path\n\n"
        "from prefect import flow, task\n"
        "from prefect.task_runners import ThreadPoolTaskRunner\n\n"
        + _source.stage_table(pipeline)
        + _source.RUNTIME
        + f'''

@task
def repro(stage: str) -> None:
    run_stage(stage)


# One worker: DVC holds one lock per working copy, so stages never run side by side.
@flow(
    name={_source.literal(name + "-pipeline")},
    task_runner=ThreadPoolTaskRunner(max_workers=1),
)
def pipeline() -> None:
    """Every stage of dvc.yaml, each after the stages whose outputs it reads."""
    runs = {{}}
    for stage, spec in STAGES.items():
        upstream = [runs[before] for before in spec["after"]]
        runs[stage] = repro.with_options(name=stage).submit(stage, wait_for=upstream)
    for run in runs.values():
        run.result()  # raises when a stage failed, which fails the flow


if __name__ == "__main__":
    pipeline()
'''
    )
