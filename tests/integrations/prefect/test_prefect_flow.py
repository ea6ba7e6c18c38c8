"""The Prefect flow that `mlops export prefect` writes runs a rendered project to a champion, on
an ephemeral local Prefect server (sqlite under a temporary PREFECT_HOME, no telemetry), and the
training run carries the same lineage tags as under plain `dvc repro`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools import project_workflow as workflow


@pytest.mark.e2e
def test_prefect_flow_runs_the_pipeline_to_a_champion_with_dvcs_lineage(
    project_env, tmp_path: Path
) -> None:
    snapshot = workflow.template_snapshot(tmp_path / "template")
    flow_project = workflow.render_project(
        tmp_path / "prefect", src=snapshot, orchestrator="prefect"
    )
    plain = workflow.render_project(tmp_path / "dvc", src=snapshot)
    env, plain_env = project_env.env_for(flow_project), project_env.env_for(plain)
    for project, project_env_vars in ((flow_project, env), (plain, plain_env)):
        workflow.git_init_commit(project, project_env_vars)
    # The reference run, side by side with the flow: the same project run by `dvc repro`.
    reference = subprocess.Popen(
        ["dvc", "repro"], cwd=plain, env=plain_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    env.update(
        {
            # The stages run in the project's environment, the flow in this one (with Prefect).
            "MLOPS_PROJECT_ENV": str(project_env.venv),
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # The temporary server migrates a fresh sqlite database: slow on a loaded machine.
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    )
    flow = workflow.run(
        [sys.executable, "orchestration/prefect_flow.py"], flow_project, env, timeout=900
    )
    assert reference.wait(timeout=900) == 0, reference.stdout.read().decode()[-4000:]

    logs = flow.stdout + flow.stderr
    for stage in ("prepare", "validate", "train", "evaluate", "register"):
        assert f"Running stage '{stage}'" in logs
    assert "Finished in state Completed()" in logs.splitlines()[-2] + logs.splitlines()[-1]
    champion = workflow.champion(flow_project, env)
    assert str(champion["version"]) == "1"
    # DVC ran every stage: dvc.lock and the cache are as complete as after `dvc repro`.
    status = workflow.run(["dvc", "status"], flow_project, env)
    assert "up to date" in status.stdout, status.stdout
    ran, ref = workflow.train_run(flow_project, env), workflow.train_run(plain, plain_env)
    assert champion["tags"]["mlops.run_id"] == ran["run_id"]
    assert (
        ran["tags"]["mlops.git.commit"]
        == workflow.run(["git", "rev-parse", "HEAD"], flow_project, env).stdout.strip()
    )
    assert any(key.startswith("mlops.dvc.") for key in ran["tags"])
    assert workflow.lineage_differences((flow_project, ran["tags"]), (plain, ref["tags"])) == []
    assert ran["params"] == ref["params"]


@pytest.mark.e2e
def test_a_failing_stage_fails_the_flow_and_nothing_downstream_runs(
    project_env, tmp_path: Path
) -> None:
    project = workflow.render_project(tmp_path / "prefect", orchestrator="prefect")
    workflow.plant_validation_failure(project)
    env = project_env.env_for(project)
    workflow.git_init_commit(project, env)
    env.update(
        {
            "MLOPS_PROJECT_ENV": str(project_env.venv),
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    )
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
