"""get_target: the project's cloud, settings from [tool.mlops.deploy.<target>], errors."""

from __future__ import annotations

import pytest
from cloud_helpers import write_project

from mlops_common.deploy import get_target
from mlops_common.errors import DeployError


def test_get_target_defaults_to_project_cloud_with_its_deploy_table(tmp_path):
    write_project(
        tmp_path,
        "churn-model-model",
        cloud="aws",
        extra="\n[tool.mlops.deploy.aws]\nregion = 'eu-west-1'\naccount_id = '123456789012'\n"
        "\n[tool.mlops.deploy.local]\nport = 8321\n",
    )
    target = get_target(project_root=tmp_path)
    assert target.name == "aws"
    assert target.image_uri == (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-model-model:latest"
    )
    local = get_target("local", project_root=tmp_path)
    assert (local.port, local.model_name) == (8321, "churn-model-model")
    assert get_target("local", project_root=tmp_path, port=9000).port == 9000


def test_get_target_reads_cloud_answers_the_template_renders_in_tool_mlops(tmp_path):
    write_project(
        tmp_path,
        "churn-model-model",
        cloud="gcp",
        extra="gcp_project = 'churn-model'\ngcp_region = 'europe-west1'\n",
    )
    target = get_target(project_root=tmp_path)
    assert (target.name, target.project, target.region) == ("gcp", "churn-model", "europe-west1")


def test_get_target_rejects_unknown_target_listing_the_known_ones(tmp_path):
    with pytest.raises(DeployError, match="unknown deploy target 'heroku'; choose one of local"):
        get_target("heroku", project_root=tmp_path)


def test_results_render_one_line_summaries_and_plain_dicts(tmp_path):
    import json

    from mlops_common.deploy import DeployResult, DeployStatus

    result = DeployResult("local", "rollback", "m", "1", "http://127.0.0.1:1", "running", "2")
    assert result.summary() == "local: m rolled back to v1 at http://127.0.0.1:1 [running] (was v2)"
    assert result.to_dict()["previous_version"] == "2"
    written = result.to_json(tmp_path / "deploy.json")
    assert json.loads(written.read_text()) == result.to_dict()
    assert result.exit_code == 0
    status = DeployStatus("aws", False, "Updating", "ep", "m", "3", "config ep-v3")
    assert status.summary() == "aws: m v3 at ep is NOT healthy [Updating]: config ep-v3"
    assert status.exit_code == 1


def test_get_target_rejects_a_setting_the_target_does_not_have(tmp_path):
    with pytest.raises(DeployError, match="the aws target has no setting port; it accepts"):
        get_target("aws", project_root=tmp_path, port=8080)
