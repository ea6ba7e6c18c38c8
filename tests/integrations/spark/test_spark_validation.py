"""`validate` on Spark: the same verdicts and unexpected counts as the pandas fast path and as
Great Expectations' own Spark datasource, over a Parquet dataset read by Spark."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError, SuiteError
from mlops_common.validation import spark as spark_validation
from mlops_common.validation import validate
from tools.engine_comparison import DIFFERENTIAL_SUITE, assert_same_verdicts

pytestmark = pytest.mark.xdist_group("spark")


@pytest.fixture(scope="module")
def dataset(spark, parquet):
    return spark.read.parquet(str(parquet))


def test_spark_validation_matches_the_pandas_fast_path(dataset, parquet):
    import pandas as pd

    ours = spark_validation.validate(dataset, DIFFERENTIAL_SUITE)
    frame = pd.read_parquet(parquet)
    theirs = validate(frame, DIFFERENTIAL_SUITE, engine="fast")
    everything = validate(frame, DIFFERENTIAL_SUITE, engine="fast", sample_size=10**6)
    assert_same_verdicts(ours, theirs, everything)
    assert {outcome.engine for outcome in ours.results} == {"spark"}
    assert not ours.success and 0 < len(ours.failed) < len(ours.results)


def test_spark_validation_matches_great_expectations_spark_datasource(dataset):
    from mlops_common.validation import ge_engine
    from mlops_common.validation.suite import load_suite

    suite = load_suite(DIFFERENTIAL_SUITE)
    # GE runs each expectation as several Spark jobs: a few kinds keep this test short. A value
    # set that mixes types is left out: GE's Spark datasource lets Spark coerce "6" to 6, where
    # pandas (and so GE on pandas, and this engine) keeps them apart.
    kinds = ("expect_column_values_to_be_between", "expect_column_values_to_be_in_set")
    chosen = [
        e
        for e in suite.expectations
        if e.type in kinds
        and len({type(v) for v in e.kwargs.get("value_set", [])}) <= 1
        and e.kwargs.get("column") in ("amount", "city")
    ]
    source = ge_engine.get_context().data_sources.add_spark("mlops_tests_spark")
    definition = source.add_dataframe_asset("orders").add_batch_definition_whole_dataframe("all")
    batch = definition.get_batch(batch_parameters={"dataframe": dataset})
    ge_expectations = ge_engine.check_known(chosen)
    ours = spark_validation.validate(
        dataset, {"name": "ge", "expectations": [e.to_dict() for e in chosen]}
    )
    for expectation, ge_expectation, outcome in zip(
        chosen, ge_expectations, ours.results, strict=True
    ):
        theirs = ge_engine.to_outcome(expectation, batch.validate(ge_expectation))
        where = f"{expectation.type} {expectation.kwargs}"
        assert outcome.success == theirs.success, where
        assert outcome.unexpected_count == theirs.unexpected_count, where


def test_unsupported_type_fails_before_any_job_naming_it(dataset):
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
            {"type": "expect_column_kl_divergence_to_be_less_than", "kwargs": {"column": "id"}},
        ],
    }
    with pytest.raises(SuiteError, match=r"expect_column_kl_divergence_to_be_less_than \(exp"):
        spark_validation.validate(dataset, suite)


def test_between_on_a_timestamp_column_names_the_column_and_type(dataset):
    suite = {
        "name": "s",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "ts", "min_value": 0},
            }
        ],
    }
    with pytest.raises(SuiteError, match=r"'ts' \(TimestampNTZType\)"):
        spark_validation.validate(dataset, suite)


def test_spark_native_type_names_are_accepted(dataset):
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "id", "type_": t}}
            for t in ("LongType", "int64", "StringType")
        ],
    }
    result = spark_validation.validate(dataset, suite)
    assert [o.success for o in result.results] == [True, True, False]


def test_mlops_validate_engine_spark_reads_a_parquet_folder(spark, parquet, tmp_path):
    suite = tmp_path / "suite.json"
    small = {**DIFFERENTIAL_SUITE, "expectations": DIFFERENTIAL_SUITE["expectations"][:12]}
    suite.write_text(json.dumps(small), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["validate", str(suite), str(parquet), "--engine", "spark", "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["row_count"] == 2000 and report["data_source"] == str(parquet)
    missing = CliRunner().invoke(
        app, ["validate", str(suite), str(tmp_path / "nowhere"), "--engine", "spark"]
    )
    assert isinstance(missing.exception, InputError) and "not found" in str(missing.exception)
