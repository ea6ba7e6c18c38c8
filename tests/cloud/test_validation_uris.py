"""`validate` and `mlops validate` read data at s3://, gs:// and az:// URIs through fsspec.

Each cloud is its emulator on 127.0.0.1 (moto S3, GCS emulator, Azurite) reached by its real
fsspec backend (s3fs, gcsfs, adlfs) with the endpoint and credentials a client would set in the
environment; CSV, Parquet and JSON lines each travel through each of them.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from cloud_helpers import Storage
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError
from mlops_common.validation import validate

pytestmark = pytest.mark.emulator

SCHEME = {"aws": "s3", "gcp": "gs", "azure": "az"}
FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [5.0, 20.0, 99.0, None]})
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


def _encoded(suffix: str) -> bytes:
    if suffix == "csv":
        return FRAME.to_csv(index=False).encode()
    if suffix == "jsonl":
        return FRAME.to_json(orient="records", lines=True).encode()
    buffer = io.BytesIO()
    FRAME.to_parquet(buffer)
    return buffer.getvalue()


@pytest.fixture
def cloud(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> str:
    """The emulated bucket's URI prefix, with the environment pointing its backend at it."""
    return _upload(storage, monkeypatch)


def _upload(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the cloud's backend at the emulator and put the table there in every format."""
    for name, value in storage.env.items():
        monkeypatch.setenv(name, value)
    if storage.cloud == "aws":  # s3fs (botocore) reads the endpoint from AWS_ENDPOINT_URL
        monkeypatch.setenv("AWS_ENDPOINT_URL", storage.env["MLFLOW_S3_ENDPOINT_URL"])
    import fsspec

    fsspec.config.conf.clear()
    prefix = f"{SCHEME[storage.cloud]}://{storage.bucket}/validation"
    filesystem = fsspec.filesystem(SCHEME[storage.cloud], skip_instance_cache=True)
    for suffix in ("csv", "jsonl", "parquet"):
        filesystem.pipe(f"{prefix}/orders.{suffix}", _encoded(suffix))
    return prefix


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_validate_reads_csv_json_lines_and_parquet_from_each_cloud(cloud, suffix):
    uri = f"{cloud}/orders.{suffix}"
    result = validate(uri, SUITE)
    assert result.data_source == uri and result.row_count == 4
    assert [o.success for o in result.results] == [True, False]
    assert result.results[1].partial_unexpected_list == [99.0]


def test_a_missing_object_is_bad_input_naming_the_uri(cloud):
    with pytest.raises(InputError, match=r"/validation/nope\.csv: not found"):
        validate(f"{cloud}/nope.csv", SUITE)


def test_cli_validates_and_profiles_a_uri(cloud, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"{cloud}/orders.parquet"
    init = CliRunner().invoke(app, ["suite", "init", uri, "--name", "orders"])
    assert init.exit_code == 0, init.output
    assert f"of {uri}" in init.stdout
    checked = CliRunner().invoke(app, ["validate", "expectations/orders.json", uri])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"suite orders on {uri}: passed")


def test_abfs_uris_reach_the_same_azure_container(azure_storage, monkeypatch):
    prefix = _upload(azure_storage, monkeypatch)
    uri = prefix.replace("az://", "abfs://", 1) + "/orders.csv"
    assert validate(uri, SUITE).row_count == 4
