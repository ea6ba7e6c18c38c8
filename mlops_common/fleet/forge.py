"""Open the review of an update branch: a GitHub pull request or a GitLab merge request.

The forge and its API come from the project's remote URL: ``github.com`` is GitHub
(``https://api.github.com``), any other host with ``github`` in its name is GitHub Enterprise
(``https://HOST/api/v3``), hosts with ``gitlab`` in their name are GitLab (``https://HOST/api/v4``,
gitlab.com or self-managed). Other hosts need ``forge=`` (``--forge``); ``api_url=`` overrides the
API root. The token comes from the environment (``GITHUB_TOKEN``/``GH_TOKEN``, ``GITLAB_TOKEN``).
Building the request is pure (:func:`review_request`); :func:`open_review` sends it (stdlib only).

>>> request = review_request(
...     "git@github.com:acme/churn.git", branch="template-update/v2.1.0", base="main",
...     title="Update template to v2.1.0", body="report")
>>> request.method, request.url
('POST', 'https://api.github.com/repos/acme/churn/pulls')
>>> request.json["head"], request.json["base"]
('template-update/v2.1.0', 'main')
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mlops_common.errors import EnvironmentProblem, FleetError
from mlops_common.template_source import canonical_source

__all__ = ["FORGES", "TOKEN_VARIABLES", "Review", "ReviewRequest", "open_review", "review_request"]

FORGES = ("github", "gitlab")
TOKEN_VARIABLES = {"github": ("GITHUB_TOKEN", "GH_TOKEN"), "gitlab": ("GITLAB_TOKEN",)}
GITHUB_API_VERSION = "2022-11-28"


@dataclass(frozen=True)
class ReviewRequest:
    """One HTTP request to a forge's REST API (the token is added when it is sent)."""

    forge: str
    method: str
    url: str
    json: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Review:
    """An opened (or already open) pull/merge request."""

    forge: str
    url: str
    already_open: bool = False


def _split_remote(remote: str) -> tuple[str, str, str]:
    """``(scheme, host, owner/repo path)`` of a git remote in any of its typed forms."""
    url = canonical_source(remote)
    scheme, _, rest = url.partition("://")
    authority, _, path = rest.partition("/")
    host = authority.rpartition("@")[2].split(":")[0]
    if scheme == "file" or not host or not path:
        raise FleetError(f"{remote}: not a forge URL; --open-pr needs a GitHub or GitLab remote")
    return ("https" if scheme in ("ssh", "git") else scheme), host, path


def forge_of(host: str, forge: str | None = None) -> str:
    if forge:
        if forge not in FORGES:
            raise FleetError(f"--forge {forge}: unknown forge; use one of {', '.join(FORGES)}")
        return forge
    lowered = host.lower()
    for name in FORGES:
        if name in lowered:
            return name
    raise FleetError(f"{host}: cannot tell whether this is GitHub or GitLab; pass --forge")


def review_request(
    remote: str,
    *,
    branch: str,
    base: str,
    title: str,
    body: str,
    forge: str | None = None,
    api_url: str | None = None,
) -> ReviewRequest:
    """The request that opens a review of ``branch`` into ``base`` on the remote's forge."""
    scheme, host, path = _split_remote(remote)
    kind = forge_of(host, forge)
    if kind == "github":
        root = api_url or (
            "https://api.github.com" if host == "github.com" else f"{scheme}://{host}/api/v3"
        )
        owner, _, repo = path.partition("/")
        return ReviewRequest(
            "github",
            "POST",
            f"{root.rstrip('/')}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/pulls",
            {"title": title, "head": branch, "base": base, "body": body},
            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": GITHUB_API_VERSION},
        )
    root = api_url or f"{scheme}://{host}/api/v4"
    return ReviewRequest(
        "gitlab",
        "POST",
        f"{root.rstrip('/')}/projects/{quote(path, safe='')}/merge_requests",
        {
            "source_branch": branch,
            "target_branch": base,
            "title": title,
            "description": body,
            "remove_source_branch": True,
        },
        {"Accept": "application/json"},
    )


def token_for(forge: str) -> str:
    """The API token for ``forge`` from the environment; a one-line error names the variables."""
    for name in TOKEN_VARIABLES[forge]:
        if os.environ.get(name):
            return os.environ[name]
    names = " or ".join(TOKEN_VARIABLES[forge])
    raise EnvironmentProblem(f"--open-pr on {forge}: set {names} to a token that may open reviews")


def _already_open(forge: str, status: int, payload: dict[str, Any]) -> bool:
    text = json.dumps(payload).lower()
    if forge == "github":
        return status == 422 and "already exists" in text
    return status == 409 and "already exists" in text


def open_review(request: ReviewRequest, *, token: str | None = None, timeout: float = 30) -> Review:
    """Send ``request``; an identical review that is already open counts as opened."""
    token = token or token_for(request.forge)
    auth = (
        {"Authorization": f"Bearer {token}"}
        if request.forge == "github"
        else {"PRIVATE-TOKEN": token}
    )
    http = urllib.request.Request(
        request.url,
        data=json.dumps(request.json).encode("utf-8"),
        method=request.method,
        headers={**request.headers, **auth, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as response:
            payload = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read() or b"{}")
        except ValueError:
            payload = {}
        if _already_open(request.forge, exc.code, payload):
            return Review(request.forge, "", already_open=True)
        message = payload.get("message") or payload.get("error") or exc.reason
        raise FleetError(f"{request.url}: {request.forge} answered {exc.code}: {message}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FleetError(
            f"{request.url}: not reachable ({exc}); check the host and network"
        ) from None
    url = payload.get("html_url") or payload.get("web_url") or ""
    return Review(request.forge, url)
