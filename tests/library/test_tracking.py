"""mlops_common.tracking against a real sqlite MLflow store, real git and real files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_common.config import ProjectConfig
from mlops_common.errors import InputError, TrackingUnavailable
from mlops_common.store import mlflow_uris
from mlops_common.tracking import (
    KEY_PACKAGES,
    collect_lineage,
    flatten_params,
    log_model,
    model_pip_requirements,
    tracked_run,
)

PARAMS_YAML = """\
prepare:
  test_size: 0.2
train:
  model:
    C: 0.5
    max_iter: 200
  features: [tenure, charges]
seed: 7
"""

DVC_LOCK = """\
schema: '2.0'
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
    - path: data/raw.csv
      hash: md5
      md5: 0123456789abcdef0123456789abcdef
      size: 1024
    params:
      params.yaml:
        prepare.test_size: 0.2
    outs:
    - path: data/prepared
      hash: md5
      md5: fedcba9876543210fedcba9876543210.dir
      size: 2048
      nfiles: 2
"""


@pytest.fixture(autouse=True)
def _no_ambient_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A committed git project with params.yaml and dvc.lock."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "params.yaml").write_text(PARAMS_YAML, encoding="utf-8")
    (root / "dvc.lock").write_text(DVC_LOCK, encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "initial")
    return root


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(store):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)


# ------------------------------------------------------------------------------- fast failure


def test_tracked_run_on_unreachable_server_fails_before_mlflow_client_retries(project):
    uri = f"http://127.0.0.1:{_closed_port()}"
    config = ProjectConfig(root=project, tracking_uri=uri)
    # MLflow's own client would raise MlflowException after minutes of retries; our probe
    # raises TrackingUnavailable and no run is ever started.
    with pytest.raises(TrackingUnavailable, match="did not answer"), tracked_run(config=config):
        pytest.fail("the body must not run when the server is down")
    if "mlflow" in sys.modules:  # imported by an earlier test: still no run left open
        assert sys.modules["mlflow"].active_run() is None


# ---------------------------------------------------------------------------------- lineage


def test_lineage_records_git_commit_and_dirty_flag(project):
    commit = _git(project, "rev-parse", "HEAD")
    clean = collect_lineage(project)
    assert clean.git_commit == commit
    assert clean.git_dirty is False
    (project / "params.yaml").write_text(PARAMS_YAML + "extra: 1\n", encoding="utf-8")
    assert collect_lineage(project).git_dirty is True


def test_dvc_lock_written_and_staged_by_the_pipeline_itself_leaves_the_tree_clean(project):
    """An orchestrator runs `dvc repro --single-item` per stage; with core.autostage DVC stages
    dvc.lock after each one, and the training run must still read "clean", as under `dvc repro`."""
    lock = project / "dvc.lock"
    lock.write_text("schema: '2.0'\nstages: {}\n", encoding="utf-8")
    _git(project, "add", "dvc.lock")
    assert collect_lineage(project).git_dirty is False
    _git(project, "commit", "-q", "-m", "lock")
    lock.write_text("schema: '2.0'\nstages: {prepare: {}}\n", encoding="utf-8")
    assert collect_lineage(project).git_dirty is False
    (project / "params.yaml").write_text(PARAMS_YAML + "extra: 1\n", encoding="utf-8")
    assert collect_lineage(project).git_dirty is True


def test_lineage_outside_a_git_repository_is_unknown_without_crashing(tmp_path):
    lineage = collect_lineage(tmp_path)
    assert lineage.git_commit == "unknown"
    assert lineage.git_dirty is None
    assert lineage.tags()["mlops.git.dirty"] == "unknown"
    assert "mlflow.source.git.commit" not in lineage.tags()
    assert lineage.dvc_hashes == {}
    assert lineage.params == {}


def test_lineage_reads_dvc_hashes_of_deps_and_outs_from_dvc_lock(project):
    lineage = collect_lineage(project)
    assert lineage.dvc_hashes == {
        "data/prepared": "fedcba9876543210fedcba9876543210.dir",
        "data/raw.csv": "0123456789abcdef0123456789abcdef",
    }
    assert lineage.tags()["mlops.dvc.data/raw.csv"] == "0123456789abcdef0123456789abcdef"


def test_lineage_flattens_params_and_records_python_and_package_versions(project):
    import platform
    from importlib import metadata

    lineage = collect_lineage(project)
    assert lineage.params["train.model.C"] == 0.5
    assert lineage.params["train.features"] == '["tenure", "charges"]'
    assert lineage.params["seed"] == 7
    assert lineage.python_version == platform.python_version()
    assert set(lineage.packages) == set(KEY_PACKAGES)
    assert lineage.packages["mlflow"] == metadata.version("mlflow")
    assert lineage.to_dict()["git_commit"] == lineage.git_commit


def test_flatten_params_joins_nested_keys_with_dots():
    assert flatten_params({"a": {"b": {"c": 1}, "d": [1, 2]}, "e": None, "f": {}}) == {
        "a.b.c": 1,
        "a.d": "[1, 2]",
        "e": None,
        "f": {},
    }


# ------------------------------------------------------------------------------- tracked runs


def test_tracked_run_records_lineage_params_and_validation_result(
    unique_name, project, mlflow_store
):
    import pandas as pd

    from mlops_common.validation import validate

    suite = {
        "name": "customers",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "tenure"}}
        ],
    }
    result = validate(pd.DataFrame({"tenure": [1.0, 2.0, 3.0]}), suite)
    experiment = unique_name("lineage")
    config = mlflow_store.config(project, experiment=experiment)
    with tracked_run("train", validation=result, tags={"stage": "train"}, config=config) as run:
        run_id = run.info.run_id

    client = _client(mlflow_store)
    stored = client.get_run(run_id)
    tags, params = stored.data.tags, stored.data.params
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name == "train"
    assert client.get_experiment(stored.info.experiment_id).name == experiment
    assert stored.info.artifact_uri.startswith(mlflow_store.artifact_location)
    assert tags["mlops.git.commit"] == _git(project, "rev-parse", "HEAD")
    assert tags["mlops.git.dirty"] == "false"
    assert tags["mlops.dvc.data/raw.csv"] == "0123456789abcdef0123456789abcdef"
    assert tags["mlops.pkg.scikit-learn"]
    assert tags["mlops.validation.success"] == "true"
    assert tags["mlops.validation.suite"] == "customers"
    assert tags["stage"] == "train"
    assert params["train.model.C"] == "0.5"
    assert params["prepare.test_size"] == "0.2"
    assert stored.data.metrics["validation_success"] == 1.0
    local = client.download_artifacts(run_id, "validation/validation_result.json")
    assert json.loads(Path(local).read_text())["suite_name"] == "customers"


def test_tracked_run_logs_a_failed_validation_from_its_json_file(
    unique_name, project, mlflow_store, tmp_path
):
    report = tmp_path / "validation.json"
    report.write_text(json.dumps({"success": False, "suite_name": "orders", "results": []}))
    config = mlflow_store.config(project, experiment=unique_name("invalid"))
    with tracked_run(validation=report, config=config) as run:
        run_id = run.info.run_id
    stored = _client(mlflow_store).get_run(run_id)
    assert stored.data.tags["mlops.validation.success"] == "false"
    assert stored.data.metrics["validation_success"] == 0.0


def test_tracked_run_with_missing_validation_file_is_an_input_error(
    unique_name, project, mlflow_store
):
    import mlflow

    config = mlflow_store.config(project, experiment=unique_name("missing"))
    missing = project / "nope.json"
    with (
        pytest.raises(InputError, match="validation result not found"),
        tracked_run(validation=missing, config=config),
    ):
        pytest.fail("the body must not run")
    assert mlflow.active_run() is None


def test_tracked_run_marks_the_run_failed_when_the_body_raises(unique_name, project, mlflow_store):
    import mlflow

    config = mlflow_store.config(project, experiment=unique_name("failing"))
    with pytest.raises(ZeroDivisionError), tracked_run(config=config) as run:
        run_id = run.info.run_id
        _ = 1 / 0
    assert mlflow.active_run() is None
    assert _client(mlflow_store).get_run(run_id).info.status == "FAILED"


def test_tracked_run_as_decorator_starts_one_run_per_call(unique_name, project, mlflow_store):
    import mlflow

    experiment = unique_name("decorated")
    config = mlflow_store.config(project, experiment=experiment)

    @tracked_run("fit", config=config)
    def fit(c: float) -> str:
        mlflow.log_metric("c", c)
        return mlflow.active_run().info.run_id

    first, second = fit(1.0), fit(2.0)
    assert first != second
    client = _client(mlflow_store)
    assert client.get_run(first).data.metrics["c"] == 1.0
    assert client.get_run(second).info.status == "FINISHED"

    @tracked_run
    def bare() -> str:
        return mlflow.active_run().info.run_name

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", mlflow_store.tracking_uri)
        patch.chdir(project)
        assert bare() == "bare"


def test_log_model_pins_requirements_and_infers_signature(
    unique_name, project, mlflow_store, tiny_classifier
):
    import mlflow.sklearn

    model, features, _ = tiny_classifier
    config = mlflow_store.config(project, experiment=unique_name("model"))
    with tracked_run("train", config=config):
        info = log_model(model, input_example=features.head(5))
    assert info.signature is not None
    assert [spec.name for spec in info.signature.inputs] == ["tenure", "charges"]
    with mlflow_uris(mlflow_store.tracking_uri):  # models:/ resolves through MLflow's globals
        local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
        reloaded = mlflow.sklearn.load_model(info.model_uri)
    requirements = (local / "requirements.txt").read_text().split()
    assert requirements == model_pip_requirements()
    assert any(line.startswith("scikit-learn==") for line in requirements)
    assert list(reloaded.predict(features)) == list(model.predict(features))


def test_tracked_run_leaves_no_tracking_uri_behind_for_later_calls(
    mlflow_store, tmp_path, monkeypatch
):
    # mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; left set, it would outrank the project
    # config of the next tracked_run in the same process and log to the wrong store.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with tracked_run("no-leak", config=mlflow_store.config(tmp_path), params_file=None):
        pass
    assert "MLFLOW_TRACKING_URI" not in os.environ
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///" + str(other / "kept.db"))
    with tracked_run("kept", config=mlflow_store.config(tmp_path), params_file=None):
        pass
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:///" + str(other / "kept.db")
