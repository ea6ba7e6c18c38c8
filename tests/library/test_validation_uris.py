"""Data at an object-store URI, read through fsspec, against a real S3 emulator (moto)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError
from mlops_common.validation import validate
from tools.processes import free_port, running

BUCKET = "validation-data"
SUITE = {
    "name": "orders",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 50},
        },
    ],
}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto_server on a free port with a bucket; the S3 env points boto at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": url,
    }
    server = Path(sys.executable).parent / "moto_server"
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    saved = {key: os.environ.get(key) for key in env}
    command = [str(server), "-H", "127.0.0.1", "-p", str(port)]
    with running(command, url=f"{url}/moto-api/", log=log):
        os.environ.update(env)
        try:
            import boto3

            client = boto3.client("s3", endpoint_url=url)
            client.create_bucket(Bucket=BUCKET)
            frame = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [5.0, 20.0, 99.0, None]})
            client.put_object(Bucket=BUCKET, Key="orders.csv", Body=frame.to_csv(index=False))
            client.put_object(
                Bucket=BUCKET, Key="orders.jsonl", Body=frame.to_json(orient="records", lines=True)
            )
            client.put_object(Bucket=BUCKET, Key="orders.parquet", Body=frame.to_parquet())
            yield url
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.mark.parametrize("key", ["orders.csv", "orders.jsonl", "orders.parquet"])
def test_validate_reads_csv_json_lines_and_parquet_from_s3(s3, key):
    uri = f"s3://{BUCKET}/{key}"
    result = validate(uri, SUITE)
    assert result.data_source == uri and result.row_count == 4
    assert [o.success for o in result.results] == [True, False]
    assert result.results[1].partial_unexpected_list == [99.0]


def test_a_missing_object_is_bad_input_naming_the_uri(s3):
    with pytest.raises(InputError, match=rf"s3://{BUCKET}/nope.csv: not found"):
        validate(f"s3://{BUCKET}/nope.csv", SUITE)


def test_cli_validates_and_profiles_a_uri(s3, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"s3://{BUCKET}/orders.csv"
    init = CliRunner().invoke(app, ["suite", "init", uri, "--name", "orders"])
    assert init.exit_code == 0, init.output
    assert f"of {uri}" in init.stdout
    checked = CliRunner().invoke(app, ["validate", "expectations/orders.json", uri])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"suite orders on {uri}: passed")
