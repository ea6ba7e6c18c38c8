"""The HTML drift report and the `mlops drift` command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.monitoring import detect_drift


@pytest.fixture(scope="module")
def data_files(tmp_path_factory) -> dict[str, Path]:
    """Reference CSV, a same-distribution prediction log, and a drifted one (JSON lines)."""
    folder = tmp_path_factory.mktemp("drift")
    rng = np.random.default_rng(42)

    def frame(n: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "tenure": rng.normal(24 + 12 * shift, 6, n),
                "spend": rng.gamma(2.0, 30 + 30 * shift, n),
                "plan": rng.choice(["basic", "pro"], n, p=[0.6 - shift / 2, 0.4 + shift / 2]),
            }
        )

    paths = {
        "reference": folder / "train.csv",
        "same": folder / "same.jsonl",
        "drifted": folder / "drifted.jsonl",
    }
    frame(2000, 0.0).assign(churn=0).to_csv(paths["reference"], index=False)
    for key, shift in (("same", 0.0), ("drifted", 0.8)):
        log = frame(800, shift).assign(prediction=1, request_id="abc")
        log.to_json(paths[key], orient="records", lines=True)
    return paths


def test_html_report_is_self_contained_with_a_plot_per_column(tmp_path):
    ref = pd.DataFrame({"x <b>": np.arange(100.0), "city": ["a", "b"] * 50})
    cur = pd.DataFrame({"x <b>": np.arange(50.0, 150.0), "city": ["a", "c"] * 50})
    report = detect_drift(ref, cur)
    path = report.write_html(tmp_path / "reports" / "drift.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Drift detected: 2 of 2 columns drifted" in html
    assert html.count("<svg") == 2
    assert "<script" not in html
    # nothing fetched from elsewhere: the only URL is the SVG namespace
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"(src|href)=", html)
    assert "x &lt;b&gt;" in html and "x <b>" not in html
    assert "&lt;unseen&gt;" in html and "Categories not in the reference: c" in html
    # one bar per bin and side
    assert html.count("<rect") == 2 * sum(len(c.bins) for c in report.columns)


def test_html_report_says_no_drift_when_none(data_files, tmp_path):
    report = detect_drift(data_files["reference"], data_files["same"])
    html = report.write_html(tmp_path / "ok.html").read_text()
    assert "No drift: 0 of 3 columns drifted" in html
    assert "<code>prediction</code>: only in current" in html


def test_cli_exits_1_on_drift_and_writes_json_and_html(data_files, tmp_path):
    out, html = tmp_path / "drift.json", tmp_path / "drift.html"
    args = [str(data_files["reference"]), str(data_files["drifted"])]
    result = CliRunner().invoke(app, ["drift", *args, "--output", str(out), "--html", str(html)])
    assert result.exit_code == 1, result.output
    assert "drift detected" in result.output
    data = json.loads(out.read_text())
    assert data["drift_detected"] is True
    assert sorted(data["drifted_columns"]) == ["plan", "spend", "tenure"]
    assert "<svg" in html.read_text()


def test_cli_exits_0_without_drift_and_prints_json(data_files):
    args = [str(data_files["reference"]), str(data_files["same"]), "--json"]
    result = CliRunner().invoke(app, ["drift", *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["drift_detected"] is False


def test_cli_thresholds_change_the_verdict(data_files):
    args = [str(data_files["reference"]), str(data_files["same"]), "--p-value", "0.9"]
    result = CliRunner().invoke(app, ["drift", *args, "-c", "tenure", "-c", "spend"])
    assert result.exit_code == 1, result.output
    assert "KS p-value" in result.output


def test_mlops_drift_on_missing_file_exits_2_with_one_line(data_files, tmp_path):
    mlops = Path(sys.executable).parent / "mlops"
    missing = tmp_path / "nope.jsonl"
    result = subprocess.run(
        [str(mlops), "drift", str(data_files["reference"]), str(missing)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: current {missing}: file not found; check the path (or `dvc pull`)"
    )
