"""The expectation suites accept the sample data and refuse data that is broken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from mlops_common.validation import validate

EXPECTATIONS = Path(__file__).resolve().parent.parent / "expectations"
RAW_SUITE = EXPECTATIONS / "raw.json"
PREPARED_SUITE = EXPECTATIONS / "prepared.json"


def failed_checks(result) -> set[tuple[str, str | None]]:
    return {
        (outcome.expectation_type, outcome.column)
        for outcome in result.results
        if not outcome.success
    }


def test_raw_suite_passes_on_the_raw_data(raw):
    result = validate(raw, RAW_SUITE)
    assert result.success, failed_checks(result)


def test_prepared_suite_passes_on_both_splits(split):
    for frame in split:
        result = validate(frame, PREPARED_SUITE)
        assert result.success, failed_checks(result)


def test_raw_suite_fails_on_missing_values(raw):
    corrupted = raw.copy()
    column = corrupted.columns[0]
    corrupted.loc[corrupted.index[:10], column] = np.nan
    result = validate(corrupted, RAW_SUITE)
    assert not result.success
    assert ("expect_column_values_to_not_be_null", column) in failed_checks(result)


def test_raw_suite_fails_on_out_of_range_values(raw):
    corrupted = raw.copy()
    column = next(name for name in corrupted.columns if name != "target")
    corrupted.loc[corrupted.index[:5], column] = -1e9
    result = validate(corrupted, RAW_SUITE)
    assert not result.success
    assert ("expect_column_values_to_be_between", column) in failed_checks(result)


def test_raw_suite_fails_when_a_column_is_missing(raw):
    result = validate(raw.drop(columns=[raw.columns[1]]), RAW_SUITE)
    assert not result.success


def test_validation_leaves_the_data_unchanged(raw):
    before = raw.copy()
    validate(raw, RAW_SUITE)
    pd.testing.assert_frame_equal(raw, before)
