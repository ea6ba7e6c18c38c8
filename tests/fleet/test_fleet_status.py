"""`fleet status` over a fleet of real rendered projects (see conftest.py for the fleet)."""

from __future__ import annotations

import json

import pytest

from mlops_common.fleet import collect_projects, fleet_status
from tools.project_workflow import BASE_ANSWERS

pytestmark = pytest.mark.xdist_group("fleet")

V1_FAILS = "failed: precommit_guards, pin_window, template_window"


@pytest.fixture(scope="module")
def report(fleet, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return fleet_status(collect_projects(fleet.locations(), cache_dir=cache))


@pytest.fixture(scope="module")
def rows(report):
    return {row[0]: dict(zip(report.columns, row, strict=True)) for row in report.rows()}


def test_status_lists_every_project_in_order(report, fleet):
    assert [p.name for p in report.projects] == list(fleet.projects)


@pytest.mark.parametrize("name", ["alpha", "beta", "gamma", "delta", "theta", "iota", "lam", "xi"])
def test_status_flags_v1_project_out_of_policy(rows, name):
    row = rows[name]
    assert (row["template"], row["newest"]) == ("v1.0.0", "v2.1.0")
    assert (row["pin"], row["newest pin"]) == (">=1.0,<2", ">=2.1,<3")
    assert row["checks"] == V1_FAILS
    assert row["policy"] == "OUT"


@pytest.mark.parametrize("name", ["epsilon", "zeta"])
def test_status_accepts_v2_0_project_as_in_policy_but_behind(rows, name):
    row = rows[name]
    assert (row["template"], row["pin"], row["checks"]) == ("v2.0.0", ">=2.0,<3", "ok")
    assert row["policy"] == "ok (behind)"


def test_status_accepts_current_project(rows):
    assert rows["eta"]["template"] == "v2.1.0"
    assert rows["eta"]["pin"] == ">=2.1,<3"
    assert (rows["eta"]["checks"], rows["eta"]["policy"]) == ("ok", "ok")


def test_status_shows_answers_cloud_and_ci(rows):
    got = {name: (rows[name]["cloud"], rows[name]["ci"]) for name in ("alpha", "beta", "gamma")}
    assert got == {
        "alpha": ("local", "github"),
        "beta": ("aws", "gitlab"),
        "gamma": ("gcp", "none"),
    }
    assert rows["epsilon"]["cloud"] == "azure"


def test_status_flags_missing_pipeline_stage(rows):
    assert rows["nu"]["checks"] == "failed: dvc_stages"
    assert rows["nu"]["policy"] == "OUT"


def test_status_reports_last_pipeline_metrics(report, rows):
    zeta = next(p for p in report.projects if p.name == "zeta")
    assert zeta.metrics == {"accuracy": 0.91, "roc_auc": 0.95}
    assert rows["zeta"]["metrics"] == "accuracy=0.91, roc_auc=0.95"


def test_status_flags_non_copier_and_missing_projects(report, rows):
    kappa = next(p for p in report.projects if p.name == "kappa")
    assert kappa.checks["copier_project"] is False
    assert rows["kappa"]["policy"] == "OUT"
    assert rows["missing"]["checks"].startswith("unreachable")
    assert rows["missing"]["policy"] == "OUT"


def test_status_reads_git_url_project_from_shallow_clone(report, fleet):
    xi = next(p for p in report.projects if p.name == "xi")
    assert xi.source == fleet.urls["xi"]
    assert xi.path != str(fleet.projects["xi"])
    assert xi.template_version == "v1.0.0"


def test_status_report_is_out_of_policy_with_names(report):
    assert report.in_policy is False
    assert set(report.out_of_policy) == {
        "alpha", "beta", "gamma", "delta", "theta", "iota", "lam", "xi", "nu", "kappa", "missing",
    }  # fmt: skip


def test_status_json_round_trips_with_checks(report):
    data = json.loads(json.dumps(report.to_dict()))
    assert data["counts"] == {
        "projects": 14, "in policy": 3, "out of policy": 11, "behind newest release": 10,
    }  # fmt: skip
    alpha = next(p for p in data["projects"] if p["name"] == "alpha")
    assert alpha["failed_checks"] == ["precommit_guards", "pin_window", "template_window"]
    assert alpha["behind"] is True and alpha["in_policy"] is False
    assert alpha["versions_behind"] == 2 and data["exit_code"] == 1


def test_status_summary_is_the_table_as_text(report):
    lines = report.summary().splitlines()
    assert lines[0] == "Fleet status" and lines[1].startswith("project\ttemplate\tnewest")
    assert lines[-1].startswith("projects: 14, in policy: 3")
    assert report.counts()["out of policy"] == 11


def test_status_html_is_self_contained(report, tmp_path):
    page = report.write_html(tmp_path / "status.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "<link" not in page and "http" not in page
    assert page.count("<tr class=") == 14
    assert "ok (behind)" in page and "OUT" in page
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert chart.count("<rect") == 12  # every project whose version is known
    assert "alpha: 2 behind" in chart and "epsilon: 1 behind" in chart


def test_scan_finds_only_copier_projects(fleet):
    names = sorted(p.name for p in collect_projects([], scan=fleet.root))
    assert names == sorted(set(fleet.projects) - {"kappa", "missing", "xi"})


def test_inventory_file_names_projects(fleet, tmp_path):
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(
        "projects:\n"
        f"  - path: {fleet.projects['alpha']}\n    name: acme-churn\n"
        f"  - path: {fleet.urls['xi']}\n"
    )
    projects = collect_projects([], inventory=inventory, cache_dir=tmp_path / "cache")
    assert [p.name for p in projects] == ["acme-churn", "xi"]
    assert projects[1].path.parent == tmp_path / "cache"


@pytest.fixture(scope="module")
def unreleased_project(tmp_path_factory, tpl):
    """A project rendered from a template repository that has no vX.Y.Z tag yet."""
    import copier

    base = tmp_path_factory.mktemp("unreleased")
    template = base / "template"
    template.mkdir()
    tpl.git(template, "init", "--quiet", "--initial-branch=main")
    tpl._copy_current_tree(template)
    tpl.commit_all(template, "Not released yet")
    project = base / "early"
    copier.run_copy(str(template), str(project), data=dict(BASE_ANSWERS), defaults=True, quiet=True)
    tpl.git(project, "init", "--quiet", "--initial-branch=main")
    tpl.commit_all(project, "Render the untagged template")
    return project


def test_status_of_untagged_template_says_unreleased_and_stays_in_policy(unreleased_project):
    report = fleet_status(collect_projects([unreleased_project]))
    row = dict(zip(report.columns, report.rows()[0], strict=True))
    assert row["newest"] == "unreleased template (no vX.Y.Z tag yet)"
    assert "pin_window" not in row["checks"] and "template_window" not in row["checks"]
    assert row["policy"] == "ok" and report.exit_code == 0
    assert "v0." not in report.summary()  # never points at a tag that does not exist


def test_check_of_untagged_template_passes_and_says_why(unreleased_project):
    from mlops_common.fleet import fleet_check

    report = fleet_check(collect_projects([unreleased_project]), max_behind=0)
    assert report.exit_code == 0
    assert report.rows()[0][-1] == "ok: unreleased template (no vX.Y.Z tag yet)"
