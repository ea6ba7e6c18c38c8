"""Progress while large inputs are read and validated: drawn on a terminal, nowhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_common.cli._progress import LARGE_INPUT_BYTES
from mlops_common.validation import validate

MLOPS = Path(sys.executable).parent / "mlops"
SUITE = {
    "name": "orders",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 100},
        },
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
    ],
}


@pytest.fixture(scope="module")
def large_csv(tmp_path_factory) -> tuple[Path, Path]:
    """A CSV just over the size that gets a progress display, and a suite it passes."""
    folder = tmp_path_factory.mktemp("large")
    rows = 450_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "amount": rng.uniform(0, 100, rows).round(3),
            "code": [f"K-{i:07d}" for i in range(rows)],
        }
    )
    data, suite = folder / "orders.csv", folder / "suite.json"
    frame.to_csv(data, index=False)
    assert data.stat().st_size >= LARGE_INPUT_BYTES
    suite.write_text(json.dumps(SUITE))
    return suite, data


def test_validate_reports_reading_then_each_expectation(tmp_path):
    data = tmp_path / "orders.csv"
    pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, 50.0, 99.0]}).to_csv(data, index=False)
    heard: list[tuple[str, int, int | None]] = []
    result = validate(str(data), SUITE, progress=lambda *step: heard.append(step))
    assert result.success
    assert heard[0] == (f"reading {data}", 0, None)
    assert heard[1:] == [("validating", done, 3) for done in (0, 1, 2, 3, 3)]


def _on_a_terminal(command: list[str]) -> tuple[int, str]:
    """Run ``command`` with stdin, stdout and stderr on a pseudo-terminal; its exit code and
    everything it drew."""
    leader, follower = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    return process.wait(timeout=120), drawn.decode(errors="replace")


def test_cli_draws_progress_for_a_large_file_on_a_terminal(large_csv):
    suite, data = large_csv
    code, drawn = _on_a_terminal([str(MLOPS), "validate", str(suite), str(data)])
    assert code == 0, drawn
    assert f"reading {data}" in drawn
    assert "validating" in drawn and "3/3" in drawn
    # The display is erased at the end; the summary is what stays.
    assert "suite orders on" in drawn and "passed, 0 of 3 expectations failed" in drawn


def test_cli_draws_no_progress_into_pipes_or_json(large_csv):
    suite, data = large_csv
    plain = subprocess.run(
        [str(MLOPS), "validate", str(suite), str(data)], capture_output=True, text=True
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr == ""
    assert plain.stdout.splitlines() == [
        f"suite orders on {data}: passed, 0 of 3 expectations failed (450,000 rows)"
    ]
    code, drawn = _on_a_terminal([str(MLOPS), "validate", str(suite), str(data), "--json"])
    assert code == 0, drawn
    assert "validating" not in drawn and "reading" not in drawn
    assert json.loads(drawn.replace("\r\n", "\n"))["row_count"] == 450_000


# ------------------------------------------------------------------------- mlops suite init


def test_profile_suite_reports_reading_then_each_column(tmp_path):
    from mlops_common.validation.profile import profile_suite

    data = tmp_path / "orders.csv"
    pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, 50.0, 99.0]}).to_csv(data, index=False)
    heard: list[tuple[str, int, int | None]] = []
    profile_suite(str(data), "raw", progress=lambda *step: heard.append(step))
    assert heard == [(f"reading {data}", 0, None)] + [("profiling", n, 2) for n in (0, 1, 2)]


def test_suite_init_draws_progress_for_a_large_file_on_a_terminal(large_csv, tmp_path):
    _, data = large_csv
    target = tmp_path / "raw.json"
    code, drawn = _on_a_terminal(
        [str(MLOPS), "suite", "init", str(data), "--name", "raw", "-o", str(target)]
    )
    assert code == 0, drawn
    assert f"reading {data}" in drawn
    assert "profiling" in drawn and "3/3" in drawn
    summary = drawn.replace("\r\n", "\n").rstrip("\n").splitlines()[-2:]
    assert summary[0].endswith(f"from 450,000 rows x 3 columns of {data}"), drawn
    assert summary[1] == (
        "  3 types, 3 not-null, 2 ranges, 1 text length, 2 unique keys, plus table checks; "
        "review it, then commit"
    )
    assert validate(str(data), str(target)).success


def test_suite_init_draws_no_progress_into_pipes_or_json(large_csv, tmp_path):
    _, data = large_csv
    target = tmp_path / "raw.json"
    command = [str(MLOPS), "suite", "init", str(data), "--name", "raw", "-o", str(target)]
    plain = subprocess.run(command, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr == ""
    lines = plain.stdout.splitlines()
    assert lines[0] == (
        f"wrote {target}: suite raw, {json.loads(target.read_text())['expectations'].__len__()} "
        f"expectations from 450,000 rows x 3 columns of {data}"
    )
    assert len(lines) == 2 and lines[1].endswith("; review it, then commit")
    code, drawn = _on_a_terminal([*command, "--force", "--json"])
    assert code == 0, drawn
    assert "profiling" not in drawn and "reading" not in drawn
    result = json.loads(drawn.replace("\r\n", "\n"))
    assert (result["row_count"], result["column_count"]) == (450_000, 3)
    assert result["checks"]["type"] == 3
