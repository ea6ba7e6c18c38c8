"""`fleet update` over real rendered projects: every outcome, nothing of theirs touched."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from mlops_common.fleet import collect_projects, fleet_update

pytestmark = pytest.mark.xdist_group("fleet")
BRANCH = "template-update/v2.1.0"
# Cheap project checks for the test (the default runs the project's pytest as well).
RUFF_ONLY = [[sys.executable, "-m", "ruff", "check", "."]]


def state(project: Path, tpl) -> dict:
    """Everything a client would notice: branch, HEAD, status and every file's content."""
    if not (project / ".git").exists():
        return {}
    files = {
        p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }
    return {
        "branch": tpl.git(project, "branch", "--show-current").strip(),
        "head": tpl.git(project, "rev-parse", "HEAD").strip(),
        "status": tpl.git(project, "status", "--porcelain"),
        "files": files,
    }


@pytest.fixture(scope="module")
def run(fleet, tpl, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    projects = collect_projects(fleet.locations(), cache_dir=cache)
    before = {name: state(path, tpl) for name, path in fleet.projects.items()}
    report = fleet_update(projects, templates=[str(fleet.template)], jobs=2, check=RUFF_ONLY)
    after = {name: state(path, tpl) for name, path in fleet.projects.items()}
    by_name = {r.name: r for r in report.results}
    return report, by_name, before, after, {p.name: p for p in projects}


def test_update_reports_every_project_in_input_order(run, fleet):
    report, *_ = run
    assert [r.name for r in report.results] == list(fleet.projects)


@pytest.mark.parametrize(
    "name",
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "iota", "lam", "nu", "eta",
     "kappa", "missing", "xi"],
)  # fmt: skip
def test_update_classifies_project(run, fleet, name):
    _, by_name, *_ = run
    result, expected = by_name[name], fleet.expected[name]
    assert result.outcome == expected["outcome"], (result.reason, result.check_output)
    assert expected.get("reason", "") in result.reason


def test_update_never_touches_original_branch_head_or_tree(run):
    _, _, before, after, _ = run
    for name in before:
        assert after[name] == before[name], name


@pytest.mark.parametrize("name", ["alpha", "delta", "epsilon", "xi"])
def test_clean_update_commits_new_release_on_its_own_branch(run, tpl, name):
    _, by_name, _, _, projects = run
    result, path = by_name[name], projects[name].path
    assert result.branch == BRANCH and result.to_version == "v2.1.0"
    answers = tpl.git(path, "show", f"{BRANCH}:.copier-answers.yml")
    assert "_commit: v2.1.0" in answers
    assert '"mlops-common' in (pyproject := tpl.git(path, "show", f"{BRANCH}:pyproject.toml"))
    assert ">=2.1,<3" in pyproject
    assert (
        tpl.git(path, "rev-parse", f"{BRANCH}^").strip()
        == tpl.git(path, "rev-parse", "HEAD").strip()
    )


def test_clean_update_keeps_client_edits_on_the_branch(run, tpl, fleet):
    delta = fleet.projects["delta"]
    assert "retention_weight" in tpl.git(delta, "show", f"{BRANCH}:src/delta/train.py")
    assert "test_size: 0.25" in tpl.git(delta, "show", f"{BRANCH}:params.yaml")


def test_conflicting_project_keeps_branch_and_lists_conflicted_file(run, tpl, fleet):
    _, by_name, *_ = run
    theta = by_name["theta"]
    assert theta.conflicts == ["pyproject.toml"]
    assert theta.branch == BRANCH
    committed = tpl.git(fleet.projects["theta"], "show", f"{BRANCH}:pyproject.toml")
    assert "<<<<<<< " in committed and 'prediction_log = "var/predictions.jsonl"' in committed


def test_failed_checks_name_the_failing_check(run):
    _, by_name, *_ = run
    lam = by_name["lam"]
    assert lam.branch == BRANCH
    assert "ruff check" in lam.reason and "F401" in lam.check_output


@pytest.mark.parametrize("name", ["iota", "eta", "nu", "kappa"])
def test_skipped_project_gets_no_branch(run, tpl, fleet, name):
    assert tpl.git(fleet.projects[name], "branch", "--list", BRANCH).strip() == ""


def test_update_leaves_no_worktree_behind(run, tpl, fleet):
    _, _, _, _, projects = run
    for name, project in projects.items():
        if project.path and (project.path / ".git").exists():
            listing = tpl.git(project.path, "worktree", "list", "--porcelain")
            assert listing.count("worktree ") == 1, name


def test_update_report_summary_and_exit_policy(run, tmp_path):
    report, *_ = run
    assert report.counts() == {
        "updated-clean": 7, "updated-with-conflicts": 1, "failed-checks": 1, "skipped": 5,
    }  # fmt: skip
    assert report.all_clean is False and report.exit_code == 1
    assert report.summary().splitlines()[-1].startswith("updated-clean: 7")
    page = report.write_html(tmp_path / "update.html").read_text()
    assert "updated-with-conflicts" in page and "<script" not in page
    assert report.to_dict()["results"][0]["name"] == "alpha"


def test_update_of_current_projects_only_is_clean(fleet):
    report = fleet_update(
        collect_projects([fleet.projects["eta"]]), templates=[str(fleet.template)], check=RUFF_ONLY
    )
    assert report.all_clean is True
    assert report.results[0].up_to_date is True and report.exit_code == 0
