"""``mlops serve`` with a feature store: entity-keyed requests on a real uvicorn server, features
from the real Feast online store, validated, predicted and captured like records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mlops_common.feature_store import FeatureSet, FeatureStoreSettings
from tools.processes import serve_in_thread

TOKEN = "feature store token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def service(repo, tmp_path_factory):
    """A model trained on (x, y), served with the module's repository materialised."""
    import mlflow
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from mlops_common.config import ProjectConfig
    from mlops_common.registry import register_model
    from mlops_common.serving import create_app
    from mlops_common.serving.access import AccessSettings
    from mlops_common.tracking import log_model, tracked_run

    root = tmp_path_factory.mktemp("served")
    uri = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
    mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()  # migrations
    config = ProjectConfig(root=root, tracking_uri=uri, artifact_location=(root / "a").as_uri())
    frame = pd.DataFrame({"x": [1.0, 2.0, 901.0, 902.0] * 5, "y": [0.5, 0.5, 9.5, 9.5] * 5})
    model = LogisticRegression().fit(frame, (frame["x"] > 100).astype(int))
    with tracked_run("train", config=config, params_file=None) as run:
        info = log_model(model, input_example=frame.head(3))
    version = register_model(
        run.info.run_id, "fs-model", model_uri=info.model_uri, tracking_uri=uri
    )
    FeatureSet.open(repo.path, "model_inputs").materialize(end=repo.later + timedelta(hours=1))
    log = root / "predictions.jsonl"
    app = create_app(
        f"models:/fs-model/{version}",
        prediction_log=log,
        tracking_uri=uri,
        max_records=20,
        access=AccessSettings(token=TOKEN, max_body_bytes=4096),
        feature_store=FeatureStoreSettings(repo.path, "model_inputs"),
    )
    with serve_in_thread(app) as url:
        yield url, log


def test_entities_are_predicted_from_the_online_features_and_captured(service):
    import httpx

    url, log = service
    answer = httpx.post(
        f"{url}/predict", json={"entities": [{"patient_id": 1}, {"patient_id": 2}]}, headers=AUTH
    )
    assert answer.status_code == 200, answer.text
    same = httpx.post(
        f"{url}/predict",
        json={"records": [{"x": 901.0, "y": 9.5}, {"x": 902.0, "y": 9.5}]},
        headers=AUTH,
    )
    assert answer.json()["predictions"] == same.json()["predictions"] == [1, 1]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(line["x"], line["y"]) for line in lines[-4:-2]] == [(901.0, 9.5), (902.0, 9.5)]
    assert lines[-4]["request_id"] == answer.headers["x-request-id"]


def test_an_entity_without_features_is_a_404_naming_it(service):
    import httpx

    url, log = service
    before = log.read_text()
    refused = httpx.post(
        f"{url}/predict", json={"entities": [{"patient_id": 1}, {"patient_id": 77}]}, headers=AUTH
    )
    assert refused.status_code == 404
    assert refused.json()["detail"].startswith(
        'entities[1]: the online store has no features for {"patient_id": 77}'
    )
    assert log.read_text() == before  # nothing predicted, nothing captured


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"entities": [{"patient_id": "1"}]}, "entities[0].patient_id: input should be a valid"),
        ({"entities": [{"id": 1}]}, "entities[0].patient_id: field required"),
        ({"entities": []}, "entities: list should have at least 1 item"),
        ({"entities": [{"patient_id": 1}], "records": []}, "records: extra inputs are not"),
    ],
)
def test_malformed_entities_are_refused_like_records(service, body, message):
    import httpx

    refused = httpx.post(f"{service[0]}/predict", json=body, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(message), refused.json()


def test_openapi_and_metadata_describe_the_entities(service):
    import httpx

    url = service[0]
    schema = httpx.get(f"{url}/openapi.json", headers=AUTH).json()
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    entity = body["schema"]["properties"]["entities"]["items"]
    assert entity["required"] == ["patient_id"]
    assert entity["properties"]["patient_id"]["type"] == "integer"
    metadata = httpx.get(f"{url}/metadata", headers=AUTH).json()["feature_store"]
    assert metadata["service"] == "model_inputs"
    assert metadata["views"] == {"measurements": 0}
    assert metadata["entity_keys"] == {"patient_id": "integer"}


def test_schemathesis_finds_no_server_error_and_no_undocumented_status(service, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    st = str(Path(sys.executable).parent / "st")
    command = [st, "run", f"{service[0]}/openapi.json", "--checks", "all"]
    command += ["--max-examples", "25", "--header", f"Authorization: Bearer {TOKEN}"]
    command += ["--request-timeout", "10", "--seed", "1", "--no-color"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-2000:]
