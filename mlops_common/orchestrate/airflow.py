"""``mlops export airflow``: an Airflow 3 DAG with one task per stage of ``dvc.yaml``."""

from __future__ import annotations

from mlops_common.orchestrate import _source
from mlops_common.orchestrate.pipeline import Pipeline

__all__ = ["PATH", "render"]

PATH = "orchestration/airflow_dag.py"

_RUN = """\
Run it once, locally, without a scheduler (a sqlite metadata database under AIRFLOW_HOME):
    export AIRFLOW_HOME=~/airflow AIRFLOW__CORE__DAGS_FOLDER=$PWD/orchestration
    airflow db migrate && airflow dags test DAG_ID
On a deployment, put this file in the DAGs folder and set MLOPS_PROJECT_DIR (the project's
working copy) and MLOPS_PROJECT_ENV (its virtualenv) for the workers.
"""


def render(pipeline: Pipeline, name: str) -> str:
    """The DAG's source; ``name`` is the project's distribution name (the DAG id's stem)."""
    dag_id = name.replace("-", "_") + "_pipeline"
    return (
        _source.header("Airflow", "airflow", _RUN.replace("DAG_ID", dag_id))
        + "\nfrom __future__ import annotations\n\n"
        "import os\nimport subprocess\nfrom pathlib import Path\n\n"
        "from airflow.sdk import DAG, task\n\n"
        + _source.stage_table(pipeline)
        + _source.RUNTIME
        + f"""

@task
def repro(stage: str) -> None:
    run_stage(stage)


# One task at a time: DVC holds one lock per working copy. Triggered by hand or by CI (no
# schedule); retries are the orchestrator's choice, not DVC's.
with DAG(
    dag_id={_source.literal(dag_id)},
    schedule=None,
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=["mlops"],
    doc_md=__doc__,
) as dag:
    tasks = {{stage: repro.override(task_id=stage)(stage) for stage in STAGES}}
    for stage, spec in STAGES.items():
        for before in spec["after"]:
            tasks[before] >> tasks[stage]
"""
    )
