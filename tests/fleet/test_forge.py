"""``--open-pr`` requests, checked against the providers' published OpenAPI descriptions.

No forge is reachable here. A real HTTP server on 127.0.0.1 stands in for each API: it receives
what :func:`open_review` really sends (urllib over TCP), validates method, path, headers and JSON
body with openapi-core against GitHub's description (npm ``@octokit/openapi``: api.github.com and
GitHub Enterprise Server 3.19) or GitLab's (tests/fleet/openapi/, trimmed from gitlabhq's
``doc/api/openapi/openapi_v2.yaml``), and answers as the forge documents (201 with the review's
URL, 422/409 when one is already open). What is not exercised: real authentication, rate limits,
permissions, and forge behaviour beyond the documented request and answer shapes.
"""

from __future__ import annotations

import json

import pytest

from mlops_common.errors import EnvironmentProblem, FleetError
from mlops_common.fleet.forge import open_review, review_request

openapi_core = pytest.importorskip("openapi_core")
from openapi_core.testing import MockRequest  # noqa: E402 (after the skip)

KW = {"branch": "template-update/v2.2.0", "base": "main", "title": "Update to v2.2.0"}


@pytest.mark.parametrize(
    ("remote", "spec", "public_root", "api_path"),
    [
        ("https://github.com/acme/churn.git", "api.github.com", "https://api.github.com", ""),
        ("git@github.com:acme/churn.git", "api.github.com", "https://api.github.com", ""),
        ("https://github.corp.example/ml/churn", "ghes-3.19",
         "https://github.corp.example", "/api/v3"),
    ],
)  # fmt: skip
def test_pull_request_request_matches_githubs_openapi(forges, remote, spec, public_root, api_path):
    with forges.Forge(forges.github_spec(spec), public_root, forges.CREATED_PR) as forge:
        request = review_request(remote, **KW, body="report", api_url=forge.url + api_path)
        assert request.url.startswith(forge.url)
        review = open_review(request, token="t0ken")
    assert forge.errors == []
    assert review.url == "https://github.com/acme/churn/pull/7"
    sent = forge.received[0]
    assert sent["path"].endswith(("/repos/acme/churn/pulls", "/repos/ml/churn/pulls"))
    assert sent["headers"]["authorization"] == "Bearer t0ken"
    assert sent["headers"]["x-github-api-version"] == "2022-11-28"
    assert sent["json"] == {**{k: KW[k] for k in ("title",)}, "head": KW["branch"],
                            "base": "main", "body": "report"}  # fmt: skip


def test_default_api_roots_follow_the_host():
    assert review_request("https://github.com/a/b", **KW, body="").url == (
        "https://api.github.com/repos/a/b/pulls"
    )
    assert review_request("https://github.corp.example/a/b", **KW, body="").url == (
        "https://github.corp.example/api/v3/repos/a/b/pulls"
    )
    assert review_request("ssh://git@gitlab.example.com/ml/team/churn.git", **KW, body="").url == (
        "https://gitlab.example.com/api/v4/projects/ml%2Fteam%2Fchurn/merge_requests"
    )
    assert review_request("https://git.example.org/a/b", **KW, body="", forge="gitlab").forge == (
        "gitlab"
    )
    with pytest.raises(FleetError, match="pass --forge"):
        review_request("https://git.example.org/a/b", **KW, body="")


def test_validator_refuses_a_request_github_would_refuse(forges):
    spec = forges.github_spec("api.github.com")
    bad = MockRequest(
        "https://api.github.com",
        "post",
        "/repos/acme/churn/pulls",
        data=json.dumps({"title": "no head or base"}).encode(),
    )
    with pytest.raises(Exception, match=r"head|base|required"):
        spec.validate_request(bad)


@pytest.mark.parametrize(
    ("remote", "public_root"),
    [
        ("git@gitlab.com:ml/team/churn.git", "https://gitlab.com"),
        ("https://gitlab.corp.example/ml/churn.git", "https://gitlab.corp.example"),
    ],
)
def test_merge_request_request_matches_gitlabs_openapi(forges, remote, public_root):
    answer = (201, {"iid": 3, "web_url": f"{public_root}/ml/churn/-/merge_requests/3"})
    with forges.Forge(forges.gitlab_spec(), public_root, answer) as forge:
        request = review_request(remote, **KW, body="report", api_url=forge.url + "/api/v4")
        review = open_review(request, token="glpat")
    assert forge.errors == []
    assert review.url.endswith("/-/merge_requests/3")
    sent = forge.received[0]
    assert sent["headers"]["private-token"] == "glpat"
    assert sent["json"]["source_branch"] == KW["branch"]
    assert sent["json"]["target_branch"] == "main" and sent["json"]["description"] == "report"


@pytest.mark.parametrize(
    ("remote", "answer"),
    [
        ("https://github.com/a/b", (422, {"message": "Validation Failed",
         "errors": [{"message": "A pull request already exists for a:template-update/v2.2.0."}]})),
        ("https://gitlab.com/a/b", (409, {"message": ["Another open merge request already exists "
         "for this source branch: !3"]})),
    ],
)  # fmt: skip
def test_review_already_open_counts_as_opened(forges, remote, answer):
    spec = forges.github_spec("api.github.com") if "github" in remote else forges.gitlab_spec()
    root = "https://api.github.com" if "github" in remote else "https://gitlab.com"
    with forges.Forge(spec, root, answer) as forge:
        path = "" if "github" in remote else "/api/v4"
        review = open_review(
            review_request(remote, **KW, body="", api_url=forge.url + path), token="t"
        )
    assert review.already_open is True


def test_missing_token_names_the_variables(monkeypatch):
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(EnvironmentProblem, match="GITHUB_TOKEN or GH_TOKEN") as raised:
        open_review(review_request("https://github.com/a/b", **KW, body=""))
    assert raised.value.exit_code == 3
