"""The ``gcp`` target: a Vertex AI endpoint running the project's Artifact Registry image.

Each deploy uploads a Vertex model (the image plus the registry's ``gs://`` artifact folder) and
deploys it to the endpoint named after the model with 100 % of the traffic. The version deployed
before keeps its replicas at 0 % traffic so ``rollback`` is a traffic switch, not a new rollout;
older deployed models are undeployed. Requests are built by pure functions below (tested against
the real ``google.cloud.aiplatform_v1`` request types) and sent with the GAPIC clients.

Needs ``pip install 'mlops-common[gcp]'`` and Application Default Credentials: Workload Identity
Federation in CI, ``gcloud auth application-default login`` on a laptop.

>>> target = VertexTarget(model_name="churn-model-model", project="churn-model",
...                       region="europe-west1")  # doctest: +SKIP
>>> target.deploy(alias="champion").state  # doctest: +SKIP
'deployed'
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
    "VertexTarget",
    "deploy_model_request",
    "deployed_display_name",
    "rollback_traffic_split",
    "stale_deployed_models",
    "upload_model_request",
]

CREDENTIALS_HINT = (
    "Google Cloud credentials not found: configure Workload Identity Federation in CI or "
    "`gcloud auth application-default login` locally"
)
_DEPLOYED_NAME = re.compile(r"^(?P<endpoint>.+)-v(?P<version>\d+)$")


def _label(text: str) -> str:
    """Vertex label values and display names: lowercase letters, digits, - and _, <= 63."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:63] or "model"


def deployed_display_name(endpoint: str, version: str) -> str:
    """Display name of one deployed model version: ``<endpoint>-v<version>``.

    >>> deployed_display_name("churn-model", "3")
    'churn-model-v3'
    """
    return f"{_label(endpoint)}-v{version}"


def upload_model_request(
    *, project: str, region: str, model: ModelRef, image_uri: str, port: int = 8000
) -> dict[str, Any]:
    """The ``ModelService.UploadModel`` request for one registered model version."""
    model.require_source("gs://", service="Vertex AI", storage="Cloud Storage", example="a gs://")
    # Vertex copies artifact_uri and passes the copy as AIP_STORAGE_URI; reading the source
    # directly keeps the container independent of that copy.
    env = model.serving_env()
    return {
        "parent": f"projects/{project}/locations/{region}",
        "model": {
            "display_name": deployed_display_name(model.name, model.version),
            "artifact_uri": model.source,
            "container_spec": {
                "image_uri": image_uri,
                "env": [{"name": name, "value": value} for name, value in env.items()],
                "ports": [{"container_port": port}],
                "predict_route": "/predict",
                "health_route": "/health",
            },
            "labels": {
                "mlops-model-name": _label(model.name),
                "mlops-model-version": _label(model.version),
            },
        },
    }


def deploy_model_request(
    *,
    endpoint: str,
    model_resource: str,
    display_name: str,
    machine_type: str = "n1-standard-2",
    min_replicas: int = 1,
    max_replicas: int = 1,
) -> dict[str, Any]:
    """The ``EndpointService.DeployModel`` request: the new model takes 100 % of the traffic."""
    return {
        "endpoint": endpoint,
        "deployed_model": {
            "model": model_resource,
            "display_name": display_name,
            "dedicated_resources": {
                "machine_spec": {"machine_type": machine_type},
                "min_replica_count": int(min_replicas),
                "max_replica_count": int(max_replicas),
            },
        },
        # "0" is Vertex's name for the model being deployed by this very request.
        "traffic_split": {"0": 100},
    }


