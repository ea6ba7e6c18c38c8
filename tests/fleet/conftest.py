"""A fleet of real rendered client projects (real Copier, real git) shared by the fleet tests."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CLIENT_RULE = (
    "\n\ndef retention_weight(months: float) -> float:\n    return 2.0 if months >= 24 else 1.0\n"
)


def _template_repo_module():
    name = "mlops_tests_template_repo"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "update" / "template_repo.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


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
    return _template_repo_module()


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
