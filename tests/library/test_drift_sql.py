"""`mlops drift` on a table that stays in its database (a real SQLite file): the current window's
profile comes from SQL queries and equals the pandas profile of the same rows."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError
from mlops_common.monitoring import DriftConfig
from mlops_common.monitoring.profile import build_profile as pandas_profile
from mlops_common.monitoring.sql import build_profile, detect_drift


def frame(rows: int, *, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "age": rng.normal(50 + shift, 10, rows),
            "visits": rng.poisson(3, rows).astype("int64"),
            "region": rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2]),
            "small": rng.normal(0, 1, rows),
        }
    )
    data.loc[::17, "age"] = np.nan  # missing values stay missing in the database (NULL)
    data.loc[5:, "small"] = np.nan  # few finite values: the profile keeps every one
    return data


@pytest.fixture
def database(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{(tmp_path / 'warehouse.db').as_posix()}"
    engine = sa.create_engine(url)
    frame(4000).to_sql("window_same", engine, index=False)
    frame(4000, shift=8.0, seed=1).to_sql("window_shifted", engine, index=False)
    frame(0).to_sql("window_empty", engine, index=False)
    engine.dispose()
    return url


def test_sql_profile_equals_the_pandas_profile_of_the_same_rows(database):
    from_sql = build_profile(database, "window_same")
    expected = pandas_profile(frame(4000))
    assert from_sql.rows == expected.rows == 4000
    assert list(from_sql.columns) == ["age", "visits", "region", "small"]
    for name, want in expected.columns.items():
        got = from_sql.columns[name]
        assert (got.kind, got.count, got.missing, got.exact) == (
            want.kind,
            want.count,
            want.missing,
            want.exact,
        ), name
        assert got.categories == want.categories, name
        assert len(got.values) == len(want.values), name
        assert np.allclose(got.values, want.values, rtol=0, atol=1e-9), name
        if want.mean is not None:
            assert math.isclose(got.mean, want.mean, rel_tol=1e-12)
            assert math.isclose(got.std, want.std, rel_tol=1e-9)
    assert from_sql.columns["small"].exact and len(from_sql.columns["small"].values) == 5


def test_drift_of_a_table_against_a_reference_profile(database, tmp_path):
    reference = pandas_profile(frame(4000, seed=7)).to_json(tmp_path / "reference_profile.json")
    one_column = DriftConfig.from_dict({"dataset_rule": "any_corrected"})
    same = detect_drift(str(reference), database, "window_same", config=one_column)
    shifted = detect_drift(str(reference), database, "window_shifted", config=one_column)
    assert same.verdict == "no drift" and same.exit_code == 0
    assert shifted.verdict == "drift" and shifted.drifted_columns == ["age"]
    assert "sqlite:///" in shifted.current_source and "window_shifted" in shifted.current_source


def test_cli_drift_takes_a_table_and_refuses_bad_input_in_one_line(database, tmp_path):
    reference = pandas_profile(frame(4000, seed=7)).to_json(tmp_path / "reference_profile.json")
    runner = CliRunner()
    drifted = runner.invoke(
        app,
        ["drift", str(reference), database, "--table", "window_shifted", "--drift-share", "0.25"],
    )
    assert drifted.exit_code == 1, drifted.output
    as_json = runner.invoke(
        app, ["drift", str(reference), database, "--table", "window_same", "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["verdict"] == "no drift"
    for args, message in (
        (["--table", "nope"], "no such table"),
        (["--table", "window_empty"], "no rows to profile"),
        (["--engine", "sql"], "give --table NAME"),
        (["--table", "window_same", "--since", "1d"], "--since reads the service's capture"),
    ):
        refused = runner.invoke(app, ["drift", str(reference), database, *args])
        # An InputError: one line and exit code 2 under `mlops`.
        assert isinstance(refused.exception, InputError), (args, refused.exception)
        assert refused.exception.exit_code == 2 and message in str(refused.exception)
        assert "\n" not in str(refused.exception)
    not_a_url = runner.invoke(app, ["drift", str(reference), "data.csv", "--table", "t"])
    assert isinstance(not_a_url.exception, InputError)
    assert "not a database URL" in str(not_a_url.exception)


def test_a_table_without_rows_is_an_input_error(database):
    with pytest.raises(InputError, match="no rows to profile"):
        build_profile(database, "window_empty")
