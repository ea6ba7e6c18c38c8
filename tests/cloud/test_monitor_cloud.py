"""`mlops monitor` with the capture and the labels on moto S3, reached through s3fs the way a
client configures it (AWS_ENDPOINT_URL and credentials in the environment)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app as cli

pytestmark = pytest.mark.emulator

NAMES = ["tenure", "charges"]


def test_monitor_reads_capture_and_labels_from_s3(
    s3_storage, moto_server, monkeypatch, tracking_uri, tmp_path
):
    import fsspec
    from cloud_helpers import register_tiny_models, write_project
    from mlflow import MlflowClient

    from mlops_common.serving.capture import CaptureWriter

    for name, value in s3_storage.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    write_project(tmp_path, "monitor-s3")
    registry = register_tiny_models(tmp_path, "monitor-s3", tracking_uri=tracking_uri, count=1)
    # What the register stage logs on the champion's run (no gate tag: the run's test_ metrics)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run_id = client.get_model_version("monitor-s3", registry.versions[-1]).run_id
    for name, value in {"accuracy": 0.5, "test_accuracy": 0.99, "test_f1": 0.99}.items():
        client.log_metric(run_id, name, value)

    rng = np.random.default_rng(2)
    traffic = pd.DataFrame({"tenure": rng.normal(size=200), "charges": rng.normal(size=200)})
    truth = (traffic["tenure"] > 0).astype(int)
    capture = f"s3://{s3_storage.bucket}/monitor/capture"
    writer = CaptureWriter(capture, replica="pod-0", max_seconds=3600)
    for index, row in enumerate(traffic.itertuples(index=False)):  # what the service answered
        writer.append(
            NAMES, [tuple(row)], [int(truth[index])], model_version="1", request_id=f"r{index}"
        )
    writer.close()
    assert writer.written == 200 and writer.dropped == 0
    labels = pd.DataFrame({"request_id": [f"r{i}" for i in range(200)], "target": 1 - truth})
    labels_uri = f"s3://{s3_storage.bucket}/monitor/labels.parquet"
    with fsspec.open(labels_uri, "wb") as handle:
        labels.to_parquet(handle)

    args = ["monitor", "models:/monitor-s3@champion", capture, "--labels", labels_uri]
    args += ["--since", "1d", "--tracking-uri", tracking_uri, "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # every label now disagrees with the model
    data = json.loads(result.stdout)
    assert data["labelled_rows"] == 200 and data["labels_source"] == labels_uri
    assert data["window_source"] == f"{capture} (last 1d)"
    assert set(data["degraded_metrics"]) == {"accuracy", "f1"}
    # test_accuracy (the register stage's) wins over the training run's own accuracy
    assert data["champion_metrics"] == {"accuracy": 0.99, "f1": 0.99}
    assert data["metrics"]["accuracy"]["current"] == 0.0
