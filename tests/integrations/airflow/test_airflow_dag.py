"""`airflow dags test` runs the DAG that `mlops export airflow` writes, end to end, to a champion:
a local sqlite metadata database (`airflow db migrate`, AIRFLOW_HOME in a temporary folder, no
example DAGs), Airflow in this session's environment (installed from the committed constraints),
the stages in the project's. The training run carries the same lineage tags as under plain
`dvc repro`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools import project_workflow as workflow

AIRFLOW = str(Path(sys.executable).parent / "airflow")


@pytest.mark.e2e
def test_airflow_dags_test_runs_the_pipeline_to_a_champion_with_dvcs_lineage(
    project_env, tmp_path: Path
) -> None:
    snapshot = workflow.template_snapshot(tmp_path / "template")
    dag_project = workflow.render_project(
        tmp_path / "airflow", src=snapshot, orchestrator="airflow"
    )
    plain = workflow.render_project(tmp_path / "dvc", src=snapshot)
    env, plain_env = project_env.env_for(dag_project), project_env.env_for(plain)
    for project, variables in ((dag_project, env), (plain, plain_env)):
        workflow.git_init_commit(project, variables)
    # The reference run, side by side with the DAG: the same project run by `dvc repro`.
    reference = subprocess.Popen(
        ["dvc", "repro"], cwd=plain, env=plain_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    home = tmp_path / "airflow-home"
    env.update(
        {
            "MLOPS_PROJECT_ENV": str(project_env.venv),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dag_project / "orchestration"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "SCARF_ANALYTICS": "false",
        }
    )
    workflow.run([AIRFLOW, "db", "migrate"], dag_project, env, timeout=600)
    ran = workflow.run(
        [AIRFLOW, "dags", "test", "churn_model_pipeline"], dag_project, env, timeout=900
    )
    assert reference.wait(timeout=900) == 0, reference.stdout.read().decode()[-4000:]

    logs = ran.stdout + ran.stderr
    for stage in ("prepare", "validate", "train", "evaluate", "register"):
        assert f"Running stage '{stage}'" in logs, logs[-4000:]
    champion = workflow.champion(dag_project, env)
    assert str(champion["version"]) == "1"
    status = workflow.run(["dvc", "status"], dag_project, env)
    assert "up to date" in status.stdout, status.stdout
    run, ref = workflow.train_run(dag_project, env), workflow.train_run(plain, plain_env)
    assert champion["tags"]["mlops.run_id"] == run["run_id"]
    head = workflow.run(["git", "rev-parse", "HEAD"], dag_project, env).stdout.strip()
    assert run["tags"]["mlops.git.commit"] == head
    assert any(key.startswith("mlops.dvc.") for key in run["tags"])
    assert workflow.lineage_differences((dag_project, run["tags"]), (plain, ref["tags"])) == []
    assert run["params"] == ref["params"]


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
