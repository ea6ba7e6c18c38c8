"""`mlops fleet status|update` end to end through the Typer app (plain rows, JSON, HTML, exit)."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from mlops_common.cli import app

pytestmark = pytest.mark.xdist_group("fleet")


def test_fleet_status_cli_prints_plain_rows_and_exits_1_when_out_of_policy(fleet):
    result = CliRunner().invoke(
        app, ["fleet", "status", str(fleet.projects["alpha"]), str(fleet.projects["eta"])]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Fleet status"
    assert lines[1].split("\t")[:3] == ["project", "template", "newest"]
    assert lines[2].startswith("alpha\tv1.0.0\tv2.1.0\t")
    assert lines[3].startswith("eta\tv2.1.0\tv2.1.0\t") and lines[3].endswith("\tok")


def test_fleet_status_cli_exits_0_when_all_in_policy(fleet, tmp_path):
    html = tmp_path / "report.html"
    args = ["fleet", "status", str(fleet.projects["eta"]), str(fleet.projects["zeta"])]
    result = CliRunner().invoke(app, [*args, "--json", "--output", str(html)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["in_policy"] is True
    assert [p["name"] for p in data["projects"]] == ["eta", "zeta"]
    assert "<table>" in html.read_text() and "<svg" in html.read_text()


def test_fleet_status_cli_reads_inventory(fleet, tmp_path):
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(f"projects:\n  - path: {fleet.projects['eta']}\n    name: acme\n")
    result = CliRunner().invoke(app, ["fleet", "status", "--inventory", str(inventory), "--json"])
    assert json.loads(result.output)["projects"][0]["name"] == "acme"


def test_fleet_status_cli_rejects_broken_inventory_with_one_line(tmp_path):
    inventory = tmp_path / "fleet.yml"
    inventory.write_text("projects: nope\n")
    result = CliRunner().invoke(app, ["fleet", "status", "--inventory", str(inventory)])
    assert result.exit_code != 0
    assert "expected a top-level 'projects:' list" in str(result.exception)
    assert getattr(result.exception, "exit_code", None) == 2


def test_fleet_update_cli_skips_current_project_and_exits_0(fleet):
    check = f"{sys.executable} -m ruff check ."
    args = ["fleet", "update", str(fleet.projects["eta"]), "--template", str(fleet.template)]
    result = CliRunner().invoke(app, [*args, "--check", check, "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)["results"][0]
    assert (outcome["outcome"], outcome["up_to_date"]) == ("skipped", True)


def test_fleet_update_cli_without_a_named_template_is_bad_input(fleet):
    result = CliRunner().invoke(app, ["fleet", "update", str(fleet.projects["alpha"])])
    assert result.exit_code != 0
    assert "--template" in str(result.exception)
    assert result.exception.exit_code == 2


def test_mlops_update_names_the_recorded_source_to_trust(fleet):
    result = CliRunner().invoke(app, ["update", str(fleet.projects["alpha"])])
    assert f"--template {fleet.template}" in str(result.exception)


def test_fleet_check_cli_exits_1_when_too_far_behind(fleet):
    alpha, eta = str(fleet.projects["alpha"]), str(fleet.projects["eta"])
    result = CliRunner().invoke(app, ["fleet", "check", alpha, eta, "--max-behind", "1", "--json"])
    assert result.exit_code == 1, result.output
    verdicts = {p["name"]: p["verdict"] for p in json.loads(result.output)["projects"]}
    assert verdicts["alpha"].startswith("too far behind: 2 releases (policy allows 1)")
    assert verdicts["eta"] == "ok"
    relaxed = CliRunner().invoke(app, ["fleet", "check", alpha, "--max-behind", "2"])
    assert relaxed.exit_code == 0, relaxed.output
    assert "ok: 2 behind (policy allows 2)" in relaxed.output
