"""Capture: batched, time-partitioned, gzip JSON-lines files; a failing sink never fails a
prediction; request id and model version on every record. (Object stores: tests/cloud.)"""

from __future__ import annotations

import gzip
import json
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mlops_common.errors import InputError
from mlops_common.serving.capture import CaptureWriter, read_capture

NAMES = ["tenure", "charges"]


def files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.jsonl.gz"))


def test_records_land_in_hour_partitions_with_replica_and_sequence(tmp_path):
    writer = CaptureWriter(tmp_path / "capture", replica="pod-a", max_seconds=3600)
    writer.append(NAMES, [(1.0, 20.0), (2.0, 30.0)], [0, 1], model_version="3", request_id="r1")
    writer.close()
    (path,) = files(tmp_path / "capture")
    now = datetime.now(timezone.utc)
    assert path.parent.name.startswith("hour=") and path.parent.parent.name.startswith("date=")
    assert path.parent.parent.name == f"date={now:%Y-%m-%d}" or now.minute == 0
    assert path.name == "pod-a-000001.jsonl.gz"
    records = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert [r["tenure"] for r in records] == [1.0, 2.0]
    assert {(r["model_version"], r["request_id"]) for r in records} == {("3", "r1")}
    assert (writer.written, writer.dropped) == (2, 0)


def test_flushes_by_size_and_by_time_without_waiting_for_close(tmp_path):
    by_size = CaptureWriter(tmp_path / "size", max_records=100, max_seconds=3600)
    for _ in range(3):
        by_size.append(NAMES, [(1.0, 2.0)] * 50, [0] * 50, model_version="1")
    deadline = time.monotonic() + 10
    while not files(tmp_path / "size") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert files(tmp_path / "size"), "max_records reached: a file before close"
    by_size.close()
    assert by_size.written == 150

    by_time = CaptureWriter(tmp_path / "time", max_records=10_000, max_seconds=0.2)
    by_time.append(NAMES, [(1.0, 2.0)], [0], model_version="1")
    deadline = time.monotonic() + 10
    while not files(tmp_path / "time") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert files(tmp_path / "time"), "max_seconds passed: a file before close"
    by_time.close()


