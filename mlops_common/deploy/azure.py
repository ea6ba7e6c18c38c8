"""The ``azure`` target: an Azure ML managed online endpoint running the project's ACR image.

Each model version becomes one deployment (``v<version>``) of the endpoint named after the model;
the new one gets 100 % of the traffic and the one before stays at 0 % so ``rollback`` is a
traffic switch. Older deployments are deleted. The payloads are built by pure functions below
(tested directly) and sent with ``azure-ai-ml``'s ``MLClient``.

Needs ``pip install 'mlops-common[azure]'`` and credentials for ``DefaultAzureCredential``:
federated OIDC credentials (``azure/login``) in CI, ``az login`` on a laptop.

>>> target = AzureMLTarget(
...     model_name="churn-model-model", resource_group="churn-model-rg", workspace="churn-model-ws"
... )  # doctest: +SKIP
>>> target.deploy(alias="champion").state  # doctest: +SKIP
'Succeeded'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mlops_common.deploy.base import (
    CloudTarget,
    DeployResult,
    DeployStatus,
    ModelRef,
    most_traffic,
)
from mlops_common.errors import DeployError

__all__ = [
    "AzureMLTarget",
    "deployment_name",
    "deployment_spec",
    "endpoint_spec",
    "rollback_traffic",
    "stale_deployments",
    "traffic_after_deploy",
]

CREDENTIALS_HINT = (
    "Azure credentials not found: configure federated OIDC credentials (azure/login) in CI or "
    "`az login` locally"
)
_DEPLOYMENT = re.compile(r"^v(?P<version>\d+)$")


def _endpoint_name(text: str) -> str:
    """Online endpoint names: 3-32 letters, digits and -, starting with a letter."""
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-").lower()
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"ep-{cleaned}"
    return cleaned[:32].rstrip("-").ljust(3, "0")


def deployment_name(version: str) -> str:
    """One deployment per model version.

    >>> deployment_name("3")
    'v3'
    """
    return f"v{version}"


def endpoint_spec(*, name: str, model: ModelRef | None = None) -> dict[str, Any]:
    """Keyword arguments of ``ManagedOnlineEndpoint`` (key auth, tagged with the model)."""
    tags = {"mlops-model-name": model.name} if model else {}
    return {"name": name, "auth_mode": "key", "tags": tags}


def deployment_spec(
    *,
    endpoint: str,
    model: ModelRef,
    image_uri: str,
    instance_type: str = "Standard_DS3_v2",
    instance_count: int = 1,
    port: int = 8000,
) -> dict[str, Any]:
    """Keyword arguments of ``ManagedOnlineDeployment``; ``environment`` as ``Environment`` kwargs.

    The container reads the model's files from Blob Storage with the endpoint's managed identity,
    so it needs no access to the tracking server.
    """
    model.require_source(
        "wasbs://",
        "abfss://",
        "azureml://",
        service="Azure ML",
        storage="Blob Storage",
        example="a wasbs://",
    )
    route = {"port": port}
    return {
        "name": deployment_name(model.version),
        "endpoint_name": endpoint,
        "environment": {
            "name": f"{endpoint}-image",
            "image": image_uri,
            "inference_config": {
                "liveness_route": {**route, "path": "/health"},
                "readiness_route": {**route, "path": "/ready"},
                "scoring_route": {**route, "path": "/predict"},
            },
        },
        "environment_variables": model.serving_env(),
        "instance_type": instance_type,
        "instance_count": int(instance_count),
        "tags": {"mlops-model-name": model.name, "mlops-model-version": model.version},
    }


def traffic_after_deploy(existing: Sequence[str], new: str) -> dict[str, int]:
    """All traffic to ``new``; every other deployment kept at 0 %.

    >>> traffic_after_deploy(["v1", "v2"], "v3")
    {'v1': 0, 'v2': 0, 'v3': 100}
    """
    return {**{name: 0 for name in existing if name != new}, new: 100}


def _version_number(name: str) -> int:
    match = _DEPLOYMENT.match(name)
    return int(match["version"]) if match else -1


def rollback_traffic(deployments: Sequence[str], traffic: dict[str, int]) -> dict[str, int]:
    """All traffic back to the newest deployment older than the one serving now.

    >>> rollback_traffic(["v1", "v2", "v3"], {"v3": 100, "v2": 0, "v1": 0})
    {'v1': 0, 'v2': 100, 'v3': 0}
    """
    current = most_traffic(traffic)
    if current is None:
        raise DeployError("the Azure ML endpoint sends no traffic anywhere; deploy first")
    older = sorted(
        (name for name in deployments if _version_number(name) < _version_number(current)),
        key=_version_number,
    )
    if not older:
        raise DeployError(
            f"the Azure ML endpoint has no deployment older than {current}; "
            "deploy a version explicitly instead"
        )
    previous = older[-1]
    return {name: (100 if name == previous else 0) for name in sorted(deployments)}


def stale_deployments(
    deployments: Sequence[str], traffic: dict[str, int], keep: int = 2
) -> list[str]:
    """Deployments beyond the ``keep`` newest versions that receive no traffic."""
    newest_first = sorted(deployments, key=_version_number, reverse=True)
    return [name for name in newest_first[keep:] if traffic.get(name, 0) == 0]


class AzureMLTarget(CloudTarget):
    """Deploy to an Azure ML managed online endpoint of ``workspace``."""

    name = "azure"
    credentials_hint = CREDENTIALS_HINT

    def __init__(
        self,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace: str | None = None,
        registry: str | None = None,
        image_name: str | None = None,
        instance_type: str = "Standard_DS3_v2",
        instance_count: int = 1,
        keep_deployments: int = 2,
        **common: Any,
    ) -> None:
        """``common``: what every cloud target takes (``endpoint_name``, ``image_uri``, ...)."""
        super().__init__(**common)
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace = workspace
        self.registry = registry
        self.image_name = image_name or self.endpoint_name
        self.instance_type = instance_type
        self.instance_count = int(instance_count)
        self.keep_deployments = int(keep_deployments)
        self._client: Any = None

    def _valid_endpoint_name(self, text: str) -> str:
        return _endpoint_name(text)

    def _registry_image_uri(self) -> str:
        """``<registry>.azurecr.io/<image>:<tag>`` in the project's Azure Container Registry."""
        if not self.registry:
            raise DeployError(
                "azure deploy needs registry (the ACR name) or image_uri: set it in "
                "[tool.mlops.deploy.azure] of pyproject.toml"
            )
        return f"{self.registry}.azurecr.io/{self.image_name}:{self.image_tag}"

    def _ml_client(self) -> Any:
        if self._client is None:
            self._require("subscription_id", "resource_group", "workspace")
            with self._sdk("azure-ai-ml and azure-identity"):
                from azure.ai.ml import MLClient
                from azure.core.exceptions import ClientAuthenticationError
                from azure.identity import DefaultAzureCredential
            credential = DefaultAzureCredential()
            with self._credentials(ClientAuthenticationError):
                credential.get_token("https://management.azure.com/.default")
            self._client = MLClient(
                credential, self.subscription_id, self.resource_group, self.workspace
            )
        return self._client

    # ---- the interface ---------------------------------------------------------------------

    def deploy_model(self, model: ModelRef) -> DeployResult:
        client = self._ml_client()  # first: it turns a missing SDK into an install hint
        from azure.ai.ml.entities import (
            Environment,
            ManagedOnlineDeployment,
            ManagedOnlineEndpoint,
        )

        spec = deployment_spec(
            endpoint=self.endpoint_name,
            model=model,
            image_uri=self.image_uri,
            instance_type=self.instance_type,
            instance_count=self.instance_count,
        )
        endpoint = self._get_endpoint()
        if endpoint is None:
            endpoint = self._wait(
                client.online_endpoints.begin_create_or_update(
                    ManagedOnlineEndpoint(**endpoint_spec(name=self.endpoint_name, model=model))
                ),
                "create the endpoint",
            )
        before_traffic = dict(endpoint.traffic or {})
        before = most_traffic(before_traffic)
        environment = Environment(**spec.pop("environment"))
        self._wait(
            client.online_deployments.begin_create_or_update(
                ManagedOnlineDeployment(environment=environment, **spec)
            ),
            "create the deployment",
        )
        endpoint.traffic = traffic_after_deploy(list(before_traffic), spec["name"])
        endpoint = self._wait(
            client.online_endpoints.begin_create_or_update(endpoint), "switch traffic"
        )
        for stale in stale_deployments(
            list(endpoint.traffic), endpoint.traffic, self.keep_deployments
        ):
            self._wait(
                client.online_deployments.begin_delete(
                    name=stale, endpoint_name=self.endpoint_name
                ),
                "delete an old deployment",
            )
        return self._result(
            "deploy",
            model,
            endpoint=self.endpoint_name,
            state=str(getattr(endpoint, "provisioning_state", "") or "Succeeded"),
            previous_version=before[1:] if before else None,
            details={"deployment": spec["name"], "image": self.image_uri},
        )

    def status(self) -> DeployStatus:
        endpoint = self._get_endpoint()
        if endpoint is None:
            return self._not_deployed(
                "no such Azure ML online endpoint; run `mlops deploy up`", self.endpoint_name
            )
        state = str(getattr(endpoint, "provisioning_state", "") or "Unknown")
        current = most_traffic(dict(endpoint.traffic or {}))
        return self._status(
            healthy=state == "Succeeded" and current is not None,
            state=state,
            endpoint=self.endpoint_name,
            version=current[1:] if current else "",
            detail=f"traffic {dict(endpoint.traffic or {})}",
        )

    def rollback(self) -> DeployResult:
        client = self._ml_client()
        endpoint = self._get_endpoint()
        if endpoint is None:
            raise DeployError(f"Azure ML endpoint {self.endpoint_name} does not exist")
        traffic = dict(endpoint.traffic or {})
        names = [item.name for item in client.online_deployments.list(self.endpoint_name)]
        before = most_traffic(traffic)
        endpoint.traffic = rollback_traffic(names, traffic)
        self._wait(client.online_endpoints.begin_create_or_update(endpoint), "switch traffic")
        now = most_traffic(endpoint.traffic)
        return self._result(
            "rollback",
            ModelRef(self.model_name, now[1:] if now else ""),
            endpoint=self.endpoint_name,
            state="Succeeded",
            previous_version=before[1:] if before else None,
            details={"traffic": endpoint.traffic},
        )

    # ---- internals -------------------------------------------------------------------------

    def _get_endpoint(self) -> Any:
        client = self._ml_client()  # first: it turns a missing SDK into an install hint
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return client.online_endpoints.get(self.endpoint_name)
        except ResourceNotFoundError:
            return None

    @staticmethod
    def _wait(poller: Any, what: str) -> Any:
        from azure.core.exceptions import HttpResponseError

        try:
            return poller.result()
        except HttpResponseError as exc:
            raise DeployError(f"Azure ML could not {what}: {exc.message}") from exc
