"""DVC data and MLflow artifacts really travel through each cloud's storage protocol.

The storage is an emulator on 127.0.0.1 (moto S3, GCS emulator, Azurite); DVC and MLflow use
their real cloud clients (s3fs/boto3, gcsfs/google-cloud-storage, adlfs/azure-storage-blob).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cloud_helpers import Storage, dvc, render, run

pytestmark = pytest.mark.emulator

DATA = b"customer_id,tenure,churned\n" + b"".join(
    f"{index},{index % 72},{index % 3 == 0:d}\n".encode() for index in range(500)
)


def _dvc_repo(root: Path, storage: Storage) -> Path:
    """A project rendered for ``storage.cloud`` whose DVC remote is the emulated bucket.

    The rendered `.dvc/config` holds only the cloud URL; the emulator endpoint and credentials
    go to `.dvc/config.local` (`--local`), exactly as a client keeps them out of git.
    """
    render(root, cloud=storage.cloud, dvc_remote_url=storage.dvc_url)
    run(["git", "init", "-q"], cwd=root)
    for option, value in storage.dvc_local_options.items():
        dvc(root, "remote", "modify", "--local", "storage", option, value)
    return root


def test_dvc_push_then_pull_restores_identical_bytes(storage: Storage, tmp_path: Path):
    repo = _dvc_repo(tmp_path / f"{storage.cloud}-project", storage)
    data_file = repo / "data" / "external.csv"
    data_file.parent.mkdir(exist_ok=True)
    data_file.write_bytes(DATA)
    dvc(repo, "add", "data/external.csv")
    dvc(repo, "push", "data/external.csv.dvc", env=storage.env)

    committed = (repo / ".dvc" / "config").read_text()
    assert storage.dvc_url in committed
    assert "127.0.0.1" not in committed, "the emulator endpoint must stay in config.local"
    assert any(key.startswith("dvc/") or "/dvc/" in f"/{key}" for key in storage.list_keys())

    data_file.unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    dvc(repo, "pull", "data/external.csv.dvc", env=storage.env)
    assert data_file.read_bytes() == DATA


def test_mlflow_run_artifacts_land_in_emulated_bucket(
    storage: Storage, tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import mlflow
    from mlflow import MlflowClient

    from mlops_common.store import mlflow_uris

    for name, value in storage.env.items():
        monkeypatch.setenv(name, value)
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment_id = client.create_experiment(
        f"{storage.cloud}-artifacts", artifact_location=storage.artifact_root
    )
    with mlflow_uris(tracking_uri):
        with mlflow.start_run(experiment_id=experiment_id) as active:
            mlflow.log_text("accuracy: 0.91\n", "reports/metrics.txt")
            mlflow.log_dict({"tenure": "long"}, "schema/features.json")
        run_id = active.info.run_id
        downloaded = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="reports/metrics.txt", dst_path=str(tmp_path / "back")
        )

    keys = storage.list_keys()
    assert any(key.endswith(f"{run_id}/artifacts/reports/metrics.txt") for key in keys), keys
    assert any(key.endswith(f"{run_id}/artifacts/schema/features.json") for key in keys), keys
    assert Path(downloaded).read_text() == "accuracy: 0.91\n"
