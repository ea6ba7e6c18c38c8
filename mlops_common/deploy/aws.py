"""The ``aws`` target: a SageMaker real-time endpoint running the project's ECR image.

Each deploy creates a SageMaker model and an endpoint configuration named
``<endpoint>-v<version>-<UTC timestamp>``, then creates the endpoint or updates it to the new
configuration (SageMaker swaps instances with no downtime). The model's files are copied by
SageMaker from the registry's S3 artifact folder to ``/opt/ml/model``, so the container needs no
access to the tracking server. ``rollback`` updates the endpoint to the newest earlier
configuration that serves another version; ``status`` reads ``describe_endpoint``.

Needs ``pip install 'mlops-common[aws]'`` (boto3) and credentials: OIDC role in CI,
``aws sso login`` on a laptop.

>>> target = SageMakerTarget(model_name="churn-model-model", region="eu-west-1",
...                          account_id="123456789012")  # doctest: +SKIP
>>> target.deploy(alias="champion").state  # doctest: +SKIP
'Creating'
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from mlops_common.deploy.base import CloudTarget, DeployResult, DeployStatus, ModelRef
from mlops_common.errors import CredentialsMissing, DeployError, TargetUnavailable

__all__ = [
    "SageMakerTarget",
    "endpoint_config_name",
    "endpoint_config_request",
    "model_request",
    "version_of_config",
]

CREDENTIALS_HINT = "AWS credentials not found: configure OIDC in CI or `aws sso login` locally"
MODEL_DIR = "/opt/ml/model"  # where SageMaker puts the files of ModelDataSource
_CONFIG_NAME = re.compile(r"^(?P<endpoint>.+)-v(?P<version>\d+)-(?P<stamp>\d{14})$")


def _sagemaker_name(text: str, limit: int) -> str:
    """SageMaker names: letters, digits and single dashes, at most ``limit`` characters."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    return cleaned[:limit].rstrip("-") or "model"


