"""Every Great Expectations core expectation type, fast path against real GE 1.x.

The coverage test reads GE's own registry, so a GE release that adds a core type fails here
until the type has a fast check (or is listed as SQL-only). The differential test runs each
type, with a few kwargs each, on clean, corrupted, all-null and empty frames, once on the
fast path and once through GE, and compares verdict, counts, percentages, observed values and
samples. One GE context serves the module; GE validates each frame's cases in one batch.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mlops_common.validation import fast, ge_engine
from mlops_common.validation.suite import Expectation
from tools.ge_compare import disagreements

pytestmark = pytest.mark.xdist_group("great_expectations")

ROWS = 60

#: Core types GE registers that the fast path leaves to GE, with the reason (none today).
DELEGATED: dict[str, str] = {}


def _ge_core_types() -> dict[str, str]:
    import great_expectations.expectations as gxe

    found = {}
    for name in dir(gxe):
        cls = getattr(gxe, name)
        if name.startswith("Expect") and name != "Expectation" and isinstance(cls, type):
            found[name] = cls.expectation_type
    return found


@pytest.fixture(scope="module")
def ge_types(ge_context):
    return _ge_core_types()


@pytest.fixture(scope="module")
def ge_context():
    return ge_engine.get_context()


def test_core_type_list_is_great_expectations_own_registry(ge_types):
    registered = {type_ for type_ in ge_types.values() if type_}
    assert registered == ge_engine.CORE_TYPES
    # GE 1.24 exports one deprecated class without a type name; suites cannot name it.
    assert [name for name, type_ in ge_types.items() if not type_] == [
        "ExpectMulticolumnValuesToBeUnique"
    ]


def test_every_core_type_is_on_the_fast_path_or_delegated_with_a_reason():
    unhandled = ge_engine.CORE_TYPES - set(fast.FAST_CHECKS) - set(DELEGATED)
    assert not unhandled, f"core types without a fast check: {sorted(unhandled)}"
    assert not set(DELEGATED) & set(fast.FAST_CHECKS)


def test_sql_only_types_fail_on_pandas_as_great_expectations_reports_them(ge_context):
    assert {
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_query_results_to_match_comparison",
        "expect_table_row_count_to_equal_other_table",
    } == fast.SQL_ONLY
    df = clean_frame()
    sql = [
        Expectation(
            "expect_column_values_to_match_like_pattern", {"column": "code", "like_pattern": "AB%"}
        ),
        Expectation("expect_table_row_count_to_equal_other_table", {"other_table_name": "t"}),
    ]
    for expectation, theirs in zip(sql, ge_engine.run_ge(df, sql, 20), strict=True):
        ours = fast.run_fast(df, expectation, 20)
        assert (ours.success, theirs.success) == (False, False)
        assert ours.exception_message and theirs.exception_message


def test_recognising_a_core_type_does_not_import_great_expectations():
    code = (
        "import sys\n"
        "from mlops_common.validation import ge_engine\n"
        "assert all(ge_engine.known_expectation(t) for t in ge_engine.CORE_TYPES)\n"
        "assert 'great_expectations' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- data ------------------------------------------------------------------------------------


def clean_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    b = rng.uniform(0, 50, ROWS).round(1)
    x = rng.integers(0, 5, ROWS)
    y = rng.integers(0, 5, ROWS)
    return pd.DataFrame(
        {
            "id": np.arange(ROWS, dtype="int64"),
            "amount": rng.uniform(1.0, 99.0, ROWS).round(2),
            "qty": rng.integers(1, 10, ROWS),
            "segment": rng.choice(["retail", "b2b", "online"], ROWS),
            "code": [f"AB-{i:04d}" for i in range(ROWS)],
            "day": [f"2024-01-{1 + i % 28:02d}" for i in range(ROWS)],
            "js": [f'{{"k": {i}}}' for i in range(ROWS)],
            "a": b + 1.0,
            "b": b,
            "x": x,
            "y": y,
            "z": 10 - x - y,
            "up": np.arange(ROWS, dtype="float64") * 2,
            "down": np.arange(ROWS, 0, -1, dtype="float64"),
            "score": rng.normal(50.0, 5.0, ROWS),
        }
    )


def corrupted_frame() -> pd.DataFrame:
    df = clean_frame()
    df.loc[[3, 17], "amount"] = np.nan
    df.loc[[5, 6], "amount"] = [150.0, -3.0]
    df.loc[[11, 12], "segment"] = ["wholesale", "retail "]
    df.loc[13, "segment"] = None
    df.loc[[20, 21], "id"] = [19, 19]
    df.loc[[30, 31], "code"] = ["ab-0001", "XX"]
    df.loc[32, "code"] = None
    df.loc[[4, 8], "day"] = ["not a date", "2024-13-45"]
    df.loc[9, "day"] = None
    df.loc[[7, 10], "js"] = ["{", '{"k": "text"}']
    df.loc[[14, 15], "a"] = [0.0, np.nan]
    df.loc[16, ["a", "b"]] = [np.nan, np.nan]
    df.loc[[18, 19], "z"] = [99, -1]
    df.loc[22, ["x", "y"]] = [3, 3]
    df.loc[[25, 26], "up"] = [1.0, np.nan]
    df.loc[[27], "down"] = [500.0]
    df.loc[[40], "score"] = [500.0]
    return df


def all_null_frame() -> pd.DataFrame:
    df = clean_frame()
    out = {}
    for name in df.columns:
        if df[name].dtype.kind in "iuf":
            out[name] = pd.Series(np.nan, index=df.index, dtype="float64")
        else:
            out[name] = pd.Series([None] * ROWS, index=df.index, dtype=object)
    return pd.DataFrame(out)


def empty_frame() -> pd.DataFrame:
    return clean_frame().iloc[0:0]


FRAMES = {
    "clean": clean_frame,
    "corrupted": corrupted_frame,
    "all_null": all_null_frame,
    "empty": empty_frame,
}


def e(name: str, /, **kwargs) -> Expectation:
    return Expectation(f"expect_{name}", kwargs)


PANDAS_QUERY = {"row_condition": 'segment == "retail"', "condition_parser": "pandas"}

CASES = [
    e("table_row_count_to_be_between", min_value=10, max_value=100),
    e("table_row_count_to_be_between", min_value=5, **PANDAS_QUERY),
    e("table_row_count_to_equal", value=ROWS),
    e("table_column_count_to_be_between", min_value=10, max_value=15),
    e("table_column_count_to_equal", value=15),
    e("table_columns_to_match_ordered_list", column_list=list(clean_frame().columns)),
    e("table_columns_to_match_ordered_list", column_list=["id", "amount"]),
    e("table_columns_to_match_set", column_set=list(clean_frame().columns)),
    e("table_columns_to_match_set", column_set=["id", "amount"], exact_match=False),
    e("table_columns_to_match_set", column_set=["id", "nope"], exact_match=False),
    e("column_to_exist", column="amount"),
    e("column_to_exist", column="nope"),
    e("column_type_to_be", column="id", type_="int64"),
    e("column_type_to_be", column="amount", type_="float64"),
    e("column_type_to_be", column="segment", type_="str"),
    e("column_values_to_not_be_null", column="amount"),
    e("column_values_to_not_be_null", column="segment", mostly=0.9),
    e("column_values_to_be_null", column="amount"),
    e("column_values_to_be_null", column="amount", mostly=0.01),
    e("column_values_to_be_between", column="amount", min_value=0, max_value=100),
    e("column_values_to_be_between", column="amount", min_value=0, max_value=100, **PANDAS_QUERY),
    e("column_values_to_be_in_set", column="segment", value_set=["retail", "b2b", "online"]),
    e("column_values_to_not_be_in_set", column="segment", value_set=["wholesale"]),
    e("column_values_to_be_unique", column="id"),
    e("column_values_to_match_regex", column="code", regex=r"^AB-\d{4}$"),
    e("column_values_to_not_match_regex", column="code", regex=r"^X"),
    e("column_values_to_match_regex_list", column="code", regex_list=[r"^AB", r"\d$"]),
    e(
        "column_values_to_match_regex_list",
        column="code",
        regex_list=[r"^AB", r"^X"],
        match_on="any",
    ),
    e(
        "column_values_to_match_regex_list",
        column="code",
        regex_list=[r"^AB", r"1$"],
        match_on="all",
    ),
    e("column_values_to_not_match_regex_list", column="code", regex_list=[r"^X", r"^ab"]),
    e("column_values_to_be_of_type", column="id", type_="int64"),
    e("column_values_to_be_in_type_list", column="amount", type_list=["float64", "int64"]),
    e("column_value_lengths_to_be_between", column="code", min_value=7, max_value=7),
    e("column_value_lengths_to_be_between", column="segment", min_value=4, strict_min=True),
    e("column_value_lengths_to_equal", column="code", value=7),
    e("column_value_lengths_to_equal", column="code", value=7, mostly=0.9),
    e("column_values_to_be_dateutil_parseable", column="day"),
    e("column_values_to_match_strftime_format", column="day", strftime_format="%Y-%m-%d"),
    e("column_values_to_be_json_parseable", column="js"),
    e("column_values_to_match_json_schema", column="js", json_schema={"type": "object"}),
    e(
        "column_values_to_match_json_schema",
        column="code",
        json_schema={"type": "object"},
        mostly=0.5,
    ),
    e("column_values_to_be_increasing", column="up"),
    e("column_values_to_be_increasing", column="up", strictly=True),
    e("column_values_to_be_decreasing", column="down"),
    e("column_values_to_be_decreasing", column="down", strictly=True, mostly=0.9),
    e("column_value_z_scores_to_be_less_than", column="score", threshold=3, double_sided=True),
    e("column_value_z_scores_to_be_less_than", column="score", threshold=2, double_sided=False),
    e("column_values_to_not_be_outliers", column="score"),
    e("column_values_to_not_be_outliers", column="score", method="std", multiplier=3),
    e("column_mean_to_be_between", column="amount", min_value=40, max_value=60),
    e("column_median_to_be_between", column="amount", min_value=40, max_value=60),
    e("column_stdev_to_be_between", column="score", min_value=3, max_value=7),
    e("column_min_to_be_between", column="id", min_value=0),
    e("column_max_to_be_between", column="amount", max_value=100),
    e("column_sum_to_be_between", column="qty", min_value=100, max_value=500),
    e("column_sum_to_be_between", column="amount", min_value=0, **PANDAS_QUERY),
    e("column_unique_value_count_to_be_between", column="segment", min_value=2, max_value=3),
    # Numbers go through lean_stats (blockwise moments, sorted copies instead of hash tables).
    e("column_unique_value_count_to_be_between", column="qty", min_value=5, max_value=9),
    e("column_proportion_of_unique_values_to_be_between", column="amount", min_value=0.9),
    e("column_stdev_to_be_between", column="qty", min_value=1, max_value=4),
    e("column_mean_to_be_between", column="qty", min_value=4, max_value=6),
    e("column_median_to_be_between", column="qty", min_value=4, max_value=6),
    e("column_values_to_be_unique", column="down"),
    e("column_values_to_be_unique", column="up"),
    e("compound_columns_to_be_unique", column_list=["down", "x"]),
    e("column_proportion_of_unique_values_to_be_between", column="id", min_value=0.99),
    e("column_proportion_of_unique_values_to_be_between", column="segment", max_value=0.1),
    e("column_proportion_of_non_null_values_to_be_between", column="amount", min_value=0.99),
    e("column_most_common_value_to_be_in_set", column="segment", value_set=["retail", "b2b"]),
    e(
        "column_most_common_value_to_be_in_set",
        column="qty",
        value_set=[1, 2, 3],
        ties_okay=True,
    ),
    e(
        "column_distinct_values_to_be_in_set",
        column="segment",
        value_set=["retail", "b2b", "online"],
    ),
    e("column_distinct_values_to_be_in_set", column="qty", value_set=[1, 2, 3]),
    e("column_distinct_values_to_contain_set", column="segment", value_set=["retail", "b2b"]),
    e("column_distinct_values_to_contain_set", column="segment", value_set=["retail", "gone"]),
    e("column_distinct_values_to_contain_set", column="qty", value_set=[1, 2, 42, 43]),
    e(
        "column_distinct_values_to_equal_set",
        column="segment",
        value_set=["retail", "b2b", "online"],
    ),
    e("column_distinct_values_to_equal_set", column="segment", value_set=["retail", "gone"]),
    e("column_distinct_values_to_equal_set", column="qty", value_set=[1, 2, 3, 99]),
    # KL divergence: continuous and categorical partitions, tails, holdouts, auto partitions.
    e(
        "column_kl_divergence_to_be_less_than",
        column="amount",
        partition_object={"bins": [0, 25, 50, 75, 100], "weights": [0.25, 0.25, 0.25, 0.25]},
        threshold=0.1,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="amount",
        partition_object={"bins": [10, 50, 90], "weights": [0.9, 0.1]},
        threshold=0.1,
        tail_weight_holdout=0.2,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="amount",
        partition_object={
            "bins": [10, 50, 90],
            "weights": [0.4, 0.4],
            "tail_weights": [0.1, 0.1],
        },
        threshold=0.5,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="score",
        partition_object={
            "bins": [-np.inf, 45, 50, 55, np.inf],
            "weights": [0.15, 0.35, 0.35, 0.15],
        },
        threshold=0.2,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="score",
        partition_object={"bins": [-np.inf, 50, 60], "weights": [0.5, 0.5]},
        threshold=0.2,
        tail_weight_holdout=0.1,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="score",
        partition_object={"bins": [40, 50, np.inf], "weights": [0.5, 0.5]},
        threshold=0.2,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="qty",
        partition_object={"bins": [1, 3, 5, 7, 9], "weights": [0.3, 0.0, 0.4, 0.3]},
        threshold=1.0,
        internal_weight_holdout=0.1,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="segment",
        partition_object={"values": ["retail", "b2b", "online"], "weights": [0.4, 0.3, 0.3]},
        threshold=0.1,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="segment",
        partition_object={"values": ["retail", "b2b"], "weights": [0.6, 0.4]},
        threshold=0.5,
        tail_weight_holdout=0.1,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="segment",
        partition_object={"values": ["retail", "b2b"], "weights": [0.5, 0.5]},
        threshold=0.5,
    ),
    e("column_kl_divergence_to_be_less_than", column="score", partition_object=None, threshold=0),
    e(
        "column_kl_divergence_to_be_less_than",
        column="qty",
        partition_object=None,
        bucketize_data=False,
        threshold=0.01,
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="amount",
        partition_object={"bins": [0, 50, 100], "weights": [0.5, 0.5]},
    ),
    e(
        "column_kl_divergence_to_be_less_than",
        column="segment",
        partition_object={"values": ["retail", "b2b"], "weights": [0.5, 0.5]},
        internal_weight_holdout=0.1,
        threshold=0.1,
    ),
    e(
        "column_quantile_values_to_be_between",
        column="amount",
        quantile_ranges={
            "quantiles": [0.1, 0.5, 0.9],
            "value_ranges": [[0, 20], [30, 70], [80, None]],
        },
    ),
    e(
        "column_quantile_values_to_be_between",
        column="qty",
        quantile_ranges={"quantiles": [0.5], "value_ranges": [[4, 6]]},
        allow_relative_error="linear",
    ),
    e("column_pair_values_to_be_equal", column_A="a", column_B="b"),
    e("column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b"),
    e(
        "column_pair_values_a_to_be_greater_than_b",
        column_A="a",
        column_B="b",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    ),
    e(
        "column_pair_values_to_be_in_set",
        column_A="x",
        column_B="y",
        value_pairs_set=[[x, y] for x in range(5) for y in range(4)],
    ),
    e("compound_columns_to_be_unique", column_list=["x", "y", "id"]),
    e("compound_columns_to_be_unique", column_list=["x", "y"], mostly=0.1),
    e("multicolumn_sum_to_equal", column_list=["x", "y", "z"], sum_total=10),
    e("multicolumn_values_to_be_equal", column_list=["x", "y"]),
    e("select_column_values_to_be_unique_within_record", column_list=["x", "y", "z"]),
    e(
        "select_column_values_to_be_unique_within_record",
        column_list=["x", "y"],
        ignore_row_if="any_value_is_missing",
    ),
    e("column_values_to_not_be_null", column="missing_col"),
    e("column_pair_values_to_be_equal", column_A="a", column_B="missing_col"),
]


def test_cases_exercise_every_fast_check():
    exercised = {case.type for case in CASES}
    assert set(fast.FAST_CHECKS) - fast.SQL_ONLY <= exercised


@pytest.mark.parametrize("frame", list(FRAMES))
def test_fast_path_matches_great_expectations_on_every_core_type(ge_context, frame):
    df = FRAMES[frame]()
    theirs_all = ge_engine.run_ge(df, CASES, 20)
    mismatches, fast_count = [], 0
    for case, theirs in zip(CASES, theirs_all, strict=True):
        try:
            ours = fast.run_fast(df, case, 20)
        except fast.Unsupported:
            continue  # left to GE on this data: GE's answer is the answer
        fast_count += 1
        if theirs.exception_message and not ours.exception_message:
            mismatches.append((case.type, case.kwargs, "GE raised", theirs.exception_message))
            continue
        mismatches += disagreements(ours, theirs)
    assert not mismatches, "\n".join(map(repr, mismatches))
    # Most cases run on the fast path on every frame, so this compares real work.
    assert fast_count >= len(CASES) * 0.8
