"""Heavy integrations (orchestrators, Spark, Feast, the retrain loop) each run in their own nox
session and environment: ``nox -s <name>`` sets MLOPS_INTEGRATION=<name> and collects only
tests/integrations/<name>/. The core ``nox -s tests`` session collects none of them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    path = Path(collection_path).resolve()
    if path.parent != HERE or not path.is_dir():
        return None
    return path.name != os.environ.get("MLOPS_INTEGRATION")


@dataclass
class Orchestrated:
    """A project rendered with an orchestrator, beside the same project run by plain
    ``dvc repro`` (``reference``, started at once): the orchestrated run must match it."""

    project: Path
    env: dict[str, str]
    plain: Path
    plain_env: dict[str, str]
    reference: subprocess.Popen

    def assert_same_as_dvc_repro(self, logs: str) -> None:
        """Every stage ran through DVC: champion v1, dvc.lock and the cache complete, and the
        training run's lineage and params those of the reference run."""
        from tools import project_workflow as workflow

        assert self.reference.wait(timeout=900) == 0, self.reference.stdout.read().decode()[-4000:]
        for stage in ("prepare", "validate", "train", "evaluate", "register"):
            assert f"Running stage '{stage}'" in logs, logs[-4000:]
        champion = workflow.champion(self.project, self.env)
        assert str(champion["version"]) == "1"
        status = workflow.run(["dvc", "status"], self.project, self.env)
        assert "up to date" in status.stdout, status.stdout
        ran = workflow.train_run(self.project, self.env)
        ref = workflow.train_run(self.plain, self.plain_env)
        assert champion["tags"]["mlops.run_id"] == ran["run_id"]
        head = workflow.run(["git", "rev-parse", "HEAD"], self.project, self.env).stdout.strip()
        assert ran["tags"]["mlops.git.commit"] == head
        assert any(key.startswith("mlops.dvc.") for key in ran["tags"])
        ours, theirs = (self.project, ran["tags"]), (self.plain, ref["tags"])
        assert workflow.lineage_differences(ours, theirs) == []
        assert ran["params"] == ref["params"]


@pytest.fixture
def orchestrated(project_env, tmp_path: Path) -> Iterator[Callable[[str], Orchestrated]]:
    """``orchestrated("prefect")``: both projects rendered and committed, the reference
    ``dvc repro`` running; the orchestrated project's env points its stages at the shared
    project environment (MLOPS_PROJECT_ENV). A reference still running at the end is stopped."""
    from tools import project_workflow as workflow

    started: list[subprocess.Popen] = []

    def start(orchestrator: str) -> Orchestrated:
        snapshot = workflow.template_snapshot(tmp_path / "template")
        project = workflow.render_project(
            tmp_path / orchestrator, src=snapshot, orchestrator=orchestrator
        )
        plain = workflow.render_project(tmp_path / "dvc", src=snapshot)
        env, plain_env = project_env.env_for(project), project_env.env_for(plain)
        for folder, variables in ((project, env), (plain, plain_env)):
            workflow.git_init_commit(folder, variables)
        reference = subprocess.Popen(
            ["dvc", "repro"],
            cwd=plain,
            env=plain_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append(reference)
        env["MLOPS_PROJECT_ENV"] = str(project_env.venv)
        return Orchestrated(project, env, plain, plain_env, reference)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