def rollback_traffic_split(
    deployed: Sequence[dict[str, str]], traffic_split: dict[str, int]
) -> tuple[dict[str, int], dict[str, str]]:
    """The traffic split that sends everything to the previously deployed version.

    ``deployed`` lists ``{"id", "display_name", "create_time"}``; returns the new split and the
    deployed model it favours.

    >>> deployed = [{"id": "1", "display_name": "m-v1", "create_time": "2026-01-01T00:00:00Z"},
    ...             {"id": "2", "display_name": "m-v2", "create_time": "2026-01-02T00:00:00Z"}]
    >>> rollback_traffic_split(deployed, {"2": 100, "1": 0})[0]
    {'1': 100, '2': 0}
    """
    current = most_traffic(traffic_split)
    by_id = {item["id"]: item for item in deployed}
    if current is None or current not in by_id:
        raise DeployError("the Vertex endpoint serves no deployed model; deploy one first")
    current_version = _version(by_id[current]["display_name"])
    candidates = sorted(
        (
            item
            for item in deployed
            if item["id"] != current and _version(item["display_name"]) != current_version
        ),
        key=lambda item: item["create_time"],
    )
    if not candidates:
        raise DeployError(
            f"the Vertex endpoint has no earlier deployed version than v{current_version} "
            "(it keeps one); deploy a version explicitly instead"
        )
    previous = candidates[-1]
    return {item["id"]: (100 if item is previous else 0) for item in deployed}, previous


def stale_deployed_models(
    deployed: Sequence[dict[str, str]], traffic_split: dict[str, int], keep: int = 2
) -> list[str]:
    """Ids of deployed models beyond the ``keep`` newest that receive no traffic."""
    newest_first = sorted(deployed, key=lambda item: item["create_time"], reverse=True)
    return [item["id"] for item in newest_first[keep:] if traffic_split.get(item["id"], 0) == 0]


def _version(display_name: str) -> str:
    match = _DEPLOYED_NAME.match(display_name)
    return match["version"] if match else ""


