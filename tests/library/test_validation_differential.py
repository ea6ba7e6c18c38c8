"""The fast path and real Great Expectations 1.x must agree, expectation by expectation.

Same suite, same data (clean and corrupted), once with ``engine="fast"`` and once with
``engine="great_expectations"``: identical verdicts, unexpected counts, percentages, observed
values and samples of offending values.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from mlops_common.validation import validate
from mlops_common.validation.fast import FAST_EXPECTATIONS, supports
from mlops_common.validation.suite import load_suite
from tools.ge_compare import disagreements

pytestmark = pytest.mark.xdist_group("great_expectations")

ROWS = 400


@pytest.fixture(scope="session")
def ge_context():
    """One GE import and one ephemeral context for the whole session (GE import takes seconds)."""
    from mlops_common.validation import ge_engine

    return ge_engine.get_context()


def clean_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(ROWS, dtype="int64"),
            "amount": rng.uniform(1.0, 99.0, ROWS).round(2),
            "quantity": rng.integers(1, 10, ROWS),
            "segment": rng.choice(["retail", "b2b", "online"], ROWS),
            "code": [f"AB-{i:04d}" for i in range(ROWS)],
            "flag": rng.random(ROWS) > 0.5,
            "region": rng.choice(["north", "south"], ROWS),
            "score": rng.normal(50.0, 5.0, ROWS),
        }
    )


def corrupted_frame() -> pd.DataFrame:
    df = clean_frame()
    df.loc[[3, 17, 200], "amount"] = np.nan  # nulls
    df.loc[[5, 6], "amount"] = [150.0, -3.0]  # out of range
    df.loc[9, "amount"] = np.inf  # infinity: a value, not a null, for GE
    df.loc[[11, 12], "segment"] = ["wholesale", "retail "]  # bad categories
    df.loc[13, "segment"] = None
    df.loc[[20, 21], "id"] = [19, 19]  # duplicates
    df.loc[[30, 31], "code"] = ["ab-0001", "XX"]  # regex misses
    df.loc[32, "code"] = None
    df.loc[[40, 41], ["region", "quantity"]] = [["north", 3], ["north", 3]]
    df["quantity"] = df["quantity"].astype("float64")  # wrong type: float where int expected
    df.loc[50, "score"] = np.nan
    df["mixed"] = pd.Series([1, "two", 3.0, None] * (ROWS // 4), dtype=object)
    return df


def expect(name: str, /, **kwargs) -> dict:
    """One expectation of the suite below, in GE 1.x JSON."""
    return {"type": f"expect_{name}", "kwargs": kwargs}


SUITE = {
    "name": "orders",
    "expectations": [
        expect("table_row_count_to_be_between", min_value=100),
        expect("table_row_count_to_be_between", min_value=1, max_value=ROWS, strict_max=True),
        expect("column_to_exist", column="amount"),
        expect("column_to_exist", column="amount", column_index=2),
        expect("column_to_exist", column="nope"),
        expect("column_values_to_not_be_null", column="amount"),
        expect("column_values_to_not_be_null", column="segment", mostly=0.99),
        expect("column_values_to_be_between", column="amount", min_value=0, max_value=100),
        expect(
            "column_values_to_be_between", column="amount", min_value=0, max_value=100, mostly=0.99
        ),
        expect(
            "column_values_to_be_between",
            column="quantity",
            min_value=1,
            max_value=9,
            strict_min=True,
            strict_max=True,
        ),
        expect("column_values_to_be_between", column="id", max_value=1000),
        expect("column_values_to_be_between", column="flag", min_value=0),
        expect(
            "column_values_to_be_in_set", column="segment", value_set=["retail", "b2b", "online"]
        ),
        expect(
            "column_values_to_be_in_set", column="quantity", value_set=[1, 2, 3, 4, 5], mostly=0.4
        ),
        expect("column_values_to_not_be_in_set", column="segment", value_set=["wholesale"]),
        expect("column_values_to_be_unique", column="id"),
        expect("column_values_to_be_unique", column="code"),
        expect("column_values_to_be_unique", column="region", mostly=0.0),
        expect("column_values_to_match_regex", column="code", regex=r"^AB-\d{4}$"),
        expect("column_values_to_match_regex", column="amount", regex=r"\.", mostly=0.5),
        expect("column_values_to_be_of_type", column="id", type_="int"),
        expect("column_values_to_be_of_type", column="quantity", type_="int64"),
        expect("column_values_to_be_of_type", column="amount", type_="float"),
        expect("column_values_to_be_of_type", column="segment", type_="str"),
        expect("column_values_to_be_of_type", column="flag", type_="bool"),
        expect("column_values_to_be_of_type", column="mixed", type_="int"),
        expect("column_values_to_be_of_type", column="mixed", type_="object"),
        expect("column_values_to_be_in_type_list", column="quantity", type_list=["int", "int64"]),
        expect("column_values_to_be_in_type_list", column="amount", type_list=["float64", "int64"]),
        expect(
            "column_values_to_be_in_type_list",
            column="mixed",
            type_list=["int", "float"],
            mostly=0.5,
        ),
        expect("column_mean_to_be_between", column="amount", min_value=40, max_value=60),
        expect(
            "column_mean_to_be_between", column="score", min_value=45, max_value=55, strict_min=True
        ),
        expect("column_median_to_be_between", column="amount", min_value=40, max_value=60),
        expect("column_median_to_be_between", column="quantity", min_value=4, max_value=6),
        expect("column_stdev_to_be_between", column="score", min_value=3, max_value=7),
        expect("column_stdev_to_be_between", column="amount", max_value=40),
        expect("column_max_to_be_between", column="amount", max_value=100),
        expect("column_min_to_be_between", column="id", min_value=0),
        expect("compound_columns_to_be_unique", column_list=["region", "quantity", "id"]),
        expect("compound_columns_to_be_unique", column_list=["region", "segment"], mostly=0.0),
        expect(
            "compound_columns_to_be_unique",
            column_list=["amount", "code"],
            ignore_row_if="any_value_is_missing",
        ),
        # absent column: GE reports a failed expectation with an exception message
        expect("column_values_to_not_be_null", column="missing_col"),
        expect("column_values_to_be_between", column="missing_col", min_value=0, max_value=1),
    ],
}


def _assert_engines_agree(df: pd.DataFrame) -> None:
    before = copy.deepcopy(df)
    fast = validate(df, SUITE, engine="fast")
    ge = validate(df, SUITE, engine="great_expectations")
    pd.testing.assert_frame_equal(df, before)
    assert {o.engine for o in fast.results} == {"fast"}
    assert {o.engine for o in ge.results} == {"great_expectations"}
    mismatches = [
        found
        for ours, theirs in zip(fast.results, ge.results, strict=True)
        for found in disagreements(ours, theirs)
    ]
    assert not mismatches, "\n".join(map(repr, mismatches))
    assert fast.success == ge.success


def test_suite_is_entirely_on_the_fast_path():
    assert all(supports(e) for e in load_suite(SUITE).expectations)


def test_suite_is_made_of_fast_checks():
    # Every other core type is compared in test_validation_core_types.py.
    assert {e.type for e in load_suite(SUITE).expectations} <= set(FAST_EXPECTATIONS)


def test_fast_path_matches_great_expectations_on_clean_data(ge_context):
    _assert_engines_agree(clean_frame())


def test_fast_path_matches_great_expectations_on_corrupted_data(ge_context):
    df = corrupted_frame()
    _assert_engines_agree(df)
    # The corruption really is caught, so the comparison above is not between two no-ops.
    failed = {(o.expectation_type, o.column) for o in validate(df, SUITE, engine="fast").failed}
    assert ("expect_column_values_to_be_unique", "id") in failed
    assert ("expect_column_values_to_match_regex", "code") in failed
    assert ("expect_column_values_to_be_in_set", "segment") in failed


def test_blockwise_statistics_match_great_expectations_across_block_edges(ge_context, monkeypatch):
    # Means, sums and standard deviations run in blocks of lean_stats.BLOCK rows; blocks of 7
    # put nulls, infinities and outliers on both sides of many block edges.
    from mlops_common.validation import lean_stats

    monkeypatch.setattr(lean_stats, "BLOCK", 7)
    _assert_engines_agree(corrupted_frame())


def test_median_from_a_sampled_band_matches_great_expectations(ge_context, monkeypatch):
    # Medians of large columns partition only a band around a sampled middle; a sample of 8
    # sends these 400-row columns (nulls, an infinity, outliers, integers) down that path.
    from mlops_common.validation import lean_stats

    answered = []
    band = lean_stats._middle_from_band

    def spy(*args):
        answered.append(band(*args))
        return answered[-1]

    monkeypatch.setattr(lean_stats, "MEDIAN_SAMPLE", 8)
    monkeypatch.setattr(lean_stats, "_middle_from_band", spy)
    _assert_engines_agree(corrupted_frame())
    _assert_engines_agree(clean_frame())
    assert answered and all(value is not None for value in answered)


def test_fast_path_matches_great_expectations_with_nulls_everywhere(ge_context):
    df = clean_frame().astype({"quantity": "float64"})
    df.loc[:, ["amount", "quantity", "score"]] = np.nan
    df.loc[::2, ["segment", "code", "region"]] = None
    _assert_engines_agree(df)


def test_auto_engine_hands_unknown_to_fast_path_expectations_to_great_expectations(ge_context):
    df = clean_frame()
    df.loc[0, "segment"] = None
    suite = {
        "name": "mixed",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "segment"}},
            {
                "type": "expect_column_distinct_values_to_be_in_set",
                "kwargs": {"column": "segment", "value_set": ["retail", "b2b"]},
            },
            {
                # GE's own condition syntax is left to GE
                "type": "expect_column_value_lengths_to_be_between",
                "kwargs": {
                    "column": "code",
                    "min_value": 7,
                    "max_value": 7,
                    "row_condition": 'col("region")=="north"',
                    "condition_parser": "great_expectations",
                },
            },
            {
                "type": "expect_column_kl_divergence_to_be_less_than",
                "kwargs": {
                    "column": "amount",
                    "partition_object": {"bins": [0, 50, 100], "weights": [0.5, 0.5]},
                    "threshold": 0.1,
                },
            },
        ],
    }
    result = validate(df, suite)
    # Every core type is on the fast path now, the KL divergence included.
    assert [o.engine for o in result.results] == ["fast", "fast", "great_expectations", "fast"]
    assert [o.success for o in result.results][:2] == [False, False]
    assert result.results[1].partial_unexpected_list == ["online"]
    assert result.results[3].observed_value is not None
