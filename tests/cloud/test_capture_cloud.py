"""Capture to object stores through fsspec, against the real emulators (moto S3, GCS emulator,
Azurite): files land in date=/hour= partitions and read back as a drift window."""

from __future__ import annotations

import pytest

from mlops_common.serving.capture import CaptureWriter, read_capture

pytestmark = pytest.mark.emulator

NAMES = ["tenure", "charges"]


@pytest.fixture(params=["s3", "gs", "az"])
def destination(request, monkeypatch) -> tuple[str, dict]:
    """``(url, storage_options)`` of a capture folder in each emulated store."""
    if request.param == "s3":
        url = request.getfixturevalue("moto_server")
        request.getfixturevalue("s3_storage")  # creates the bucket
        for name, value in request.getfixturevalue("aws_env").items():
            monkeypatch.setenv(name, value)
        return "s3://churn-model-data/capture", {"endpoint_url": url}
    if request.param == "gs":
        storage = request.getfixturevalue("gcs_storage")
        for name, value in storage.env.items():
            monkeypatch.setenv(name, value)
        options = {"endpoint_url": request.getfixturevalue("gcs_emulator"), "token": "anon"}
        return "gs://churn-model-data/capture", options
    request.getfixturevalue("azure_storage")  # creates the containers
    return "az://mlflow/capture", {"connection_string": request.getfixturevalue("azurite")}


def test_capture_writes_partitioned_batches_to_the_object_store(destination):
    url, options = destination
    writer = CaptureWriter(
        url, replica="pod-1", max_records=100, max_seconds=3600, storage_options=options
    )
    for index in range(3):
        rows = [(float(i), 2.0 * i) for i in range(100)]
        writer.append(NAMES, rows, [0] * 100, model_version="4", request_id=f"req-{index}")
    writer.close()
    assert (writer.written, writer.dropped, writer.failed_writes) == (300, 0, 0), writer.last_error
    import fsspec

    _, _, paths = fsspec.get_fs_token_paths(
        f"{url}/date=*/hour=*/pod-1-*.jsonl.gz", storage_options=options
    )
    assert paths and all("/date=" in p and "/hour=" in p for p in paths)
    window = read_capture(url, since="1d", storage_options=options)
    assert len(window) == 300
    assert set(window.request_id) == {"req-0", "req-1", "req-2"}
    assert set(window.model_version.astype(str)) == {"4"}
