"""SageMaker requests, checked by botocore's Stubber against the real service model.

The Stubber validates every request against SageMaker's API model (names, shapes, types) and
asserts the exact parameters; no AWS account is reachable from here. The first deploy (create
path) and status also run against moto's SageMaker on 127.0.0.1.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mlops_common.deploy import ModelRef, get_target
from mlops_common.deploy.aws import CREDENTIALS_HINT, SageMakerTarget
from mlops_common.errors import DeployError

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
SOURCE = "s3://churn-model-data/mlflow/1/models/m-abc/artifacts"
V2 = ModelRef("churn-model-model", "2", SOURCE)
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-model-model:latest"
ROLE = "arn:aws:iam::123456789012:role/churn-model-model-sagemaker"
MISSING = {"Code": "ValidationException", "Message": 'Could not find endpoint "arn:...".'}


@pytest.fixture
def stubbed():
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "sagemaker",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    target = SageMakerTarget(
        model_name="churn-model-model", region="eu-west-1", account_id="123456789012", client=client
    )
    with Stubber(client) as stubber:
        yield target, stubber
        stubber.assert_no_pending_responses()


def _tags(version: str) -> list[dict[str, str]]:
    return [
        {"Key": "mlops:model-name", "Value": "churn-model-model"},
        {"Key": "mlops:model-version", "Value": version},
    ]


def _expect_model_and_config(stubber, name: str) -> None:
    stubber.add_response(
        "create_model",
        {"ModelArn": f"arn:aws:sagemaker:eu-west-1:123456789012:model/{name}"},
        {
            "ModelName": name,
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {
                "Image": IMAGE,
                "ModelDataSource": {
                    "S3DataSource": {
                        "S3Uri": SOURCE + "/",
                        "S3DataType": "S3Prefix",
                        "CompressionType": "None",
                    }
                },
                "Environment": {
                    "MLOPS_MODEL_URI": "/opt/ml/model",
                    "MLOPS_HOST": "0.0.0.0",
                    "MLOPS_PORT": "8080",
                    "MLOPS_MODEL_NAME": "churn-model-model",
                    "MLOPS_MODEL_VERSION": "2",
                },
            },
            "Tags": _tags("2"),
        },
    )
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": f"arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/{name}"},
        {
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "Tags": _tags("2"),
        },
    )


def _endpoint(config: str, status: str = "InService") -> dict:
    return {
        "EndpointName": "churn-model-model",
        "EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-model-model",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }


def test_first_aws_deploy_creates_model_config_and_endpoint(stubbed):
    target, stubber = stubbed
    name = "churn-model-model-v2-20260102030405"
    stubber.add_client_error("describe_endpoint", "ValidationException", MISSING["Message"])
    _expect_model_and_config(stubber, name)
    stubber.add_response(
        "create_endpoint",
        {"EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-model-model"},
        {"EndpointName": "churn-model-model", "EndpointConfigName": name, "Tags": _tags("2")},
    )
    result = target.deploy_model(V2, now=NOW)
    assert (result.state, result.endpoint, result.previous_version) == (
        "Creating",
        "churn-model-model",
        None,
    )
    assert result.details["endpoint_config"] == name


def test_aws_deploy_to_existing_endpoint_updates_it_and_reports_previous_version(stubbed):
    target, stubber = stubbed
    name = "churn-model-model-v2-20260102030405"
    stubber.add_response("describe_endpoint", _endpoint("churn-model-model-v1-20251201000000"))
    _expect_model_and_config(stubber, name)
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-model-model"},
        {"EndpointName": "churn-model-model", "EndpointConfigName": name},
    )
    result = target.deploy_model(V2, now=NOW)
    assert (result.state, result.previous_version) == ("Updating", "1")


def test_aws_rollback_points_endpoint_at_newest_earlier_config_of_another_version(stubbed):
    target, stubber = stubbed
    configs = [
        "churn-model-model-v3-20260103000000",  # current
        "churn-model-model-v3-20260102000000",  # same version redeployed: skipped
        "churn-model-model-v2-20260101000000",  # the one to go back to
        "churn-model-model-v1-20251201000000",
        "churn-model-model-extra-v1-20251201000000",  # another endpoint's config: ignored
    ]
    stubber.add_response("describe_endpoint", _endpoint(configs[0]))
    stubber.add_response(
        "list_endpoint_configs",
        {
            "EndpointConfigs": [
                {
                    "EndpointConfigName": name,
                    "EndpointConfigArn": f"arn:{name}",
                    "CreationTime": NOW,
                }
                for name in configs
            ]
        },
        {
            "NameContains": "churn-model-model-v",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 100,
        },
    )
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-model-model"},
        {"EndpointName": "churn-model-model", "EndpointConfigName": configs[2]},
    )
    result = target.rollback()
    assert (result.model_version, result.previous_version) == ("2", "3")


def test_aws_status_is_healthy_only_when_endpoint_is_in_service(stubbed):
    target, stubber = stubbed
    stubber.add_response("describe_endpoint", _endpoint("churn-model-model-v2-20260101000000"))
    stubber.add_response(
        "describe_endpoint", _endpoint("churn-model-model-v3-20260102000000", "Updating")
    )
    ready, updating = target.status(), target.status()
    assert (ready.healthy, ready.model_version) == (True, "2")
    assert (updating.healthy, updating.state, updating.model_version) == (False, "Updating", "3")


def test_aws_refusal_becomes_one_line_deploy_error(stubbed):
    target, stubber = stubbed
    stubber.add_client_error(
        "describe_endpoint", "AccessDeniedException", "not authorized to DescribeEndpoint"
    )
    with pytest.raises(DeployError, match=r"describe_endpoint refused \(AccessDeniedException\)"):
        target.status()


def test_aws_deploy_of_model_stored_outside_s3_explains_artifact_location():
    target = SageMakerTarget(model_name="m", region="eu-west-1", account_id="123456789012")
    local_model = ModelRef("m", "1", "file:///tmp/mlartifacts/1/m-abc/artifacts")
    with pytest.raises(DeployError, match="set artifact_location to an s3:// URI"):
        target.deploy_model(local_model)


def test_aws_without_credentials_says_how_to_get_them(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    target = get_target("aws", project_root=tmp_path, region="eu-west-1", account_id="123456789012")
    with pytest.raises(DeployError) as raised:
        target.status()
    assert str(raised.value) == CREDENTIALS_HINT


@pytest.mark.emulator
def test_aws_deploy_by_alias_creates_endpoint_in_moto_sagemaker(
    moto_server, aws_env, tracking_uri, tmp_path, monkeypatch
):
    import boto3
    from cloud_helpers import register_tiny_models, write_project

    for name, value in {**aws_env, "MLFLOW_S3_ENDPOINT_URL": moto_server}.items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="aws-deploy-models")
    write_project(tmp_path, "aws-model", cloud="aws")
    registry = register_tiny_models(
        tmp_path,
        "aws-model",
        tracking_uri=tracking_uri,
        count=1,
        artifact_location="s3://aws-deploy-models/mlflow",
    )
    target = get_target(
        None,  # the project's cloud: aws
        project_root=tmp_path,
        tracking_uri=registry.tracking_uri,
        region="us-east-1",
        account_id="123456789012",
        endpoint_url=moto_server,
    )
    assert target.name == "aws"
    assert target.status().state == "not deployed"
    result = target.deploy(alias="champion")
    assert (result.model_version, result.state) == ("1", "Creating")

    sagemaker = boto3.client("sagemaker", endpoint_url=moto_server)
    model = sagemaker.describe_model(ModelName=result.details["endpoint_config"])
    data = model["PrimaryContainer"].get("ModelDataSource", {}).get("S3DataSource", {})
    assert data.get("S3Uri", "").startswith("s3://aws-deploy-models/mlflow/")
    listed = s3.list_objects_v2(Bucket="aws-deploy-models", Prefix=data["S3Uri"].split("/", 3)[3])
    assert any(item["Key"].endswith("MLmodel") for item in listed.get("Contents", []))
    assert target.status().model_version == "1"
