"""Validation of a table in place (DuckDB embedded, a real PostgreSQL server): the same verdicts
and unexpected counts as the pandas fast path on the same rows; only aggregates come back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError, SuiteError
from mlops_common.validation import sql, validate
from tools.engine_comparison import DIFFERENTIAL_SUITE, assert_same_verdicts


@pytest.fixture(params=["duckdb", "postgres"])
def url(request):
    return request.getfixturevalue(f"{request.param}_url")


def test_table_validation_matches_the_pandas_fast_path(url, frame):
    ours = sql.validate(url, "orders", DIFFERENTIAL_SUITE)
    theirs = validate(frame, DIFFERENTIAL_SUITE, engine="fast")
    everything = validate(frame, DIFFERENTIAL_SUITE, engine="fast", sample_size=10**6)
    assert_same_verdicts(ours, theirs, everything)
    assert {outcome.engine for outcome in ours.results} == {"sql"}
    assert ours.data_source.endswith("table orders")


def test_table_validation_runs_one_aggregate_query_per_suite(url, frame):
    """Every scalar check of the suite in one SELECT; a uniqueness check adds its GROUP BY and
    a failing map check its LIMIT sample; no statement reads the rows themselves."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}},
            {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "qty"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        ],
    }
    result = sql.validate(engine, "orders", suite)
    assert [o.success for o in result.results] == [False, True, True]
    queries = [s for s in statements if "information_schema" not in s]
    assert len(queries) == 2, queries
    assert "count(" in queries[0].lower() and "group by" in queries[1].lower()
    engine.dispose()


def test_postgresql_native_type_names_are_accepted(postgres_url):
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": c, "type_": t}}
            for c, t in (("id", "BIGINT"), ("amount", "DOUBLE PRECISION"), ("city", "TEXT"))
        ],
    }
    assert sql.validate(postgres_url, "orders", suite).success


def test_missing_table_and_unsupported_type_are_input_errors(duckdb_url):
    with pytest.raises(InputError, match="no such table"):
        sql.validate(duckdb_url, "nope", DIFFERENTIAL_SUITE)
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_be_increasing", "kwargs": {"column": "id"}}
        ],
    }
    with pytest.raises(SuiteError, match="expect_column_values_to_be_increasing"):
        sql.validate(duckdb_url, "orders", suite)


def test_mlops_validate_table_in_postgresql(postgres_url, tmp_path):
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(DIFFERENTIAL_SUITE), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["validate", str(suite), postgres_url, "--table", "orders", "--json"]
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["row_count"] == 2000
    # Exit codes through the real script, where main() maps errors: 2 for bad input.
    mlops = Path(sys.executable).with_name("mlops")
    no_table = subprocess.run(
        [mlops, "validate", suite, postgres_url, "--engine", "sql"], capture_output=True, text=True
    )
    assert no_table.returncode == 2 and "give --table" in no_table.stderr


def test_drift_profile_of_a_table_equals_the_pandas_profile_of_its_rows(url, frame):
    """`mlops drift --table`: the current window's profile from queries in DuckDB / PostgreSQL
    (NaN and infinities missing, quantiles interpolated as np.quantile does)."""
    import numpy as np

    from mlops_common.monitoring.profile import build_profile as pandas_profile
    from mlops_common.monitoring.sql import build_profile

    ours, theirs = build_profile(url, "orders"), pandas_profile(frame)
    assert ours.rows == theirs.rows
    assert set(ours.columns) == set(theirs.columns)
    for name, want in theirs.columns.items():
        got = ours.columns[name]
        assert (got.kind, got.count, got.missing, got.exact) == (
            want.kind,
            want.count,
            want.missing,
            want.exact,
        ), name
        assert got.categories == want.categories, name
        assert np.allclose(got.values, want.values, rtol=1e-12, atol=1e-9), name
