"""Fixtures shared by every part of the suite: rendering the real template with real Copier."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools import project_workflow  # shared with `nox -s demo` and benchmarks/bench_template.py

REPO_ROOT = Path(__file__).resolve().parent.parent

BIN_DIR = Path(sys.executable).parent

BASE_ANSWERS = project_workflow.BASE_ANSWERS
render = project_workflow.render_project


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return stdout; fail loudly with git's own message."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


@pytest.fixture(autouse=True)
def _isolate_mlflow_uris() -> Iterator[None]:
    """MLflow keeps tracking/registry URIs in module globals and exports them as environment
    variables: whatever one test sets must not decide which store the next test in the same
    worker talks to. ``mlflow_uris()`` undoes both on exit (and never imports MLflow itself)."""
    from mlops_common.store import mlflow_uris

    with mlflow_uris():
        yield


@pytest.fixture
def render_project(tmp_path: Path) -> Callable[..., Path]:
    """``render_project(**answers)`` renders into a fresh folder under ``tmp_path``."""
    counter = iter(range(1_000))

    def _render(**answers: Any) -> Path:
        return render(tmp_path / f"project{next(counter)}", **answers)

    return _render


# ------------------------------------------------------------ end-to-end: one shared environment


@dataclass(frozen=True)
class ProjectEnv:
    """The virtualenv every end-to-end test runs rendered projects in (see project_workflow)."""

    venv: Path
    wheel: Path

    def env_for(self, project: Path) -> dict[str, str]:
        return project_workflow.project_env(self.venv, project)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` held for the block (other xdist workers wait)."""
    import fcntl

    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def project_env(tmp_path_factory: pytest.TempPathFactory) -> ProjectEnv:
    """Build the mlops-common wheel once and install it with a rendered project's dependencies
    into ONE virtualenv per test session, shared by all xdist workers (guarded by a file lock)."""
    basetemp = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is <session>/popen-gwN: share their common parent.
    # Without xdist the parent is shared by every pytest run, so stay in this run's folder.
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    home = shared / "e2e-env"
    ready = home / "ready.json"
    with _file_lock(shared / "e2e-env.lock"):
        if not ready.is_file():
            if home.exists():
                shutil.rmtree(home)  # a half-built environment from an interrupted attempt
            wheel = project_workflow.build_library_wheel(home / "dist")
            reference = project_workflow.render_project(home / "reference")
            venv = project_workflow.create_project_env(home / "venv", reference, wheel)
            ready.write_text(json.dumps({"venv": str(venv), "wheel": str(wheel)}))
    info = json.loads(ready.read_text())
    return ProjectEnv(venv=Path(info["venv"]), wheel=Path(info["wheel"]))
