"""`detect_drift` on Spark: a Spark dataset profiled by aggregates, compared with the champion's
logged reference profile exactly as the pandas path compares the same rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError
from mlops_common.monitoring import detect_drift
from mlops_common.monitoring import spark as spark_drift
from mlops_common.monitoring.profile import build_profile
from tools.engine_comparison import sample_frame

pytestmark = pytest.mark.xdist_group("spark")


def _shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """Drift in two columns (amount moves, a new city appears), the others unchanged."""
    rng = np.random.default_rng(3)
    shifted = frame.assign(amount=frame["amount"] + 12)
    cities = shifted["city"].copy()
    cities[rng.random(len(cities)) < 0.3] = "rennes"
    return shifted.assign(city=cities)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return sample_frame(rows=20_000, seed=1)


@pytest.fixture
def to_spark(spark, tmp_path):
    """A pandas frame as Spark reads it: through a Parquet file, as jobs exchange data."""
    count = iter(range(100))

    def convert(frame: pd.DataFrame):
        path = tmp_path / f"frame-{next(count)}.parquet"
        frame.to_parquet(path, index=False)
        return spark.read.parquet(str(path))

    return convert


@pytest.mark.parametrize("rows", [600, 2000])
def test_spark_drift_matches_the_pandas_path_against_a_logged_profile(to_spark, reference, rows):
    """Small windows (600 rows: exact values, KS and chi-square) and large ones (2000 rows:
    quantiles, Wasserstein and Jensen-Shannon), without drift and with it."""
    profile = build_profile(reference)
    for current in (sample_frame(rows=rows, seed=2), _shifted(sample_frame(rows=rows, seed=2))):
        theirs = detect_drift(profile, current)
        ours = spark_drift.detect_drift(profile, to_spark(current.drop(columns="ts")))
        assert ours.verdict == theirs.verdict
        assert ours.current_rows == theirs.current_rows
        by_name = {column.name: column for column in theirs.columns}
        assert {c.name for c in ours.columns} == set(by_name) - {"ts"}
        for column in ours.columns:
            other = by_name[column.name]
            where = column.name
            assert column.drifted == other.drifted, where
            assert column.test == other.test, where
            assert column.current_count == other.current_count, where
            assert column.current_missing_share == pytest.approx(other.current_missing_share)
            assert column.psi == pytest.approx(other.psi, abs=0.02), where
            if column.kind == "numeric":
                assert column.ks_statistic == pytest.approx(other.ks_statistic, abs=0.005), where
                assert column.wasserstein == pytest.approx(other.wasserstein, abs=0.01), where
            else:
                assert column.jensenshannon == pytest.approx(other.jensenshannon, abs=1e-9)
    assert ours.drift_detected


def test_spark_profile_matches_the_pandas_profile(to_spark, reference):
    """Counts, missing values and categories exactly; moments to rounding; each of the 1000
    quantiles within a thousandth of the column's range (rank error 1/10000)."""
    frame = reference.drop(columns="ts")
    theirs = build_profile(frame)
    ours = spark_drift.build_profile(to_spark(frame))
    assert ours.rows == theirs.rows and list(ours.columns) == list(theirs.columns)
    for name, column in ours.columns.items():
        other = theirs.columns[name]
        assert (column.kind, column.count, column.missing) == (
            other.kind,
            other.count,
            other.missing,
        ), name
        assert column.categories == other.categories, name
        if column.kind == "numeric":
            assert column.mean == pytest.approx(other.mean, rel=1e-9), name
            assert column.std == pytest.approx(other.std, rel=1e-9), name
            spread = max(other.values) - min(other.values)
            gaps = np.abs(np.array(column.values) - np.array(other.values))
            assert len(column.values) == 1000 and gaps.max() <= spread / 1000 + 1, name


def test_mlops_drift_engine_spark_against_a_profile_file(spark, reference, tmp_path):
    profile = build_profile(reference.drop(columns="ts")).to_json(tmp_path / "ref_profile.json")
    current = tmp_path / "today"
    current.mkdir()
    _shifted(sample_frame(rows=2000, seed=2)).to_parquet(current / "part-0.parquet")
    result = CliRunner().invoke(
        app, ["drift", str(profile), str(current), "--engine", "spark", "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "drift" and set(report["drifted_columns"]) >= {"amount", "city"}
    assert report["ignored_columns"] == {"ts": "only in current"}
    since = CliRunner().invoke(
        app, ["drift", str(profile), str(current), "--engine", "spark", "--since", "1d"]
    )
    assert isinstance(since.exception, InputError) and "--since" in str(since.exception)
