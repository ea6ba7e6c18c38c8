"""`mlops suite init`: a suite profiled from data loads in GE 1.x and passes on that data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError
from mlops_common.validation import load_suite, validate
from mlops_common.validation.profile import profile_suite, suite_json

pytestmark = pytest.mark.xdist_group("great_expectations")


def mixed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = 300
    df = pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "amount": rng.uniform(1.0, 99.0, rows).round(2),
            "qty": rng.integers(1, 10, rows),
            "segment": rng.choice(["retail", "b2b", "online"], rows),
            "code": [f"AB-{i:04d}" for i in range(rows)],
            "flag": rng.random(rows) > 0.5,
            "constant": 7.5,
        }
    )
    df.loc[::10, "amount"] = np.nan
    return df


def sklearn_frames() -> dict[str, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer, load_diabetes

    return {
        "breast_cancer": load_breast_cancer(as_frame=True).frame,
        "diabetes": load_diabetes(as_frame=True, scaled=False).frame,
    }


def test_profiled_suite_says_what_the_data_looks_like():
    suite = profile_suite(mixed_frame(), "raw")
    by = {(e.type, e.column): e.kwargs for e in suite.expectations}
    assert by[("expect_table_row_count_to_be_between", None)] == {
        "min_value": 150,
        "max_value": 600,
    }
    assert by[("expect_column_values_to_not_be_null", "amount")] == {
        "column": "amount",
        "mostly": 0.85,
    }
    assert by[("expect_column_values_to_be_in_set", "segment")]["value_set"] == [
        "b2b",
        "online",
        "retail",
    ]
    low, high = (
        by[("expect_column_values_to_be_between", "amount")][k] for k in ("min_value", "max_value")
    )
    assert low < 1.5 and high > 98.5
    assert ("expect_column_values_to_be_unique", "id") in by
    assert ("expect_column_values_to_be_unique", "segment") not in by
    assert ("expect_compound_columns_to_be_unique", None) in by


def test_profiled_suite_passes_on_its_data_in_great_expectations_too():
    import great_expectations as gx

    frames = {"mixed": mixed_frame(), **sklearn_frames()}
    for name, df in frames.items():
        text = suite_json(profile_suite(df, name))
        gx.ExpectationSuite(**json.loads(text))  # GE itself loads the file
        fast = validate(df, json.loads(text), engine="fast")
        ge = validate(df, json.loads(text), engine="great_expectations")
        assert fast.success, (name, fast.summary())
        assert ge.success, (name, ge.summary())


def test_suite_init_writes_the_suite_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mixed_frame().to_csv("orders.csv", index=False)
    first = CliRunner().invoke(app, ["suite", "init", "orders.csv", "--name", "raw"])
    assert first.exit_code == 0, first.output
    assert "wrote expectations/raw.json: suite raw" in first.stdout
    suite = load_suite(tmp_path / "expectations" / "raw.json")
    assert validate("orders.csv", suite).success
    again = CliRunner().invoke(app, ["suite", "init", "orders.csv", "--name", "raw"])
    assert isinstance(again.exception, InputError) and "--force" in str(again.exception)
    forced = CliRunner().invoke(app, ["suite", "init", "orders.csv", "--name", "raw", "--force"])
    assert forced.exit_code == 0


def test_template_suites_are_what_profiling_the_sample_data_writes():
    """`nox -s suites -- --check`: the committed template suites are not stale."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    check = subprocess.run(
        [sys.executable, str(root / "noxfile.py"), "suites", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
