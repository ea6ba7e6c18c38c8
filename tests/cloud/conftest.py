"""Real storage emulators on 127.0.0.1 (moto S3, Azurite, GCS emulator) and a tiny model registry.

Each emulator is one process per test session, started on a free port, waited for until it
answers, and always stopped (its whole process group) even when a test fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cloud_helpers import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    BIN_DIR,
    Registry,
    Storage,
    azurite_binary,
    register_tiny_models,
    write_project,
)

from tools.processes import dummy_aws_env, free_port, running, running_moto


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Dummy credentials; no shared config and no instance metadata probes."""
    return dummy_aws_env(tmp_path_factory.mktemp("aws-home"))


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory, aws_env: dict[str, str]) -> Iterator[str]:
    """``moto_server`` (S3, SageMaker, ...) on a free port; yields its URL."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with running_moto(BIN_DIR, log, aws_env) as url:
        yield url


@pytest.fixture(scope="session")
def s3_storage(moto_server: str, aws_env: dict[str, str]) -> Storage:
    import boto3

    bucket = "churn-model-data"
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket)

    def list_keys() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    return Storage(
        cloud="aws",
        bucket=bucket,
        env={**aws_env, "MLFLOW_S3_ENDPOINT_URL": moto_server},
        dvc_url=f"s3://{bucket}/dvc",
        dvc_local_options={"endpointurl": moto_server},
        artifact_root=f"s3://{bucket}/mlflow",
        list_keys=list_keys,
    )


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's Blob service on a free port; yields its connection string."""
    binary = azurite_binary()
    port = free_port()
    data = tmp_path_factory.mktemp("azurite")
    command = [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--location", str(data), "--skipApiVersionCheck", "--silent", "--loose"]
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    with running(command, url=endpoint, log=data / "azurite.log"):
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
        )


@pytest.fixture(scope="session")
def azure_storage(azurite: str) -> Storage:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite)
    for name in ("dvc", "mlflow"):
        service.create_container(name)

    def list_keys() -> list[str]:
        return [
            f"{container}/{blob.name}"
            for container in ("dvc", "mlflow")
            for blob in service.get_container_client(container).list_blobs()
        ]

    return Storage(
        cloud="azure",
        bucket="dvc",
        env={"AZURE_STORAGE_CONNECTION_STRING": azurite},
        dvc_url="azure://dvc",  # the template's default remote for cloud=azure
        dvc_local_options={"connection_string": azurite},
        artifact_root=f"wasbs://mlflow@{AZURITE_ACCOUNT}.blob.core.windows.net/",
        list_keys=list_keys,
    )


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``gcp-storage-emulator`` on a free port; yields its URL (STORAGE_EMULATOR_HOST)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN_DIR / "gcp-storage-emulator"), "start", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--in-memory"]
    log = tmp_path_factory.mktemp("gcs") / "gcs.log"
    with running(command, url=url, log=log):
        yield url


@pytest.fixture(scope="session")
def gcs_storage(gcs_emulator: str) -> Storage:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    bucket = "churn-model-data"
    env = {
        "STORAGE_EMULATOR_HOST": gcs_emulator,
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        "GOOGLE_CLOUD_PROJECT": "churn-model",
        # Never probe a cloud metadata server from a test machine.
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9",
    }
    client = storage.Client(
        project="churn-model",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_emulator},
    )
    client.create_bucket(bucket)

    def list_keys() -> list[str]:
        return [blob.name for blob in client.list_blobs(bucket)]

    return Storage(
        cloud="gcp",
        bucket=bucket,
        env=env,
        dvc_url=f"gs://{bucket}/dvc",
        dvc_local_options={"endpointurl": gcs_emulator, "allow_anonymous_login": "true"},
        artifact_root=f"gs://{bucket}/mlflow",
        list_keys=list_keys,
    )


@pytest.fixture(params=["aws", "gcp", "azure"], scope="session")
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each cloud's emulated storage in turn."""
    return request.getfixturevalue(
        {"aws": "s3_storage", "gcp": "gcs_storage", "azure": "azure_storage"}[request.param]
    )


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite tracking store for the session: its schema migrations run once."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{(tmp_path_factory.mktemp('mlflow') / 'mlflow.db').as_posix()}"
    MlflowClient(tracking_uri=uri).search_experiments()
    return uri


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory: pytest.TempPathFactory, tracking_uri: str) -> Registry:
    """A project folder and a registry holding v1 and v2 (champion) of a tiny sklearn model."""
    root = tmp_path_factory.mktemp("project")
    write_project(root, "churn-model-model")
    return register_tiny_models(root, "churn-model-model", tracking_uri=tracking_uri)