def endpoint_config_name(endpoint: str, version: str, now: datetime | None = None) -> str:
    """Name of the model and endpoint config of one deploy: ``<endpoint>-v<version>-<stamp>``.

    >>> endpoint_config_name("churn", "3", datetime(2026, 1, 2, 3, 4, 5))
    'churn-v3-20260102030405'
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S")
    suffix = f"-v{version}-{stamp}"
    return f"{_sagemaker_name(endpoint, 63 - len(suffix))}{suffix}"


def version_of_config(name: str) -> str | None:
    """The model version a config name records, or None for configs not made by this adapter.

    >>> version_of_config("churn-v3-20260102030405")
    '3'
    """
    match = _CONFIG_NAME.match(name)
    return match["version"] if match else None


def model_request(
    *,
    name: str,
    model: ModelRef,
    image_uri: str,
    execution_role_arn: str,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``sagemaker.create_model`` for one registered model version."""
    model.require_source("s3://", service="SageMaker", storage="S3", example="an s3://")
    return {
        "ModelName": name,
        "ExecutionRoleArn": execution_role_arn,
        "PrimaryContainer": {
            "Image": image_uri,
            # An uncompressed S3 prefix: SageMaker copies the MLflow model folder as it is.
            "ModelDataSource": {
                "S3DataSource": {
                    "S3Uri": model.source.rstrip("/") + "/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            },
            "Environment": {
                **model.serving_env(MODEL_DIR),
                # SageMaker runs `<image> serve` and sends /ping and /invocations to port 8080.
                "MLOPS_HOST": "0.0.0.0",
                "MLOPS_PORT": "8080",
            },
        },
        "Tags": _tags(model, tags),
    }


def endpoint_config_request(
    *,
    name: str,
    model_name: str,
    model: ModelRef,
    instance_type: str = "ml.m5.large",
    instance_count: int = 1,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``sagemaker.create_endpoint_config``: one variant, all traffic."""
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InstanceType": instance_type,
                "InitialInstanceCount": int(instance_count),
                "InitialVariantWeight": 1.0,
            }
        ],
        "Tags": _tags(model, tags),
    }


def _tags(model: ModelRef, extra: dict[str, str] | None) -> list[dict[str, str]]:
    tags = {"mlops:model-name": model.name, "mlops:model-version": model.version, **(extra or {})}
    return [{"Key": key, "Value": value} for key, value in tags.items()]


class SageMakerTarget(CloudTarget):
    """Deploy to a SageMaker endpoint; ``client`` may be any boto3 SageMaker client."""

    name = "aws"
    credentials_hint = CREDENTIALS_HINT

    def __init__(
        self,
        *,
        region: str | None = None,
        account_id: str | None = None,
        ecr_repository: str | None = None,
        execution_role_arn: str | None = None,
        instance_type: str = "ml.m5.large",
        instance_count: int = 1,
        endpoint_url: str | None = None,
        tags: dict[str, str] | None = None,
        client: Any = None,
        **common: Any,
    ) -> None:
        """``common``: what every cloud target takes (``endpoint_name``, ``image_uri``, ...)."""
        super().__init__(**common)
        self.region = region
        self.account_id = str(account_id) if account_id else None
        self.ecr_repository = ecr_repository or self.endpoint_name.lower()
        self._execution_role_arn = execution_role_arn
        self.instance_type = instance_type
        self.instance_count = int(instance_count)
        self.endpoint_url = endpoint_url
        self.tags = dict(tags or {})
        self._client = client

    # ---- settings derived from the account ------------------------------------------------

    def _valid_endpoint_name(self, text: str) -> str:
        return _sagemaker_name(text, 63)

    def _registry_image_uri(self) -> str:
        """The project's image in ECR: ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``."""
        self._require("account_id", "region")
        registry = f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"
        return f"{registry}/{self.ecr_repository}:{self.image_tag}"

    @property
    def execution_role_arn(self) -> str:
        """The role SageMaker assumes to pull the image and read the model from S3."""
        if self._execution_role_arn:
            return self._execution_role_arn
        self._require("account_id")
        return f"arn:aws:iam::{self.account_id}:role/{self.endpoint_name}-sagemaker"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        with self._sdk("boto3"):
            import boto3
        session = boto3.Session(region_name=self.region)
        if session.get_credentials() is None:
            raise CredentialsMissing(self.credentials_hint)
        if not session.region_name:
            raise DeployError(
                "AWS region not set: set region in [tool.mlops.deploy.aws] or AWS_REGION"
            )
        self.region = session.region_name
        return session.client("sagemaker", endpoint_url=self.endpoint_url)

    # ---- the interface ---------------------------------------------------------------------

    def deploy_model(self, model: ModelRef, *, now: datetime | None = None) -> DeployResult:
        """Create a model and endpoint config for ``model`` and point the endpoint at them."""
        name = endpoint_config_name(self.endpoint_name, model.version, now)
        # Built before any call, so a model SageMaker cannot read fails without touching AWS.
        create_model = model_request(
            name=name,
            model=model,
            image_uri=self.image_uri,
            execution_role_arn=self.execution_role_arn,
            tags=self.tags,
        )
        create_config = endpoint_config_request(
            name=name,
            model_name=name,
            model=model,
            instance_type=self.instance_type,
            instance_count=self.instance_count,
            tags=self.tags,
        )
        current = self._describe_endpoint()
        self._call("create_model", **create_model)
        self._call("create_endpoint_config", **create_config)
        previous_version = None
        if current is None:
            self._call(
                "create_endpoint",
                EndpointName=self.endpoint_name,
                EndpointConfigName=name,
                Tags=_tags(model, self.tags),
            )
            state = "Creating"
        else:
            previous_version = version_of_config(current["EndpointConfigName"])
            self._call("update_endpoint", EndpointName=self.endpoint_name, EndpointConfigName=name)
            state = "Updating"
        return self._result(
            "deploy",
            model,
            endpoint=self.endpoint_name,
            state=state,
            previous_version=previous_version,
            details={"endpoint_config": name, "image": self.image_uri, "region": self.region},
        )

    def status(self) -> DeployStatus:
        current = self._describe_endpoint()
        if current is None:
            return self._not_deployed(
                "no such SageMaker endpoint; run `mlops deploy up`", self.endpoint_name
            )
        config = current.get("EndpointConfigName", "")
        state = current.get("EndpointStatus", "Unknown")
        return self._status(
            healthy=state == "InService",
            state=state,
            endpoint=self.endpoint_name,
            version=version_of_config(config) or "",
            detail=current.get("FailureReason", "") or f"config {config}",
        )

    def rollback(self) -> DeployResult:
        current = self._describe_endpoint()
        if current is None:
            raise DeployError(
                f"SageMaker endpoint {self.endpoint_name} does not exist; nothing to roll back"
            )
        current_config = current["EndpointConfigName"]
        current_version = version_of_config(current_config)
        previous = self._previous_config(current_config, current_version)
        self._call("update_endpoint", EndpointName=self.endpoint_name, EndpointConfigName=previous)
        return self._result(
            "rollback",
            ModelRef(self.model_name, version_of_config(previous) or ""),
            endpoint=self.endpoint_name,
            state="Updating",
            previous_version=current_version,
            details={"endpoint_config": previous, "replaced_config": current_config},
        )

    # ---- internals -------------------------------------------------------------------------

    def _previous_config(self, current_config: str, current_version: str | None) -> str:
        """Newest config of this endpoint created before the current one, for another version."""
        answer = self._call(
            "list_endpoint_configs",
            NameContains=f"{self.endpoint_name}-v",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=100,
        )
        names = [
            item["EndpointConfigName"]
            for item in answer.get("EndpointConfigs", [])
            if (match := _CONFIG_NAME.match(item["EndpointConfigName"]))
            and match["endpoint"] == self.endpoint_name
        ]
        older = names[names.index(current_config) + 1 :] if current_config in names else names
        for name in older:
            if version_of_config(name) != current_version:
                return name
        raise DeployError(
            f"SageMaker endpoint {self.endpoint_name}: no earlier endpoint config serves another "
            f"version than v{current_version}; deploy a version explicitly instead"
        )

    def _describe_endpoint(self) -> dict[str, Any] | None:
        try:
            return self._call("describe_endpoint", EndpointName=self.endpoint_name)
        except _EndpointMissing:
            return None

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            NoRegionError,
        )

        try:
            return getattr(self.client, operation)(**kwargs)
        except NoCredentialsError as exc:
            raise CredentialsMissing(self.credentials_hint) from exc
        except NoRegionError as exc:
            raise DeployError(
                "AWS region not set: set region in [tool.mlops.deploy.aws] or AWS_REGION"
            ) from exc
        except EndpointConnectionError as exc:
            raise TargetUnavailable(
                f"SageMaker is not reachable ({exc}); check network/region"
            ) from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            message = error.get("Message", str(exc))
            if operation == "describe_endpoint" and "Could not find endpoint" in message:
                raise _EndpointMissing from exc
            raise DeployError(
                f"SageMaker {operation} refused ({error.get('Code', 'error')}): {message}"
            ) from exc


class _EndpointMissing(Exception):
    """describe_endpoint said the endpoint does not exist (a normal first-deploy case)."""
