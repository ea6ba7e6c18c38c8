"""Vertex AI requests: built by pure functions and checked against the real aiplatform_v1 types.

Constructing a ``google.cloud.aiplatform_v1`` request from a dict rejects unknown fields and wrong
types, so these tests check the payloads' shape; no Google Cloud project is reachable from here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mlops_common.deploy import ModelRef
from mlops_common.deploy.gcp import (
    CREDENTIALS_HINT,
    VertexTarget,
    deploy_model_request,
    rollback_traffic_split,
    stale_deployed_models,
    upload_model_request,
)
from mlops_common.errors import DeployError

aiplatform_v1 = pytest.importorskip("google.cloud.aiplatform_v1", reason="pip install '.[gcp]'")

MODEL = ModelRef("churn-model-model", "3", "gs://churn-model-data/mlflow/1/models/m-abc/artifacts")
DEPLOYED = [
    {"id": "111", "display_name": "churn-model-model-v1", "create_time": "2026-01-01T00:00:00"},
    {"id": "222", "display_name": "churn-model-model-v2", "create_time": "2026-01-02T00:00:00"},
    {"id": "333", "display_name": "churn-model-model-v3", "create_time": "2026-01-03T00:00:00"},
]


def test_upload_request_is_a_valid_vertex_upload_with_image_routes_and_model_files():
    target = VertexTarget(model_name=MODEL.name, project="churn-model", region="europe-west1")
    request = upload_model_request(
        project="churn-model", region="europe-west1", model=MODEL, image_uri=target.image_uri
    )
    typed = aiplatform_v1.UploadModelRequest(request)
    assert typed.parent == "projects/churn-model/locations/europe-west1"
    spec = typed.model.container_spec
    assert spec.image_uri == (
        "europe-west1-docker.pkg.dev/churn-model/mlops/churn-model-model:latest"
    )
    assert (spec.predict_route, spec.health_route, spec.ports[0].container_port) == (
        "/predict",
        "/health",
        8000,
    )
    assert {item.name: item.value for item in spec.env}["MLOPS_MODEL_URI"] == MODEL.source
    assert typed.model.artifact_uri == MODEL.source
    assert dict(typed.model.labels) == {
        "mlops-model-name": "churn-model-model",
        "mlops-model-version": "3",
    }


def test_deploy_request_is_valid_and_gives_the_new_model_all_traffic():
    request = deploy_model_request(
        endpoint="projects/p/locations/europe-west1/endpoints/42",
        model_resource="projects/p/locations/europe-west1/models/7",
        display_name="churn-model-model-v3",
    )
    typed = aiplatform_v1.DeployModelRequest(request)
    assert dict(typed.traffic_split) == {"0": 100}
    resources = typed.deployed_model.dedicated_resources
    assert (resources.machine_spec.machine_type, resources.min_replica_count) == (
        "n1-standard-2",
        1,
    )


def test_rollback_split_sends_all_traffic_to_newest_earlier_version():
    split, previous = rollback_traffic_split(DEPLOYED, {"333": 100, "222": 0, "111": 0})
    assert split == {"111": 0, "222": 100, "333": 0}
    assert previous["display_name"] == "churn-model-model-v2"
    update = aiplatform_v1.UpdateEndpointRequest(
        {
            "endpoint": {"name": "projects/p/locations/r/endpoints/42", "traffic_split": split},
            "update_mask": {"paths": ["traffic_split"]},
        }
    )
    assert dict(update.endpoint.traffic_split) == split


def test_rollback_split_refuses_when_only_one_version_is_deployed():
    with pytest.raises(DeployError, match="no earlier deployed version than v3"):
        rollback_traffic_split(DEPLOYED[2:], {"333": 100})


def test_deploy_undeploys_only_old_models_without_traffic():
    assert stale_deployed_models(DEPLOYED, {"333": 100}, keep=2) == ["111"]
    assert stale_deployed_models(DEPLOYED, {"333": 50, "111": 50}, keep=2) == []


def test_gcp_deploy_of_model_stored_outside_gcs_explains_artifact_location():
    with pytest.raises(DeployError, match="set artifact_location to a gs:// URI"):
        upload_model_request(
            project="p", region="r", model=ModelRef("m", "1", "s3://b/k"), image_uri="img"
        )


def test_gcp_without_credentials_says_how_to_get_them(tmp_path):
    # A fresh interpreter: google-auth reads its metadata-server settings at import time.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "CLOUDSDK_", "GCE_"))
    }
    env.update(
        NO_GCE_CHECK="true",
        GCE_METADATA_HOST="127.0.0.1:9",
        GCE_METADATA_IP="127.0.0.1:9",
        CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
        HOME=str(tmp_path),
    )
    code = (
        "import json\n"
        "from mlops_common.deploy import get_target\n"
        "from mlops_common.errors import DeployError\n"
        "try:\n"
        "    get_target('gcp', project='churn-model', region='europe-west1').status()\n"
        "except DeployError as exc:\n"
        "    print(json.dumps(str(exc)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == CREDENTIALS_HINT
