"""Real MLflow for the library tests: a temp sqlite store with a file artifact root, and an
``mlflow server`` on 127.0.0.1 that is started, waited for and always stopped.

A fresh sqlite store costs ~1.4 s (schema migrations) and a server 10-20 s to answer, so both are
session-scoped: tests share them and keep apart by unique experiment and model names.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlops_common.config import ProjectConfig
from tools.processes import free_port, stop_process_group

MLFLOW_BIN = Path(sys.executable).parent / "mlflow"
# Seconds. 10-19 s on an idle 2-core machine, but over 2 min when other suites load it.
SERVER_START_TIMEOUT = 300.0


@dataclass(frozen=True)
class MlflowStore:
    """A sqlite tracking/registry store and its file artifact root, both in a temp folder."""

    root: Path
    tracking_uri: str
    artifact_location: str

    def config(self, root: Path, **values: Any) -> ProjectConfig:
        """A project rooted at ``root`` whose ``[tool.mlops]`` points at this store."""
        return ProjectConfig(
            root=root,
            tracking_uri=self.tracking_uri,
            artifact_location=self.artifact_location,
            **values,
        )

    def logged_model(self, root: Path, experiment: str, model: Any, features: Any) -> Any:
        """Log ``model`` in a new tracked run of ``experiment``; MLflow's ModelInfo (``run_id``)."""
        from mlops_common.tracking import log_model, tracked_run

        with tracked_run("train", config=self.config(root, experiment=experiment)):
            return log_model(model, input_example=features.head(5))


def _unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def unique_name() -> Callable[[str], str]:
    """``unique_name("churn")``: experiment/model names that never collide in a shared store."""
    return _unique_name


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """One migrated sqlite store per test session (per xdist worker)."""
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("mlflow-store")
    uri = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()  # runs the migrations
    return MlflowStore(root=root, tracking_uri=uri, artifact_location=(root / "artifacts").as_uri())


@pytest.fixture(scope="session")
def tiny_classifier() -> tuple[Any, Any, Any]:
    """``(model, X, y)``: LogisticRegression fitted on 50 rows of two numeric features."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    features = pd.DataFrame({"tenure": rng.uniform(0, 60, 50), "charges": rng.uniform(20, 120, 50)})
    target = (features["tenure"] < 20).astype(int)
    return LogisticRegression(max_iter=200).fit(features, target), features, target


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a real ``mlflow server`` (sqlite backend, proxied artifacts).

    Runs in its own process group so stopping it also stops the uvicorn workers it spawned.
    """
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # The job runner (huey workers) is for GenAI jobs; it only slows the start here.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    command = [
        str(MLFLOW_BIN),
        "server",
        "--backend-store-uri",
        f"sqlite:///{(root / 'server.db').as_posix()}",
        "--artifacts-destination",
        (root / "artifacts").as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server on {url} did not become healthy:\n{tail}")
            time.sleep(0.25)
        yield url
    finally:
        stop_process_group(process)
