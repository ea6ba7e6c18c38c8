"""`airflow dags test` runs the DAG that `mlops export airflow` writes, end to end, to a champion:
a local sqlite metadata database (`airflow db migrate`, AIRFLOW_HOME in a temporary folder, no
example DAGs), Airflow in this session's environment (installed from the committed constraints),
the stages in the project's. The training run carries the same lineage tags as under plain
`dvc repro`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tools import project_workflow as workflow

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _airflow_env(project: Path, env: dict[str, str], venv: Path, home: Path) -> dict[str, str]:
    return {
        **env,
        "MLOPS_PROJECT_ENV": str(venv),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "orchestration"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "SCARF_ANALYTICS": "false",
    }


def _json_rows(text: str) -> list[dict]:
    """The JSON list an `airflow ... -o json` command prints, among its log lines."""
    for line in reversed(text.splitlines()):
        if line.startswith("["):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue  # a log line like "[2026-12-02T04:30:00] ..."
    raise AssertionError(f"no JSON list in:\n{text[-3000:]}")


@pytest.mark.e2e
def test_airflow_dags_test_runs_the_pipeline_to_a_champion_with_dvcs_lineage(
    orchestrated, project_env, tmp_path: Path
) -> None:
    run = orchestrated("airflow")
    home = tmp_path / "airflow-home"
    run.env = _airflow_env(run.project, run.env, project_env.venv, home)
    workflow.run([AIRFLOW, "db", "migrate"], run.project, run.env, timeout=600)
    ran = workflow.run(
        [AIRFLOW, "dags", "test", "churn_model_pipeline"], run.project, run.env, timeout=900
    )
    run.assert_same_as_dvc_repro(ran.stdout + ran.stderr)


@pytest.mark.e2e
def test_a_failing_stage_fails_the_dag_run_and_marks_downstream_upstream_failed(
    project_env, tmp_path: Path
) -> None:
    project = workflow.render_project(tmp_path / "airflow", orchestrator="airflow")
    workflow.plant_validation_failure(project)
    env = project_env.env_for(project)
    workflow.git_init_commit(project, env)
    env = _airflow_env(project, env, project_env.venv, tmp_path / "airflow-home")
    dag = "churn_model_pipeline"
    workflow.run([AIRFLOW, "db", "migrate"], project, env, timeout=600)
    ran = workflow.run([AIRFLOW, "dags", "test", dag], project, env, check=False, timeout=900)
    logs = ran.stdout + ran.stderr
    assert "Running stage 'validate'" in logs, logs[-4000:]
    for downstream in ("train", "evaluate", "register"):
        assert f"Running stage '{downstream}'" not in logs, logs[-4000:]
    # The failing stage's own error reaches the task's log: mlops validate's verdict.
    assert "expect_table_row_count_to_be_between" in logs, logs[-4000:]

    runs = _json_rows(
        workflow.run([AIRFLOW, "dags", "list-runs", dag, "-o", "json"], project, env).stdout
    )
    assert [r["state"] for r in runs] == ["failed"], runs
    states = _json_rows(
        workflow.run(
            [AIRFLOW, "tasks", "states-for-dag-run", dag, runs[0]["run_id"], "-o", "json"],
            project,
            env,
        ).stdout
    )
    by_task = {row["task_id"]: row["state"] for row in states}
    assert by_task == {
        "prepare": "success",
        "validate": "failed",
        "train": "upstream_failed",
        "evaluate": "upstream_failed",
        "register": "upstream_failed",
    }, by_task
    assert not (project / "models" / "model.pkl").exists()
