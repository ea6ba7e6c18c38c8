"""`mlops doctor` and the first call of every stage: one line with the fix, exit code 3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_common.doctor import (
    check_dvc_remote,
    check_library,
    check_template,
    check_tracking,
    dvc_remote,
    require_environment,
    run_doctor,
)
from mlops_common.errors import EnvironmentProblem
from tools.processes import free_port
from tools.project_workflow import render_project, template_snapshot

GIT_PIN = "mlops-common @ git+https://github.com/acme/tpl@v0.4.0"
RANGE = "mlops-common>=0.4,<1"
FROM_TAG = {
    "url": "https://github.com/acme/tpl",
    "vcs_info": {"vcs": "git", "requested_revision": "v0.4.0", "commit_id": "a" * 40},
}


def test_library_inside_the_range_and_from_the_pinned_tag_passes():
    check = check_library("0.4.0", [RANGE, GIT_PIN], FROM_TAG)
    assert check.ok and "from git v0.4.0" in check.detail


def test_library_outside_the_range_fails_with_the_fix():
    check = check_library("0.3.2", [RANGE], None)
    assert not check.ok
    assert check.line() == (
        "FAIL library    installed mlops-common 0.3.2 is outside the project's pin <1,>=0.4; "
        "fix: pip install -e . (or uv sync) installs the pinned mlops-common"
    )


def test_library_from_an_older_tag_than_the_pin_fails():
    older = {**FROM_TAG, "vcs_info": {**FROM_TAG["vcs_info"], "requested_revision": "v0.3.0"}}
    check = check_library("0.4.0", [RANGE, GIT_PIN], older)
    assert not check.ok and "comes from v0.3.0, the project pins v0.4.0" in check.detail


def test_library_from_a_wheel_must_be_the_pinned_release():
    wheel = {"url": "file:///wheels/mlops_common-0.3.0-py3-none-any.whl", "archive_info": {}}
    assert not check_library("0.3.0", [GIT_PIN], wheel).ok
    assert check_library("0.4.0", [GIT_PIN], wheel).ok


def test_library_pinned_to_a_commit_matches_the_installed_commit():
    commit = "b" * 40
    pin = f"mlops-common @ git+file:///srv/tpl@{commit}"
    installed = {"url": "file:///srv/tpl", "vcs_info": {"vcs": "git", "commit_id": commit}}
    assert check_library("0.1.dev3", [pin], installed).ok
    other = {"url": "file:///srv/tpl", "vcs_info": {"vcs": "git", "commit_id": "c" * 40}}
    assert not check_library("0.1.dev3", [pin], other).ok


def test_editable_library_checkout_is_not_held_to_the_range():
    editable = {"url": "file:///src/mlops", "dir_info": {"editable": True}}
    check = check_library("0.1.dev9", ["mlops-common>=2.0,<3"], editable)
    assert check.ok and "editable checkout" in check.detail


def test_missing_library_says_how_to_install_it():
    check = check_library(None, [RANGE], None)
    assert not check.ok and check.fix.startswith("pip install -e .")


def test_template_release_newer_than_the_library_fails():
    check = check_template({"_commit": "v0.5.0"}, "0.4.2")
    assert not check.ok and "template v0.5.0 needs mlops-common >= 0.5" in check.detail


def test_untagged_template_says_so():
    check = check_template({"_commit": "3f2a9c1"}, "0.1.dev4")
    assert check.ok and check.detail.startswith("unreleased template (no vX.Y.Z tag yet")


def test_tracking_and_dvc_checks_name_the_fix():
    assert "start the server" in check_tracking("http://x", "no answer").fix
    assert check_dvc_remote(None, None).fix == "dvc remote add --default storage <url>"
    assert not check_dvc_remote("storage", None).ok
    assert check_dvc_remote("storage", "s3://b/dvc").ok


# ------------------------------------------------------------------ a rendered project, for real


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("doctor")
    return render_project(root / "p", src=template_snapshot(root / "tpl"))


def mlops(project: Path, *args: str, env: dict[str, str] | None = None):
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    environment.update(env or {})
    return subprocess.run(
        [str(Path(sys.executable).parent / "mlops"), *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_doctor_passes_in_a_fresh_render(project):
    result = mlops(project, "doctor", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert [c["name"] for c in data["checks"]] == ["library", "template", "tracking", "dvc_remote"]
    assert data["verdict"] == "ok"


def test_doctor_reads_the_rendered_dvc_remote(project):
    remote, url = dvc_remote(project)
    assert remote == "storage" and url.endswith("-dvc-storage")


def test_unreachable_tracking_server_is_one_line_and_exit_3(project, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    result = mlops(project, "doctor", "--check", "tracking", env={"MLFLOW_TRACKING_URI": dead})
    assert result.returncode == 3
    [line] = result.stdout.strip().splitlines()
    assert (
        line.startswith(f"FAIL tracking   tracking store {dead}")
        and "fix: start the server" in line
    )
    written = tmp_path / "doctor.json"
    mlops(
        project,
        "doctor",
        "--check",
        "tracking",
        "--output",
        str(written),
        env={"MLFLOW_TRACKING_URI": dead},
    )
    assert json.loads(written.read_text())["checks"][0]["ok"] is False


def test_unknown_check_is_bad_input(project):
    result = mlops(project, "doctor", "--check", "bogus")
    assert result.returncode == 2 and "unknown check bogus" in result.stderr


def test_require_environment_raises_environment_problem(project, monkeypatch):
    monkeypatch.chdir(project)
    require_environment()  # the editable library of this checkout passes
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(EnvironmentProblem, match="fix: start the server") as caught:
        require_environment(checks=("tracking",))
    assert caught.value.exit_code == 3
    assert run_doctor(project, checks=("tracking",)).exit_code == 3
