"""A fleet of real rendered client projects (real Copier, real git) shared by the fleet tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

CLIENT_RULE = (
    "\n\ndef retention_weight(months: float) -> float:\n    return 2.0 if months >= 24 else 1.0\n"
)


@dataclass
class Fleet:
    root: Path
    template: Path
    projects: dict[str, Path] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    expected: dict[str, dict] = field(default_factory=dict)

    def locations(self) -> list[str]:
        return [self.urls.get(name, str(path)) for name, path in self.projects.items()]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} has no {old!r}"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="session")
def tpl():
    from tools import template_repo

    return template_repo


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory, tpl) -> Fleet:
    """15 locations: v1/v2.0/v2.1 projects with various answers and edits, a conflicting edit,
    a dirty tree, a repo that is not a Copier project, a missing path and a git URL."""
    base = tmp_path_factory.mktemp("fleet")
    repo = tpl.build_template_repo(base / "template")
    root = base / "clients"
    root.mkdir()
    fleet = Fleet(root=root, template=repo.path)

    def add(name, ref, expect, **answers):
        project = tpl.render_client(root / name, repo, ref, project_name=name, **answers)
        fleet.projects[name] = project
        fleet.expected[name] = {"ref": ref, **expect}
        return project

    clean = {"outcome": "updated-clean"}
    add("alpha", "v1.0.0", clean)
    add("beta", "v1.0.0", clean, cloud="aws", ci="gitlab")
    add("gamma", "v1.0.0", clean, cloud="gcp", ci="none", gcp_project="gamma-ml")
    delta = add("delta", "v1.0.0", clean, ml_task="regression")
    (delta / "src" / "delta" / "train.py").write_text(
        (delta / "src" / "delta" / "train.py").read_text() + CLIENT_RULE
    )
    _edit(delta / "params.yaml", "  test_size: 0.2\n", "  test_size: 0.25\n")
    tpl.commit_all(delta, "Client tuning")
    add("epsilon", "v2.0.0", clean, cloud="azure")
    zeta = add("zeta", "v2.0.0", clean, with_serving=False, python_version="3.12")
    (zeta / "metrics").mkdir(exist_ok=True)
    (zeta / "metrics" / "eval.json").write_text('{"accuracy": 0.91, "roc_auc": 0.95}\n')
    tpl.commit_all(zeta, "Last pipeline run")
    add("eta", "v2.1.0", {"outcome": "skipped", "reason": "already at v2.1.0"})
    theta = add("theta", "v1.0.0", {"outcome": "updated-with-conflicts"})
    _edit(theta / "pyproject.toml", tpl.OLD_LINE, 'prediction_log = "var/predictions.jsonl"')
    tpl.commit_all(theta, "Client moved the prediction log")
    iota = add("iota", "v1.0.0", {"outcome": "skipped", "reason": "dirty working tree"})
    _edit(iota / "params.yaml", "  test_size: 0.2\n", "  test_size: 0.3\n")  # never committed
    lam = add("lam", "v1.0.0", {"outcome": "failed-checks"})
    (lam / "src" / "lam" / "extra.py").write_text("import os\n")  # ruff F401 after update
    tpl.commit_all(lam, "Client helper")
    nu = add("nu", "v2.1.0", {"outcome": "skipped", "reason": "already at v2.1.0"})
    _edit(nu / "dvc.yaml", "  register:\n", "  publish:\n")
    tpl.commit_all(nu, "Client renamed a stage")

    kappa = root / "kappa"
    kappa.mkdir()
    (kappa / "README.md").write_text("# Not rendered from the template\n")
    tpl.git(kappa, "init", "--quiet", "--initial-branch=main")
    tpl.commit_all(kappa, "Hand-made project")
    fleet.projects["kappa"] = kappa
    fleet.expected["kappa"] = {"outcome": "skipped", "reason": "not a Copier project"}

    fleet.projects["missing"] = root / "missing"
    fleet.expected["missing"] = {"outcome": "skipped", "reason": "unreachable"}

    # A project known only by its git URL: fleet clones it shallowly into a cache.
    remote = base / "remote" / "xi"
    tpl.render_client(remote, repo, "v1.0.0", project_name="xi", cloud="aws")
    fleet.projects["xi"] = remote
    fleet.urls["xi"] = remote.as_uri()
    fleet.expected["xi"] = {"ref": "v1.0.0", "outcome": "updated-clean"}
    return fleet


# --- Local stand-ins for the forges' APIs, validating with openapi-core (see test_forge.py) ---
ROOT = Path(__file__).resolve().parents[2]
OCTOKIT = ROOT / ".nox" / "node-tools" / "node_modules" / "@octokit" / "openapi" / "generated"
GITLAB = Path(__file__).with_name("openapi") / "gitlab-merge-requests.yaml"
PULLS = "/repos/{owner}/{repo}/pulls"


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


@cache
def github_spec(name: str):
    """GitHub's description reduced to POST /repos/{owner}/{repo}/pulls and what it references."""
    path = OCTOKIT / f"{name}.json"
    if not path.is_file():
        pytest.skip("@octokit/openapi is not installed (nox -s tests installs it)")
    full = json.loads(path.read_text(encoding="utf-8"))
    operation = full["paths"][PULLS]["post"]
    wanted, done = set(), set()
    _refs(operation, wanted)
    components: dict = {}
    while wanted - done:
        ref = sorted(wanted - done)[0]
        done.add(ref)
        _, _, kind, key = ref.split("/", 3)
        node = full["components"][kind][key]
        components.setdefault(kind, {})[key] = node
        _refs(node, wanted)
    trimmed = {
        "openapi": full["openapi"],
        "info": full["info"],
        "servers": full["servers"],
        "paths": {PULLS: {"post": operation}},
        "components": components,
    }
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(trimmed)


