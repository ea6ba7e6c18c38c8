"""After `copier update` with client edits, the project still passes its own tests and `dvc repro`.

Runs in this environment (it holds mlops-common and every project dependency) with the project's
src/ on PYTHONPATH, like tests/template's end-to-end runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import copier
import pytest

BIN_DIR = Path(sys.executable).parent
CLIENT_RULE = '''

def retention_weight(tenure_months: float) -> float:
    """Client rule: customers past two years count double in retention campaigns."""
    return 2.0 if tenure_months >= 24 else 1.0
'''


def _tpl():
    from tools import template_repo

    return template_repo


def run(project: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN_DIR), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(project / "src"),
        "NO_COLOR": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)  # the project's embedded store, never the caller's
    return subprocess.run(
        list(argv), cwd=project, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_updated_project_with_client_edits_passes_its_tests_and_dvc_repro(tmp_path):
    tpl = _tpl()
    # Release numbers the installed development library satisfies: every stage starts with
    # `mlops doctor`, which refuses a template release newer than the library.
    old, new, _ = tpl.RUNNABLE_TAGS
    template_repo = tpl.build_template_repo(tmp_path / "template", tags=tpl.RUNNABLE_TAGS)
    project = tpl.render_client(tmp_path / "churn", template_repo, old)
    train = project / "src" / "churn_model" / "train.py"
    train.write_text(train.read_text() + CLIENT_RULE)
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("  test_size: 0.2\n", "  test_size: 0.25\n"))
    tpl.commit_all(project, "Client work on 1.0.0")
    copier.run_update(
        str(project), defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref=new
    )
    assert tpl.load_answers(project)["_commit"] == new
    tpl.commit_all(project, f"Template {new}")

    tests = run(project, sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    repro = run(project, str(BIN_DIR / "dvc"), "repro")
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    assert (project / "metrics" / "eval.json").is_file()
    assert (project / "reports" / "promotion.json").is_file()
    assert CLIENT_RULE in train.read_text()
