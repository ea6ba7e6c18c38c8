"""The `orchestrator` answer: a fresh render commits its orchestrator's definition, current with
its dvc.yaml (`mlops export --check` passes), and depends on the matching extra of mlops-common."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_common.orchestrate import ORCHESTRATORS, default_path
from tools import project_workflow, template_exports

REPO_ROOT = Path(__file__).resolve().parents[2]
CHOICES = list(
    yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))["orchestrator"][
        "choices"
    ].values()
)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_workflow.template_snapshot(tmp_path_factory.mktemp("orchestrators"))


def test_every_answer_has_an_exporter_and_a_library_extra() -> None:
    assert set(CHOICES) == set(ORCHESTRATORS)
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extras = pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]
    for target in filter(None, ORCHESTRATORS.values()):
        assert f"\n{target} = [" in extras, target


def test_the_templates_definitions_are_the_exporters_output() -> None:
    """`nox -s exports` regenerates them; a stale copy would fail every fresh render's CI."""
    for path, text in template_exports.generated().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run nox -s exports"


@pytest.mark.parametrize("with_feature_store", [False, True])
@pytest.mark.parametrize("orchestrator", CHOICES)
def test_a_fresh_render_passes_export_check(
    snapshot: Path, tmp_path: Path, orchestrator: str, with_feature_store: bool
) -> None:
    """Also with the feature store, whose stages change dvc.yaml (features, materialize)."""
    project = project_workflow.render_project(
        tmp_path / "p",
        src=snapshot,
        project_name="Fraud Scores",
        package_name="fraud_scoring_v2",
        orchestrator=orchestrator,
        cloud="aws",
        with_feature_store=with_feature_store,
    )
    target = ORCHESTRATORS[orchestrator]
    generated = sorted(p.name for p in (project / "orchestration").glob("*")) if target else []
    assert generated == ([Path(default_path(target)).name] if target else [])
    assert not (project / "orchestration").exists() or target
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "mlops"), "export", "--check"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert f'orchestrator = "{orchestrator}"' in pyproject
    extras = "aws" if target is None else f"aws,{target}"
    if with_feature_store:
        extras += ",feast"
    assert f'"mlops-common[{extras}]>=' in pyproject
    assert ('image = "fraud-scores:latest"' in pyproject) == (orchestrator == "kubeflow")
