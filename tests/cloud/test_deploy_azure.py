"""Azure ML payloads: built by pure functions and tested directly.

``azure-ai-ml`` is not installed in the test environment (it pins marshmallow 3 and would
downgrade packages the rest of the suite uses), so the calls through ``MLClient`` are not
exercised here; see docs/cloud-adapters.md.
"""

from __future__ import annotations

import importlib.util

import pytest

from mlops_common.deploy import ModelRef, get_target
from mlops_common.deploy.azure import (
    deployment_spec,
    endpoint_spec,
    rollback_traffic,
    stale_deployments,
    traffic_after_deploy,
)
from mlops_common.errors import DeployError

MODEL = ModelRef(
    "churn-model-model",
    "3",
    "wasbs://mlflow@churnmodeldata.blob.core.windows.net/1/m-abc/artifacts",
)


def test_deployment_spec_runs_acr_image_with_health_and_predict_routes():
    target = get_target("azure", registry="churnmodelacr", model_name=MODEL.name)
    spec = deployment_spec(endpoint=target.endpoint_name, model=MODEL, image_uri=target.image_uri)
    assert spec["name"] == "v3"
    assert spec["endpoint_name"] == "churn-model-model"
    assert spec["environment"]["image"] == "churnmodelacr.azurecr.io/churn-model-model:latest"
    routes = spec["environment"]["inference_config"]
    assert routes["scoring_route"] == {"port": 8000, "path": "/predict"}
    assert routes["readiness_route"] == {"port": 8000, "path": "/ready"}
    assert spec["environment_variables"]["MLOPS_MODEL_URI"] == MODEL.source
    assert (spec["instance_type"], spec["instance_count"]) == ("Standard_DS3_v2", 1)


def test_endpoint_uses_key_auth_and_a_valid_endpoint_name():
    target = get_target("azure", model_name="9 Churn_Model model with a very long name indeed")
    name = target.endpoint_name
    assert name[0].isalpha() and 3 <= len(name) <= 32
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert endpoint_spec(name=name, model=MODEL)["auth_mode"] == "key"


def test_new_deployment_takes_all_traffic_and_rollback_returns_it_to_previous():
    after = traffic_after_deploy(["v1", "v2"], "v3")
    assert after == {"v1": 0, "v2": 0, "v3": 100}
    assert rollback_traffic(["v1", "v2", "v3"], after) == {"v1": 0, "v2": 100, "v3": 0}
    # Versions compare as numbers: v10 is newer than v9.
    assert rollback_traffic(["v9", "v10"], {"v10": 100, "v9": 0}) == {"v10": 0, "v9": 100}


def test_rollback_without_older_deployment_raises_deploy_error():
    with pytest.raises(DeployError, match="no deployment older than v1"):
        rollback_traffic(["v1"], {"v1": 100})


def test_old_deployments_without_traffic_are_deleted_beyond_the_kept_ones():
    assert stale_deployments(["v1", "v2", "v3"], {"v3": 100}, keep=2) == ["v1"]
    assert stale_deployments(["v1", "v2", "v3"], {"v1": 100}, keep=2) == []


def test_azure_deploy_of_model_stored_outside_blob_storage_explains_artifact_location():
    with pytest.raises(DeployError, match="set artifact_location to a wasbs:// URI"):
        deployment_spec(endpoint="e", model=ModelRef("m", "1", "gs://b/k"), image_uri="img")


@pytest.mark.skipif(
    importlib.util.find_spec("azure.ai") is not None
    and importlib.util.find_spec("azure.ai.ml") is not None,
    reason="azure-ai-ml is installed: the install hint cannot be shown",
)
def test_azure_without_sdk_says_which_extra_to_install():
    target = get_target(
        "azure",
        subscription_id="0" * 8 + "-0000-0000-0000-" + "0" * 12,
        resource_group="rg",
        workspace="ws",
    )
    with pytest.raises(DeployError, match=r"pip install 'mlops-common\[azure\]'"):
        target.status()


def test_azure_needs_workspace_coordinates_before_any_call():
    with pytest.raises(DeployError, match="needs subscription_id, resource_group, workspace"):
        get_target("azure").status()
