"""Model integrity on a real sqlite store: the digest recorded by log_model travels to the
registered version, and a model whose files changed in the artifact store is not loaded."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from mlops_common import store, tags
from mlops_common.integrity import IntegrityError, model_digest, verify_model
from mlops_common.registry import register_model
from mlops_common.serving.model import load_served_model
from mlops_common.tracking import log_model, tracked_run


@pytest.fixture(autouse=True)
def _no_ambient_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def registered(mlflow_store, tiny_classifier, tmp_path, unique_name) -> tuple[str, str]:
    model, features, _ = tiny_classifier
    name = unique_name("sealed")
    config = mlflow_store.config(tmp_path, experiment=name)
    with tracked_run("train", config=config) as run:
        info = log_model(model, input_example=features.head(5))
    version = register_model(
        run.info.run_id, name, model_uri=info.model_uri, tracking_uri=mlflow_store.tracking_uri
    )
    return name, version


def _artifact_folder(uri: str, name: str, version: str) -> Path:
    source = store.client(uri).get_model_version_download_uri(name, version)
    return Path(unquote(urlparse(source).path))


def test_logged_digest_is_on_the_version_and_a_clean_load_is_verified(mlflow_store, registered):
    name, version = registered
    uri = mlflow_store.tracking_uri
    recorded = store.client(uri).get_model_version(name, version).tags[tags.MODEL_DIGEST]
    assert recorded == model_digest(_artifact_folder(uri, name, version))
    served = load_served_model(model_uri=f"models:/{name}/{version}", tracking_uri=uri)
    assert served.integrity == "verified"


def test_a_model_whose_files_changed_after_logging_is_not_loaded(mlflow_store, registered):
    name, version = registered
    uri = mlflow_store.tracking_uri
    pickle = next(_artifact_folder(uri, name, version).glob("model.pkl"))
    pickle.write_bytes(pickle.read_bytes() + b"\0")  # e.g. a replaced pickle
    with pytest.raises(IntegrityError, match="not the sha256:"):
        load_served_model(model_uri=f"models:/{name}/{version}", tracking_uri=uri)


def test_a_version_without_a_recorded_digest_is_served_as_unrecorded(tmp_path):
    first, moved = tmp_path / "first", tmp_path / "moved"
    for folder in (first, moved):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    assert verify_model(first, None, "x") == "unrecorded"
    assert verify_model(first, model_digest(first), "x") == "verified"
    assert model_digest(moved) == model_digest(first)  # where it lives does not count
