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


DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "reference",
    [
        f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-model@{DIGEST}",
        f"registry.example.com:5000/team/churn-model:v1@{DIGEST}",
        "europe-west1-docker.pkg.dev/p/r/churn-model:" + "0123abcd" * 5,
        "churnmodelregistry.azurecr.io/churn-model:0123abc",
    ],
)
def test_an_image_by_digest_or_commit_tag_is_what_the_cloud_target_runs(tmp_path, reference):
    from mlops_common.deploy import immutable_image

    write_project(tmp_path, "churn-model-model", cloud="aws", extra="aws_region = 'eu-west-1'\n")
    target = get_target(project_root=tmp_path, image_uri=immutable_image(reference))
    assert target.image_uri == reference


@pytest.mark.parametrize(
    "reference",
    [
        "registry.example.com/churn-model:latest",
        "registry.example.com/churn-model",
        "registry.example.com:5000/churn-model",
        "registry.example.com/churn-model:main",
        "registry.example.com/churn-model@sha256:short",
        " ",
    ],
)
def test_a_moving_image_reference_is_refused_with_how_to_name_it(reference):
    from mlops_common.deploy import immutable_image

    with pytest.raises(DeployError, match=r"by digest \(repo@sha256:<digest>"):
        immutable_image(reference)


def test_deploy_up_refuses_latest_before_any_cloud_call(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    write_project(tmp_path, "churn-model-model", cloud="aws", extra="aws_region = 'eu-west-1'\n")
    mlops = Path(sys.executable).parent / "mlops"
    result = subprocess.run(
        [str(mlops), "deploy", "up", "--target", "aws", "--image", "repo/churn:latest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: image 'repo/churn:latest' can change after it is deployed: give it by digest "
        "(repo@sha256:<digest>, what CI's image job outputs) or by its commit-SHA tag"
    ]