def test_a_failing_sink_counts_drops_and_never_raises(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the capture folder should be")
    writer = CaptureWriter(blocker, max_records=10, max_buffer=20, max_seconds=3600)
    for _ in range(5):  # 50 records into a 20-record buffer, and every write fails
        writer.append(NAMES, [(1.0, 2.0)] * 10, [0] * 10, model_version="1")
    writer.close()
    assert writer.written == 0 and writer.dropped == 50
    assert writer.failed_writes >= 1 and writer.last_error


def test_read_capture_reads_a_window_and_since_keeps_recent_hours(tmp_path):
    root = tmp_path / "capture"
    writer = CaptureWriter(root, replica="r", max_seconds=3600)
    writer.append(NAMES, [(1.0, 2.0)] * 3, [0] * 3, model_version="1", request_id="new")
    writer.close()
    old = root / "date=2020-01-01" / "hour=00" / "r-000001.jsonl.gz"
    old.parent.mkdir(parents=True)
    old.write_bytes(gzip.compress(b'{"tenure": 9.0, "charges": 9.0, "request_id": "old"}\n'))
    assert len(read_capture(root)) == 4
    recent = read_capture(root, since="7d")
    assert set(recent.request_id) == {"new"}
    later = datetime.now(timezone.utc) + timedelta(days=30)
    with pytest.raises(InputError, match="no captured records in the last 1d"):
        read_capture(root, since="1d", now=later)


def _capturing_service(mlflow_store, tiny_classifier, tmp_path, unique_name):
    """``(app, features)``: the tiny classifier served with capture to ``tmp_path/capture``."""
    from mlops_common.serving import create_app

    model, features, _ = tiny_classifier
    info = mlflow_store.logged_model(tmp_path, unique_name("capture"), model, features)
    writer = CaptureWriter(tmp_path / "capture", replica="test", max_seconds=3600)
    app = create_app(info.model_uri, tracking_uri=mlflow_store.tracking_uri, capture=writer)
    return app, features


def test_service_returns_request_id_header_and_captures_it_with_the_version(
    mlflow_store, tiny_classifier, tmp_path, unique_name
):
    from fastapi.testclient import TestClient

    app, features = _capturing_service(mlflow_store, tiny_classifier, tmp_path, unique_name)
    records = features.head(3).to_dict(orient="records")
    with TestClient(app) as http:
        given = http.post("/predict", json={"records": records}, headers={"X-Request-ID": "abc"})
        fresh = http.post("/predict", json={"records": records[:1]})
    assert given.status_code == 200 and given.headers["x-request-id"] == "abc"
    assert len(fresh.headers["x-request-id"]) == 32
    # closing the app (shutdown) flushed the capture
    window = read_capture(tmp_path / "capture")
    assert sorted(window.request_id.value_counts().items()) == sorted(
        [("abc", 3), (fresh.headers["x-request-id"], 1)]
    )
    assert set(window.columns) >= {*features.columns, "prediction", "model_version", "timestamp"}


def test_mlops_drift_reads_a_capture_window_against_a_profile(tmp_path):
    import numpy as np
    import pandas as pd
    from typer.testing import CliRunner

    from mlops_common.cli import app
    from mlops_common.monitoring.profile import build_profile

    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"tenure": rng.normal(24, 6, 5000), "charges": rng.gamma(2, 30, 5000)})
    profile = build_profile(reference).to_json(tmp_path / "reference_profile.json")
    writer = CaptureWriter(tmp_path / "capture", max_seconds=3600)
    rows = list(zip(rng.normal(24, 6, 400), rng.gamma(2, 30, 400), strict=True))
    writer.append(NAMES, rows, [0] * 400, model_version="2", request_id="r")
    writer.close()
    args = ["drift", str(profile), str(tmp_path / "capture"), "--since", "1d", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "no drift" and data["current_rows"] == 400
    assert data["current_source"] == f"{tmp_path / 'capture'} (last 1d)"
    assert {"request_id", "model_version", "prediction", "timestamp"} <= set(
        data["ignored_columns"]
    )


def _records(root: Path) -> list[dict]:
    lines = [
        line for path in files(root) for line in gzip.decompress(path.read_bytes()).splitlines()
    ]
    return [json.loads(line) for line in lines]


def test_encoder_process_writes_what_the_service_process_would(tmp_path):
    rows = [(1.5, float("nan")), (2.0, 1e-05), (3.0, None)]
    for encoder in ("process", "thread"):
        writer = CaptureWriter(tmp_path / encoder, replica="pod", encoder=encoder)
        writer.append(NAMES, rows, [0, 1, "x"], model_version="2", request_id="r")
        assert writer.encoder == encoder
        writer.close()
        assert (writer.written, writer.dropped) == (3, 0)
    by_process, by_thread = _records(tmp_path / "process"), _records(tmp_path / "thread")
    for record in (*by_process, *by_thread):
        record.pop("timestamp")
    assert json.dumps(by_process) == json.dumps(by_thread)  # NaN and 1e-05 spelled alike
    assert [path.name for path in files(tmp_path / "process")] == ["pod-000001.jsonl.gz"]


def test_a_killed_encoder_process_loses_no_records_and_stops_with_the_writer(tmp_path):
    import os
    import signal

    writer = CaptureWriter(tmp_path / "capture", replica="pod", max_seconds=3600)
    writer.append(NAMES, [(1.0, 2.0)] * 4, [0] * 4, model_version="1", request_id="a")
    writer.flush()
    encoder = writer._encoder._process
    os.kill(encoder.pid, signal.SIGKILL)
    encoder.wait(timeout=10)
    writer.append(NAMES, [(3.0, 4.0)] * 6, [1] * 6, model_version="1", request_id="b")
    writer.close()
    assert (writer.written, writer.dropped, writer.failed_writes) == (10, 0, 0)
    assert writer.encoder == "thread"
    assert sorted(r["request_id"] for r in _records(tmp_path / "capture")) == ["a"] * 4 + ["b"] * 6

    other = CaptureWriter(tmp_path / "other")
    other.close()
    assert other._encoder._process.poll() == 0, "close() ends the encoder process"


def test_capture_lines_are_exactly_what_json_dumps_writes(tmp_path):
    # orjson encodes number columns, but only where its text is json.dumps's own
    values = [0.1 + 0.2, 1e-05, 7.5e-05, 1e16, 1.5e300, -0.0, 2**70, 3, float("nan"), None, True]
    rows = [(value, float(index)) for index, value in enumerate(values)]
    writer = CaptureWriter(tmp_path / "capture", encoder="thread")
    writer.append(NAMES, rows, list(range(len(rows))), model_version="1", request_id="r")
    writer.close()
    (path,) = files(tmp_path / "capture")
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    for line, (value, charges), prediction in zip(lines, rows, range(len(rows)), strict=True):
        record = json.loads(line)
        expected = {"tenure": value, "charges": charges, "prediction": prediction}
        expected |= {"timestamp": record["timestamp"], "model_version": "1", "request_id": "r"}
        assert line == json.dumps(expected)


def _lines(root: Path) -> list[str]:
    return [
        line
        for path in files(root)
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]


def test_plain_number_records_are_copied_from_the_request_body_as_the_client_wrote_them(
    tmp_path,
):
    # Pretty-printed, keys in another order, NaN, an integer, true/false and null: all plain.
    body = (
        b'{\n  "instances": [\n    {"charges": 20.50, "tenure": 1},\n'
        b'    {"tenure": 2.0, "charges": NaN},{"tenure":true,"charges":null}\n  ]\n}'
    )
    rows = [(1, 20.5), (2.0, float("nan")), (True, None)]
    for encoder in ("thread", "process"):
        writer = CaptureWriter(tmp_path / encoder, encoder=encoder)
        writer.append(NAMES, rows, [0, 1, 0], model_version="4", request_id="q", body=body)
        writer.close()
        assert (writer.written, writer.dropped) == (3, 0)
        lines = _lines(tmp_path / encoder)
        assert lines[0].startswith('{"charges": 20.50, "tenure": 1, "prediction": 0, "timestamp"')
        records = [json.loads(line) for line in lines]
        for record, (tenure, charges), prediction in zip(records, rows, [0, 1, 0], strict=True):
            assert record["tenure"] == tenure and record["prediction"] == prediction
            if charges is not None and math.isnan(charges):
                assert math.isnan(record["charges"])
            else:
                assert record["charges"] == charges
            assert (record["model_version"], record["request_id"]) == ("4", "q")
    window = read_capture(tmp_path / "process")
    assert list(window["tenure"]) == [1, 2, 1] and len(window) == 3


@pytest.mark.parametrize(
    ("names", "body", "rows"),
    [
        # a text value: its quotes (and whatever is inside) are not counted on
        (["tenure", "plan"], b'{"records": [{"tenure": 1.0, "plan": "a}b"}]}', [(1.0, "a}b")]),
        # an optional column left out
        (NAMES, b'{"records": [{"tenure": 1.0}]}', [(1.0, None)]),
        # an escape in a key
        (NAMES, b'{"records": [{"tenure": 1.0, "charge\\u0073": 2.0}]}', [(1.0, 2.0)]),
        # a feature name with a brace
        (["a{b", "c"], b'{"records": [{"a{b": 1.0, "c": 2.0}]}', [(1.0, 2.0)]),
        # a body padded far beyond its one record is not kept whole
        (
            NAMES,
            b'{"records": [{"tenure": 1.0, "charges": 2.0}]' + b" " * 5000 + b"}",
            [(1.0, 2.0)],
        ),
    ],
)
def test_records_that_cannot_be_copied_are_encoded_from_the_validated_rows(
    tmp_path, names, body, rows
):
    writer = CaptureWriter(tmp_path / "capture", encoder="thread")
    writer.append(names, rows, [7] * len(rows), model_version="1", request_id="r", body=body)
    writer.close()
    for line, row in zip(_lines(tmp_path / "capture"), rows, strict=True):
        record = json.loads(line)
        expected = {**dict(zip(names, row, strict=True)), "prediction": 7}
        expected |= {"timestamp": record["timestamp"], "model_version": "1", "request_id": "r"}
        assert line == json.dumps(expected)  # the json.dumps text of the rows, not the body's


def test_the_service_hands_plain_records_to_capture_as_the_request_body(
    mlflow_store, tiny_classifier, tmp_path, unique_name
):
    from fastapi.testclient import TestClient

    app, features = _capturing_service(mlflow_store, tiny_classifier, tmp_path, unique_name)
    records = features.head(4).to_dict(orient="records")
    text = json.dumps({"records": records}, separators=(",", ":"))
    with TestClient(app) as http:
        response = http.post("/predict", content=text, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    lines = _lines(tmp_path / "capture")
    first = json.dumps(records[0], separators=(",", ":"))[:-1]
    assert lines[0].startswith(first + ', "prediction": ')  # the client's own text
    window = read_capture(tmp_path / "capture")
    expected = features.head(4).reset_index(drop=True)
    for column in features.columns:
        assert list(window[column]) == pytest.approx(list(expected[column]))
    assert list(window["prediction"]) == response.json()["predictions"]
