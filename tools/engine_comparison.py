"""What the engine-comparison tests (tests/integrations/spark/) and benchmarks/bench_scaling.py
share: one data set with every kind of column and some bad values, one suite with each type the
pushdown engines run (passing and failing), and the comparison of a result with the pandas fast
path's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlops_common.validation.result import ValidationResult

ROWS = 2000


def sample_frame(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Columns of every kind the checks read, with missing values and some bad values."""
    rng = np.random.default_rng(seed)
    amount = rng.normal(50, 15, rows)
    amount[::13] = np.nan
    amount[5::97] = 250.0  # out of range
    code = rng.integers(0, 40, rows).astype("float64")
    code[3::17] = np.nan
    city = rng.choice(["paris", "lyon", "nice", "brest"], rows, p=[0.5, 0.3, 0.19, 0.01])
    cities = pd.Series(city, dtype="str")
    cities[::31] = None
    sku = pd.Series([f"AB-{i:04d}" for i in range(rows)], dtype="str")
    sku[7::101] = "bad sku"
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "order": rng.integers(0, rows // 2, rows),  # duplicates
            "amount": amount,
            "qty": rng.integers(1, 10, rows),
            "code": code,
            "city": cities,
            "sku": sku,
            "flag": rng.random(rows) > 0.3,
            "ts": pd.date_range("2026-01-01", periods=rows, freq="min"),
        }
    )


def _e(expectation_type: str, /, **kwargs: Any) -> dict[str, Any]:
    return {"type": expectation_type, "kwargs": kwargs}


DIFFERENTIAL_SUITE = {
    "name": "orders",
    "expectations": [
        _e("expect_column_to_exist", column="amount"),
        _e("expect_column_to_exist", column="missing_column"),
        _e("expect_table_row_count_to_be_between", min_value=1000, max_value=5000),
        _e("expect_table_row_count_to_equal", value=1999),
        _e("expect_table_column_count_to_equal", value=9),
        _e("expect_table_columns_to_match_set", column_set=["id", "amount"], exact_match=False),
        _e("expect_column_values_to_not_be_null", column="amount"),
        _e("expect_column_values_to_not_be_null", column="amount", mostly=0.9),
        _e("expect_column_values_to_not_be_null", column="city", mostly=0.99),
        _e("expect_column_values_to_be_null", column="code", mostly=0.01),
        _e("expect_column_values_to_be_between", column="amount", min_value=0, max_value=120),
        _e(
            "expect_column_values_to_be_between",
            column="amount",
            min_value=0,
            max_value=120,
            mostly=0.95,
        ),
        _e("expect_column_values_to_be_between", column="qty", min_value=1, max_value=9),
        _e("expect_column_values_to_be_between", column="qty", min_value=1, strict_min=True),
        _e("expect_column_values_to_be_between", column="code", max_value=30),
        _e("expect_column_values_to_be_in_set", column="city", value_set=["paris", "lyon"]),
        _e(
            "expect_column_values_to_be_in_set",
            column="city",
            value_set=["paris", "lyon", "nice", "brest"],
        ),
        _e("expect_column_values_to_be_in_set", column="qty", value_set=[1, 2, 3, 4, 5, "6"]),
        _e("expect_column_values_to_not_be_in_set", column="city", value_set=["brest"]),
        _e("expect_column_values_to_be_unique", column="id"),
        _e("expect_column_values_to_be_unique", column="order"),
        _e("expect_column_values_to_be_unique", column="order", mostly=0.1),
        _e("expect_compound_columns_to_be_unique", column_list=["id", "qty"]),
        _e("expect_compound_columns_to_be_unique", column_list=["order", "city"]),
        _e(
            "expect_compound_columns_to_be_unique",
            column_list=["code", "city"],
            ignore_row_if="any_value_is_missing",
        ),
        _e("expect_column_values_to_match_regex", column="sku", regex=r"^AB-\d{4}$"),
        _e("expect_column_values_to_match_regex", column="city", regex="e"),
        _e("expect_column_values_to_not_match_regex", column="sku", regex=" "),
        _e("expect_column_value_lengths_to_equal", column="sku", value=7),
        _e("expect_column_value_lengths_to_be_between", column="city", min_value=4, max_value=5),
        _e("expect_column_values_to_be_of_type", column="id", type_="int64"),
        _e("expect_column_values_to_be_of_type", column="amount", type_="float64"),
        _e("expect_column_values_to_be_of_type", column="qty", type_="float64"),
        _e("expect_column_values_to_be_in_type_list", column="flag", type_list=["bool", "int"]),
        _e("expect_column_mean_to_be_between", column="amount", min_value=45, max_value=60),
        _e("expect_column_mean_to_be_between", column="qty", min_value=6),
        _e("expect_column_median_to_be_between", column="code", min_value=15, max_value=25),
        _e("expect_column_median_to_be_between", column="qty", min_value=4, max_value=6),
        _e("expect_column_stdev_to_be_between", column="amount", min_value=10, max_value=30),
        _e("expect_column_min_to_be_between", column="qty", min_value=1),
        _e("expect_column_max_to_be_between", column="amount", max_value=200),
        _e("expect_column_sum_to_be_between", column="qty", min_value=0),
        _e("expect_column_unique_value_count_to_be_between", column="city", max_value=4),
        _e("expect_column_proportion_of_unique_values_to_be_between", column="id", min_value=1),
        _e(
            "expect_column_proportion_of_non_null_values_to_be_between",
            column="code",
            min_value=0.99,
        ),
    ],
}


def assert_same_verdicts(engine: ValidationResult, pandas: ValidationResult, everything) -> None:
    """Same verdicts, unexpected counts and percentages, element counts and (within float
    rounding) observed values as the pandas fast path; every sampled value is an offending value
    pandas found (``everything``: the pandas result with an unbounded sample)."""
    assert engine.row_count == pandas.row_count
    assert len(engine.results) == len(pandas.results)
    for ours, theirs, full in zip(engine.results, pandas.results, everything.results, strict=True):
        where = f"{ours.expectation_type} {ours.kwargs}"
        assert ours.success == theirs.success, where
        assert ours.unexpected_count == theirs.unexpected_count, where
        assert ours.element_count == theirs.element_count, where
        assert (ours.exception_message is None) == (theirs.exception_message is None), where
        if theirs.unexpected_percent is None:
            assert ours.unexpected_percent is None, where
        else:
            assert math.isclose(ours.unexpected_percent, theirs.unexpected_percent), where
        observed = theirs.observed_value
        if isinstance(observed, float):
            assert math.isclose(ours.observed_value, observed, rel_tol=1e-9), where
        elif isinstance(observed, int) and not isinstance(observed, bool):
            assert ours.observed_value == observed, where
        offending = {_key(v) for v in full.partial_unexpected_list}
        for value in ours.partial_unexpected_list:
            assert _key(value) in offending, f"{where}: sampled {value!r} is not unexpected"
        assert len(ours.partial_unexpected_list) == len(theirs.partial_unexpected_list), where


def _key(value: Any) -> str:
    """A comparable form of a sampled value or row: NaN and None are both missing."""
    if isinstance(value, dict):
        return repr({k: _key(v) for k, v in value.items()})
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "None"
    return repr(value)