@cache
def gitlab_spec():
    """The vendored Swagger 2.0 excerpt, converted mechanically to OpenAPI 3.0."""
    import yaml

    swagger = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    paths = {}
    for route, item in swagger["paths"].items():
        for method, op in item.items():
            body = next(p for p in op["parameters"] if p["in"] == "body")
            params = [
                {
                    "in": p["in"],
                    "name": p["name"],
                    "required": p.get("required", False),
                    "schema": {"type": p["type"]},
                }
                for p in op["parameters"]
                if p["in"] != "body"
            ]
            ref = body["schema"]["$ref"].replace("#/definitions/", "#/components/schemas/")
            paths.setdefault(route, {})[method] = {
                "operationId": op["operationId"],
                "parameters": params,
                "requestBody": {
                    "required": body.get("required", False),
                    "content": {c: {"schema": {"$ref": ref}} for c in op["consumes"]},
                },
                "responses": {
                    code: {"description": answer["description"]}
                    for code, answer in op["responses"].items()
                },
            }
    spec = {
        "openapi": "3.0.3",
        "info": swagger["info"],
        "servers": [{"url": "https://{host}", "variables": {"host": {"default": swagger["host"]}}}],
        "paths": paths,
        "components": {"schemas": swagger["definitions"]},
    }
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(spec)


class Forge:
    """A local stand-in for a forge API that validates every request it receives."""

    def __init__(self, spec, public_root: str, answer: tuple[int, dict]) -> None:
        self.spec, self.public_root, self.answer = spec, public_root, answer
        self.received: list[dict] = []
        self.errors: list[str] = []
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                from openapi_core.testing import MockRequest

                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = MockRequest(
                    forge.public_root,
                    "post",
                    urlsplit(self.path).path,
                    headers=dict(self.headers.items()),
                    data=body,
                    content_type=self.headers.get("Content-Type", ""),
                )
                try:
                    forge.spec.validate_request(request)
                except Exception as exc:  # what the forge would refuse
                    forge.errors.append(f"{exc.__class__.__name__}: {exc}")
                forge.received.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "json": json.loads(body),
                    }
                )
                status, payload = forge.answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Forge:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


CREATED_PR = (201, {"number": 7, "html_url": "https://github.com/acme/churn/pull/7"})


@pytest.fixture(scope="session")
def forges():
    """Forge(spec, public_root, answer), github_spec(name), gitlab_spec() and CREATED_PR."""
    pytest.importorskip("openapi_core")
    return SimpleNamespace(
        Forge=Forge, github_spec=github_spec, gitlab_spec=gitlab_spec, CREATED_PR=CREATED_PR
    )
