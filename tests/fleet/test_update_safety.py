"""What issue 13 found: trust, no silent loss, new params keys, default branch, push, refresh.

Real Copier and real git throughout. The template repository gets a v2.2.0 release that renames
tests/test_data.py to tests/test_suites.py and makes the evaluate stage read a new ``evaluate:``
params section, the two changes that used to lose client work or break ``dvc repro``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import copier
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.fleet import collect_projects, fleet_update, missing_params
from mlops_common.fleet.checks import PIPELINE_CHECK, default_check_commands

pytestmark = pytest.mark.xdist_group("fleet")
BRANCH = "template-update/v2.2.0"
CLIENT_TEST = "\n\ndef test_client_rule():\n    assert 2 * 21 == 42\n"
# The default checks without the project's pytest (timed apart in benchmarks/bench_fleet.py):
# ruff, real DVC reading dvc.yaml, and the params the pipeline needs.
CHECKS = [argv for argv in default_check_commands() if "pytest" not in argv]
assert PIPELINE_CHECK in CHECKS


def bare_remote(tpl, project: Path, remote: Path) -> None:
    remote.parent.mkdir(parents=True, exist_ok=True)
    tpl.git(remote.parent, "init", "--quiet", "--bare", "--initial-branch=main", remote.name)
    tpl.git(project, "remote", "add", "origin", remote.as_uri())
    tpl.git(project, "push", "--quiet", "--set-upstream", "origin", "main")
    tpl.git(project, "remote", "set-head", "origin", "main")


@pytest.fixture(scope="module")
def world(tmp_path_factory, tpl):
    base = tmp_path_factory.mktemp("safety")
    repo = tpl.add_rename_release(tpl.build_template_repo(base / "template"))
    marker = base / "stranger-ran"
    stranger = tpl.build_task_template(base / "stranger", marker)

    # A client with edits where v2.2.0 hurts, on a feature branch, with a bare remote.
    client = tpl.render_client(base / "churn", repo, "v2.1.0", project_name="churn")
    with (client / tpl.RENAMED_FROM).open("a") as handle:
        handle.write(CLIENT_TEST)
    params = client / "params.yaml"
    text = params.read_text().replace("  test_size: 0.2\n", "  test_size: 0.25  # our split\n")
    params.write_text(text.replace("drift:\n", "# Client note kept verbatim\ndrift:\n"))
    tpl.commit_all(client, "Client test and tuning")
    bare_remote(tpl, client, base / "remotes" / "churn.git")
    tpl.git(client, "switch", "--quiet", "-c", "feature/x")
    (client / "notes.md").write_text("unmerged work\n")
    tpl.commit_all(client, "Unmerged feature work")

    # A client that never touched the renamed file, known by its git URL only.
    plain_remote = base / "remotes" / "plain"
    tpl.render_client(plain_remote, repo, "v2.1.0", project_name="plain")

    # A project whose answers point at a template nobody named.
    odd = base / "odd"
    copier.run_copy(
        str(stranger.path), str(odd), defaults=True, quiet=True, vcs_ref="v1.0.0", skip_tasks=True
    )
    tpl.git(odd, "init", "--quiet", "--initial-branch=main")
    tpl.commit_all(odd, "Render the stranger's template")
    return {
        "base": base,
        "repo": repo,
        "stranger": stranger,
        "marker": marker,
        "client": client,
        "plain_url": plain_remote.as_uri(),
        "plain_remote": plain_remote,
        "odd": odd,
    }


def refs(tpl, project: Path) -> str:
    return tpl.git(project, "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.fixture(scope="module")
def dry(world, tpl):
    before = refs(tpl, world["client"])
    report = fleet_update(
        collect_projects([world["client"]]), templates=[str(world["repo"].path)], dry_run=True
    )
    return report, before, refs(tpl, world["client"])


def test_dry_run_prints_the_diff_and_writes_nothing(dry):
    report, before, after = dry
    result = report.results[0]
    assert result.outcome == "dry-run" and result.branch == ""
    assert "tests/test_suites.py" in result.diff and "evaluate:" in result.diff
    assert "--- churn" in report.summary()
    assert after == before


@pytest.fixture(scope="module")
def run(world, tpl, tmp_path_factory, dry):
    projects = collect_projects(
        [world["client"], world["plain_url"], world["odd"]],
        cache_dir=tmp_path_factory.mktemp("cache"),
    )
    report = fleet_update(
        projects, templates=[str(world["repo"].path)], jobs=2, check=CHECKS, push=True
    )
    return report, {r.name: r for r in report.results}, projects


def test_untrusted_template_source_is_skipped_and_nothing_of_it_runs(run, world, tpl):
    _, by_name, _ = run
    odd = by_name["odd"]
    assert odd.outcome == "skipped" and odd.reason.startswith("untrusted template source")
    assert str(world["stranger"].path) in odd.reason
    assert not world["marker"].exists() and not Path(f"{world['marker']}.migration").exists()
    assert tpl.git(world["odd"], "branch", "--list", "template-update/*").strip() == ""


def test_named_template_source_does_run_its_tasks(world, tpl, tmp_path):
    # The control for the test above: the same project, its source named, runs the task.
    project = tmp_path / "odd"
    tpl.git(tmp_path, "clone", "--quiet", str(world["odd"]), str(project))
    report = fleet_update(
        collect_projects([project]), templates=[str(world["stranger"].path)], check=""
    )
    assert report.results[0].outcome == "updated-clean", report.results[0].reason
    assert world["marker"].exists() and Path(f"{world['marker']}.migration").exists()


def test_client_file_the_release_renames_is_kept_and_named(run, world, tpl):
    _, by_name, _ = run
    churn = by_name["churn"]
    assert churn.outcome == "needs-review"
    assert churn.kept == [
        "tests/test_data.py: changed by the client and v2.2.0 renames it to "
        "tests/test_suites.py; client version kept"
    ]
    kept = tpl.git(world["client"], "show", f"{BRANCH}:tests/test_data.py")
    assert kept.endswith(CLIENT_TEST)
    assert "def failed_checks" in tpl.git(world["client"], "show", f"{BRANCH}:tests/test_suites.py")


def test_new_params_keys_are_merged_keeping_client_values_and_comments(run, world, tpl):
    _, by_name, _ = run
    assert by_name["churn"].new_keys == {"params.yaml": ["evaluate"]}
    params = tpl.git(world["client"], "show", f"{BRANCH}:params.yaml")
    assert "  test_size: 0.25  # our split\n" in params
    assert "# Client note kept verbatim\ndrift:\n" in params
    assert "evaluate:\n  threshold: 0.5\n" in params


def test_update_branch_is_cut_from_the_default_branch_not_the_checked_out_one(run, world, tpl):
    client = world["client"]
    assert run[1]["churn"].base == "origin/main"
    parent = tpl.git(client, "rev-parse", f"{BRANCH}^").strip()
    assert parent == tpl.git(client, "rev-parse", "main").strip()
    files = tpl.git(client, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert "notes.md" not in files
    assert tpl.git(client, "branch", "--show-current").strip() == "feature/x"


def test_untouched_renamed_file_goes_and_the_project_is_clean(run, tpl):
    _, by_name, projects = run
    plain = by_name["plain"]
    assert plain.outcome == "updated-clean", (plain.reason, plain.check_output)
    assert plain.new_keys == {"params.yaml": ["evaluate"]} and plain.kept == []
    path = next(p.path for p in projects if p.name == "plain")
    files = tpl.git(path, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert "tests/test_data.py" not in files and "tests/test_suites.py" in files


def test_push_reaches_bare_remote_and_the_remote_behind_a_cached_clone(run, world, tpl):
    _, by_name, _ = run
    assert by_name["churn"].pushed and by_name["plain"].pushed
    remote = world["base"] / "remotes" / "churn.git"
    assert tpl.git(remote, "rev-parse", BRANCH).strip() == by_name["churn"].commit
    plain_branch = tpl.git(world["plain_remote"], "rev-parse", BRANCH).strip()
    assert plain_branch == by_name["plain"].commit


def test_report_names_files_in_json_html_and_summary(run, tmp_path):
    report, *_ = run
    data = json.loads(report.to_json(tmp_path / "r.json").read_text())
    churn = next(r for r in data["results"] if r["name"] == "churn")
    assert churn["files"][0].startswith("tests/test_data.py: changed by the client")
    page = report.write_html(tmp_path / "r.html").read_text()
    assert "Files to look at" in page and "params.yaml: added evaluate" in page
    assert "<svg" in page and "churn: 1 behind" in page
    assert "churn: tests/test_data.py: changed by the client" in report.summary()
    assert report.exit_code == 1


def test_second_run_keeps_the_branch_and_refresh_rebuilds_it(run, world, tpl):
    first = run[1]["churn"].commit
    again = fleet_update(collect_projects([world["client"]]), templates=[str(world["repo"].path)])
    assert again.results[0].proposed and again.exit_code == 0
    assert "--refresh" in again.results[0].reason
    args = ["update", str(world["client"]), "--template", str(world["repo"].path), "--refresh"]
    result = CliRunner().invoke(app, [*args, "--check", "true", "--json"])
    assert result.exit_code == 1, result.output  # needs review: the one-project path is the same
    rebuilt = json.loads(result.output)["results"][0]
    assert rebuilt["outcome"] == "needs-review" and rebuilt["commit"] != first
    assert tpl.git(world["client"], "rev-parse", BRANCH).strip() == rebuilt["commit"]


def test_pipeline_check_names_params_the_pipeline_lacks(world, tpl, tmp_path):
    project = tmp_path / "old-params"
    tpl.git(tmp_path, "clone", "--quiet", str(world["client"]), str(project))
    tpl.git(project, "checkout", "--quiet", BRANCH)
    assert missing_params(project) == []
    tpl.git(project, "checkout", "--quiet", "origin/main", "--", "params.yaml")
    assert missing_params(project) == ["params.yaml:evaluate"]


def test_open_pr_pushes_and_proposes_the_branch_with_the_report(
    world, tpl, tmp_path, monkeypatch, forges
):
    project = tpl.render_client(tmp_path / "reviewed", world["repo"], "v2.1.0", project_name="rv")
    (project / "uv.lock").write_text("version = 1\n")  # stands for the lock of the first uv sync
    tpl.commit_all(project, "Lock the environment")
    bare_remote(tpl, project, tmp_path / "remotes" / "reviewed.git")
    # Fetch and push go to the bare repository; the forge is read from the https URL.
    fetch_url = tpl.git(project, "remote", "get-url", "origin").strip()
    tpl.git(project, "remote", "set-url", "--push", "origin", fetch_url)
    tpl.git(project, "remote", "set-url", "origin", "https://github.com/acme/reviewed.git")
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    github = forges.github_spec("api.github.com")
    with forges.Forge(github, "https://api.github.com", forges.CREATED_PR) as forge:
        report = fleet_update(
            collect_projects([project]),
            templates=[str(world["repo"].path)],
            check="",
            open_pr=True,
            forge_api=forge.url,
            # `uv lock` needs the project's index; this stands for it and marks the lock.
            relock=[sys.executable, "-c", "open('uv.lock', 'a').write('# re-locked\\n')"],
        )
    result = report.results[0]
    assert result.relocked and "uv.lock: re-locked" in result.files()
    assert tpl.git(project, "show", f"{BRANCH}:uv.lock").endswith("# re-locked\n")
    assert result.pushed and result.review_url == "https://github.com/acme/churn/pull/7"
    assert forge.errors == []
    sent = forge.received[0]["json"]
    assert (sent["head"], sent["base"]) == (BRANCH, "main")
    assert "params.yaml: added evaluate" in sent["body"] and "from `v2.1.0`" in sent["body"]
    pushed = tpl.git(tmp_path / "remotes" / "reviewed.git", "rev-parse", BRANCH).strip()
    assert pushed == result.commit
