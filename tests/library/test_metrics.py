"""/metrics on a real uvicorn server, scraped over HTTP, read with prometheus_client's parsers."""

from __future__ import annotations

import pytest

from mlops_common.registry import register_model
from mlops_common.serving.access import AccessSettings
from mlops_common.serving.capture import CaptureWriter
from tools.processes import serve_in_thread

TOKEN = "metrics-token"
RECORD = {"tenure": 12.0, "charges": 70.5}


@pytest.fixture(scope="module")
def model_uri(mlflow_store, tiny_classifier, tmp_path_factory) -> str:
    model, features, _ = tiny_classifier
    root = tmp_path_factory.mktemp("metrics")
    info = mlflow_store.logged_model(root, "metrics", model, features)
    version = register_model(
        info.run_id,
        "metrics-model",
        model_uri=info.model_uri,
        tracking_uri=mlflow_store.tracking_uri,
    )
    return f"models:/metrics-model/{version}"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a text-format scrape, keyed by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape[(name, tuple(sorted(labels.items())))]


def test_scrape_counts_requests_latency_predictions_and_capture(model_uri, mlflow_store, tmp_path):
    import httpx

    from mlops_common import __version__
    from mlops_common.serving import create_app

    writer = CaptureWriter(tmp_path / "capture", max_seconds=3600)
    app = create_app(
        model_uri,
        tracking_uri=mlflow_store.tracking_uri,
        capture=writer,
        access=AccessSettings(),
    )
    with serve_in_thread(app) as url:
        before = samples(httpx.get(f"{url}/metrics").text)
        assert value(before, "mlops_model_ready") == 1
        for rows in (3, 1):
            ok = httpx.post(f"{url}/predict", json={"records": [RECORD] * rows})
            assert ok.status_code == 200
        assert httpx.post(f"{url}/predict", json={"records": [{"tenure": "x"}]}).status_code == 422
        for path in ("/no-such-page", "/../etc/passwd", "/wp-login.php"):
            assert httpx.get(f"{url}{path}").status_code == 404
        writer.flush()
        response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    scrape = samples(response.text)
    requests = "mlops_http_requests_total"
    assert value(scrape, requests, route="/predict", method="POST", status="200") == 2
    assert value(scrape, requests, route="/predict", method="POST", status="422") == 1
    # unknown paths share one label value: a scanner cannot grow the series
    assert value(scrape, requests, route="unmatched", method="GET", status="404") == 3
    assert value(scrape, requests, route="/metrics", method="GET", status="200") == 1
    latency = "mlops_http_request_duration_seconds"
    assert value(scrape, f"{latency}_count", route="/predict") == 3
    assert value(scrape, f"{latency}_bucket", route="/predict", le="+Inf") == 3
    assert 0 < value(scrape, f"{latency}_sum", route="/predict") < 3
    assert value(scrape, f"{latency}_bucket", route="/predict", le="0.0005") <= 3
    version = model_uri.rsplit("/", 1)[1]
    predictions = "mlops_predictions_total"
    assert value(scrape, predictions, model_name="metrics-model", model_version=version) == 4
    assert value(scrape, "mlops_capture_records_written_total") == 4
    assert value(scrape, "mlops_capture_records_dropped_total") == 0
    assert value(scrape, "mlops_capture_buffered_records") == 0
    # two requests went through micro-batching, one after the other: a call each
    assert value(scrape, "mlops_batched_requests_total") == 2
    assert value(scrape, "mlops_model_calls_total") == 2
    info = {labels: v for (name, labels), v in scrape.items() if name == "mlops_model_info"}
    ((labels, one),) = info.items()
    assert one == 1 and dict(labels)["model_version"] == version
    assert dict(labels)["model_name"] == "metrics-model"
    assert any(
        name == "mlops_build_info" and dict(labels)["version"] == __version__
        for name, labels in scrape
    )
    assert any(name == "process_resident_memory_bytes" for name, _ in scrape)


def test_dropped_capture_records_are_counted(model_uri, mlflow_store, tmp_path):
    import httpx

    from mlops_common.serving import create_app

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the capture folder should be")
    writer = CaptureWriter(blocker, max_records=10, max_seconds=3600)
    app = create_app(model_uri, tracking_uri=mlflow_store.tracking_uri, capture=writer)
    with serve_in_thread(app) as url:
        for _ in range(2):
            assert httpx.post(f"{url}/predict", json={"records": [RECORD] * 5}).status_code == 200
        writer.flush()
        scrape = samples(httpx.get(f"{url}/metrics").text)
    assert value(scrape, "mlops_capture_records_dropped_total") == 10
    assert value(scrape, "mlops_capture_records_written_total") == 0
    assert value(scrape, "mlops_capture_failed_writes_total") >= 1
    assert value(scrape, "mlops_predictions_total", **_model_labels(model_uri)) == 10


def _model_labels(model_uri: str) -> dict[str, str]:
    return {"model_name": "metrics-model", "model_version": model_uri.rsplit("/", 1)[1]}


def test_metrics_need_the_token_like_other_metadata_and_speak_openmetrics(
    model_uri, mlflow_store, tmp_path
):
    import httpx
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    from mlops_common.serving import create_app

    app = create_app(
        model_uri,
        tracking_uri=mlflow_store.tracking_uri,
        prediction_log=tmp_path / "predictions.jsonl",
        access=AccessSettings(token=TOKEN),
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serve_in_thread(app) as url:
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.post(f"{url}/predict", json={"records": [RECORD]}, headers=auth).is_success
        # What Prometheus sends by default
        accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        response = httpx.get(f"{url}/metrics", headers={**auth, "Accept": accept})
        schema = httpx.get(f"{url}/openapi.json", headers=auth).json()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["mlops_http_requests"].samples
        if s.name == "mlops_http_requests_total"
    }
    assert requests[("/metrics", "401")] == 1 and requests[("/predict", "200")] == 1
    # the prediction log counts what it wrote too
    written = families["mlops_capture_records_written"].samples
    assert [s.value for s in written if s.name.endswith("_total")] == [1]
    metrics_doc = schema["paths"]["/metrics"]["get"]
    assert {"text/plain", "application/openmetrics-text"} <= set(
        metrics_doc["responses"]["200"]["content"]
    )
    assert "401" in metrics_doc["responses"] and metrics_doc["security"] == [{"bearer": []}]
