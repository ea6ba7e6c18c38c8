"""The Prefect flow that `mlops export prefect` writes runs a rendered project to a champion, on
an ephemeral local Prefect server (sqlite under a temporary PREFECT_HOME, no telemetry), and the
training run carries the same lineage tags as under plain `dvc repro`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools import project_workflow as workflow


def _prefect_env(env: dict[str, str], venv: Path, home: Path) -> dict[str, str]:
    """The flow runs in this environment (with Prefect), its stages in the project's (``venv``),
    on an ephemeral server under ``home``."""
    return {
        **env,
        "MLOPS_PROJECT_ENV": str(venv),
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # The temporary server migrates a fresh sqlite database: slow on a loaded machine.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }


@pytest.mark.e2e
def test_prefect_flow_runs_the_pipeline_to_a_champion_with_dvcs_lineage(
    orchestrated, project_env, tmp_path: Path
) -> None:
    run = orchestrated("prefect")
    run.env = _prefect_env(run.env, project_env.venv, tmp_path / "prefect-home")
    flow = workflow.run(
        [sys.executable, "orchestration/prefect_flow.py"], run.project, run.env, timeout=900
    )
    logs = flow.stdout + flow.stderr
    run.assert_same_as_dvc_repro(logs)
    assert "Finished in state Completed()" in logs.splitlines()[-2] + logs.splitlines()[-1]


@pytest.mark.e2e
def test_a_failing_stage_fails_the_flow_and_nothing_downstream_runs(
    project_env, tmp_path: Path
) -> None:
    project = workflow.render_project(tmp_path / "prefect", orchestrator="prefect")
    workflow.plant_validation_failure(project)
    env = project_env.env_for(project)
    workflow.git_init_commit(project, env)
    env = _prefect_env(env, project_env.venv, tmp_path / "prefect-home")
    flow = workflow.run(
        [sys.executable, "orchestration/prefect_flow.py"], project, env, check=False, timeout=900
    )
    logs = flow.stdout + flow.stderr
    assert flow.returncode != 0, logs[-4000:]
    assert "Running stage 'prepare'" in logs and "Running stage 'validate'" in logs
    for downstream in ("train", "evaluate", "register"):
        assert f"Running stage '{downstream}'" not in logs, logs[-4000:]
    # The failing stage's own error (mlops validate's verdict) and the flow's failed state.
    assert "expect_table_row_count_to_be_between" in logs, logs[-4000:]
    assert "Task run 'validate" in logs and "Finished in state Failed" in logs, logs[-4000:]
    flow_states = [line for line in logs.splitlines() if "Flow run" in line and "state" in line]
    assert flow_states and "Failed" in flow_states[-1], flow_states
    assert not (project / "models" / "model.pkl").exists()
    assert not (project / "reports" / "promotion.json").exists()
