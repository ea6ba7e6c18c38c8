"""Service access on a real uvicorn server: bearer token, JSON only, body-size limit, no /docs."""

from __future__ import annotations

import pytest

from mlops_common.errors import ConfigError
from mlops_common.registry import register_model
from mlops_common.serving.access import AccessSettings
from tools.processes import serve_in_thread

TOKEN = "correct horse battery staple"
RECORD = {"tenure": 12.0, "charges": 70.5}


@pytest.fixture(scope="module")
def model_uri(mlflow_store, tiny_classifier, tmp_path_factory) -> str:
    model, features, _ = tiny_classifier
    root = tmp_path_factory.mktemp("access")
    info = mlflow_store.logged_model(root, "access", model, features)
    uri = mlflow_store.tracking_uri
    version = register_model(
        info.run_id, "access-model", model_uri=info.model_uri, tracking_uri=uri
    )
    return f"models:/access-model/{version}"


@pytest.fixture(scope="module")
def service(model_uri, mlflow_store, tmp_path_factory):
    from mlops_common.serving import create_app

    app = create_app(
        model_uri,
        prediction_log=tmp_path_factory.mktemp("log") / "predictions.jsonl",
        tracking_uri=mlflow_store.tracking_uri,
        # maxItems + 1 records stay under the body limit, so Schemathesis meets the 422 for them
        max_records=20,
        access=AccessSettings(token=TOKEN, max_body_bytes=2048),
    )
    with serve_in_thread(app) as url:
        yield url


def test_token_is_needed_for_predictions_and_metadata_but_not_probes(service):
    import httpx

    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"records": [RECORD]}
    assert httpx.post(f"{service}/predict", json=body, headers=auth).status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = httpx.post(f"{service}/predict", json=body, headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{service}/metadata", headers=headers).status_code == 401
    for probe in ("/health", "/ready", "/ping"):
        assert httpx.get(f"{service}{probe}").status_code == 200


def test_only_json_bodies_are_accepted(service):
    import httpx

    auth = {"Authorization": f"Bearer {TOKEN}"}
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        refused = httpx.post(
            f"{service}/predict",
            content=b'{"records": [{"tenure": 1.0, "charges": 2.0}]}',
            headers={**auth, "Content-Type": media},
        )
        assert refused.status_code == 415, media
    ok = httpx.post(
        f"{service}/predict",
        content=b'{"records": [{"tenure": 1.0, "charges": 2.0}]}',
        headers={**auth, "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200


def test_bodies_over_the_limit_are_413_whatever_content_length_says(service):
    import httpx

    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    big = {"records": [RECORD] * 200}
    assert httpx.post(f"{service}/predict", json=big, headers=auth).status_code == 413

    def chunks():  # streamed: no Content-Length at all
        yield b'{"records": ['
        for _ in range(200):
            yield b'{"tenure": 1.0, "charges": 2.0},'
        yield b'{"tenure": 1.0, "charges": 2.0}]}'

    streamed = httpx.post(f"{service}/predict", content=chunks(), headers=auth)
    assert streamed.status_code == 413


def test_docs_are_off_and_openapi_documents_every_answer(service):
    import httpx

    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{service}/docs", headers=auth).status_code == 404
    assert httpx.get(f"{service}/redoc", headers=auth).status_code == 404
    schema = httpx.get(f"{service}/openapi.json", headers=auth).json()
    predict = schema["paths"]["/predict"]["post"]["responses"]
    assert {"200", "401", "413", "415", "422", "503"} <= set(predict)
    assert "401" not in schema["paths"]["/health"]["get"]["responses"]


def test_access_settings_come_from_the_environment():
    settings = AccessSettings.from_env(
        {"MLOPS_API_TOKEN": " t ", "MLOPS_MAX_BODY_BYTES": "10", "MLOPS_DOCS": "1"}
    )
    assert (settings.token, settings.max_body_bytes, settings.docs) == ("t", 10, True)
    assert AccessSettings.from_env({}) == AccessSettings()
    with pytest.raises(ConfigError, match="MLOPS_MAX_BODY_BYTES"):
        AccessSettings.from_env({"MLOPS_MAX_BODY_BYTES": "lots"})


def test_schemathesis_finds_no_server_error_and_no_undocumented_status(service, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    # The test group installs schemathesis next to this interpreter.
    st = str(Path(sys.executable).parent / "st")
    command = [st, "run", f"{service}/openapi.json", "--checks", "all"]
    command += ["--max-examples", "25", "--header", f"Authorization: Bearer {TOKEN}"]
    command += ["--request-timeout", "10", "--seed", "1", "--no-color"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-2000:]