class VertexTarget(CloudTarget):
    """Deploy to a Vertex AI endpoint in ``project``/``region``."""

    name = "gcp"
    credentials_hint = CREDENTIALS_HINT

    def __init__(
        self,
        *,
        project: str | None = None,
        region: str | None = None,
        repository: str = "mlops",
        image_name: str | None = None,
        machine_type: str = "n1-standard-2",
        min_replicas: int = 1,
        max_replicas: int = 1,
        keep_deployed: int = 2,
        api_endpoint: str | None = None,
        **common: Any,
    ) -> None:
        """``common``: what every cloud target takes (``endpoint_name``, ``image_uri``, ...)."""
        super().__init__(**common)
        self.project = project
        self.region = region
        self.repository = repository
        self.image_name = image_name or self.endpoint_name
        self.machine_type = machine_type
        self.min_replicas = int(min_replicas)
        self.max_replicas = int(max_replicas)
        self.keep_deployed = int(keep_deployed)
        self.api_endpoint = api_endpoint
        self._clients: tuple[Any, Any] | None = None

    def _valid_endpoint_name(self, text: str) -> str:
        return _label(text)

    def _registry_image_uri(self) -> str:
        """``<region>-docker.pkg.dev/<project>/<repository>/<image>:<tag>`` in Artifact Registry."""
        self._require("project", "region")
        return (
            f"{self.region}-docker.pkg.dev/{self.project}/{self.repository}/"
            f"{self.image_name}:{self.image_tag}"
        )

    def _services(self) -> tuple[Any, Any]:
        """(ModelServiceClient, EndpointServiceClient) for the region, credentials checked."""
        if self._clients is None:
            self._require("project", "region")
            with self._sdk("google-cloud-aiplatform"):
                import google.auth
                from google.auth.exceptions import DefaultCredentialsError
                from google.cloud import aiplatform_v1
            with self._credentials(DefaultCredentialsError):
                credentials, _ = google.auth.default()
            options = {
                "api_endpoint": self.api_endpoint or f"{self.region}-aiplatform.googleapis.com"
            }
            self._clients = (
                aiplatform_v1.ModelServiceClient(credentials=credentials, client_options=options),
                aiplatform_v1.EndpointServiceClient(
                    credentials=credentials, client_options=options
                ),
            )
        return self._clients

    # ---- the interface ---------------------------------------------------------------------

    def deploy_model(self, model: ModelRef) -> DeployResult:
        models, endpoints = self._services()
        upload = upload_model_request(
            project=self.project, region=self.region, model=model, image_uri=self.image_uri
        )
        uploaded = self._wait(models.upload_model(request=upload), "upload the model")
        endpoint = self._find_endpoint() or self._wait(
            endpoints.create_endpoint(
                request={
                    "parent": upload["parent"],
                    "endpoint": {"display_name": self.endpoint_name},
                }
            ),
            "create the endpoint",
        )
        before = _current_version(endpoint)
        request = deploy_model_request(
            endpoint=endpoint.name,
            model_resource=uploaded.model,
            display_name=deployed_display_name(self.endpoint_name, model.version),
            machine_type=self.machine_type,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
        )
        self._wait(endpoints.deploy_model(request=request), "deploy the model")
        refreshed = endpoints.get_endpoint(name=endpoint.name)
        for stale in stale_deployed_models(
            _deployed(refreshed), dict(refreshed.traffic_split), self.keep_deployed
        ):
            self._wait(
                endpoints.undeploy_model(
                    request={"endpoint": endpoint.name, "deployed_model_id": stale}
                ),
                "undeploy an old model",
            )
        return self._result(
            "deploy",
            model,
            endpoint=endpoint.name,
            state="deployed",
            previous_version=before,
            details={"model": uploaded.model, "image": self.image_uri},
        )

    def status(self) -> DeployStatus:
        endpoint = self._find_endpoint()
        if endpoint is None:
            return self._not_deployed(
                "no such Vertex AI endpoint; run `mlops deploy up`", self.endpoint_name
            )
        version = _current_version(endpoint)
        return self._status(
            healthy=version is not None,
            state="serving" if version is not None else "no traffic",
            endpoint=endpoint.name,
            version=version or "",
            detail=f"traffic {dict(endpoint.traffic_split)}",
        )

    def rollback(self) -> DeployResult:
        _, endpoints = self._services()
        endpoint = self._find_endpoint()
        if endpoint is None:
            raise DeployError(f"Vertex AI endpoint {self.endpoint_name} does not exist")
        before = _current_version(endpoint)
        split, previous = rollback_traffic_split(_deployed(endpoint), dict(endpoint.traffic_split))
        endpoints.update_endpoint(
            request={
                "endpoint": {"name": endpoint.name, "traffic_split": split},
                "update_mask": {"paths": ["traffic_split"]},
            }
        )
        return self._result(
            "rollback",
            ModelRef(self.model_name, _version(previous["display_name"])),
            endpoint=endpoint.name,
            state="deployed",
            previous_version=before,
            details={"traffic_split": split},
        )

    # ---- internals -------------------------------------------------------------------------

    def _find_endpoint(self) -> Any:
        _, endpoints = self._services()
        found = endpoints.list_endpoints(
            request={
                "parent": f"projects/{self.project}/locations/{self.region}",
                "filter": f'display_name="{self.endpoint_name}"',
            }
        )
        return next(iter(found), None)

    @staticmethod
    def _wait(operation: Any, what: str) -> Any:
        from google.api_core.exceptions import GoogleAPICallError

        try:
            return operation.result(timeout=3600)
        except GoogleAPICallError as exc:
            raise DeployError(f"Vertex AI could not {what}: {exc.message}") from exc


def _deployed(endpoint: Any) -> list[dict[str, str]]:
    return [
        {
            "id": item.id,
            "display_name": item.display_name,
            "create_time": item.create_time.isoformat() if item.create_time else "",
        }
        for item in endpoint.deployed_models
    ]


def _current_version(endpoint: Any) -> str | None:
    current = most_traffic(dict(endpoint.traffic_split))
    for item in endpoint.deployed_models:
        if item.id == current:
            return _version(item.display_name) or None
    return None
