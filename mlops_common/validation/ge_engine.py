"""Delegation to Great Expectations 1.x for expectations the fast path does not reproduce.

One ephemeral GE context per process (creating it and importing GE is the expensive part);
each call reuses its pandas data source and whole-dataframe batch definition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from mlops_common.errors import SuiteError
from mlops_common.validation.result import GREAT_EXPECTATIONS, ExpectationOutcome
from mlops_common.validation.suite import Expectation

__all__ = [
    "CORE_TYPES",
    "check_known",
    "ge_batch",
    "get_context",
    "known_expectation",
    "run_ge",
    "to_outcome",
]

#: The expectation types Great Expectations 1.24 registers itself (its core ``Expect*``
#: classes), so recognising one needs no GE import; tests check this list against GE's registry.
CORE_TYPES = frozenset(
    {
        "expect_column_distinct_values_to_be_in_set",
        "expect_column_distinct_values_to_contain_set",
        "expect_column_distinct_values_to_equal_set",
        "expect_column_kl_divergence_to_be_less_than",
        "expect_column_max_to_be_between",
        "expect_column_mean_to_be_between",
        "expect_column_median_to_be_between",
        "expect_column_min_to_be_between",
        "expect_column_most_common_value_to_be_in_set",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_column_proportion_of_non_null_values_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
        "expect_column_quantile_values_to_be_between",
        "expect_column_stdev_to_be_between",
        "expect_column_sum_to_be_between",
        "expect_column_to_exist",
        "expect_column_type_to_be",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_value_z_scores_to_be_less_than",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_be_decreasing",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_json_parseable",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_json_schema",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_not_be_outliers",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_not_match_regex_list",
        "expect_compound_columns_to_be_unique",
        "expect_multicolumn_sum_to_equal",
        "expect_multicolumn_values_to_be_equal",
        "expect_query_results_to_match_comparison",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_table_column_count_to_be_between",
        "expect_table_column_count_to_equal",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_row_count_to_equal_other_table",
    }
)

_SOURCE = "mlops_common_pandas"
_ASSET = "dataframe"
_BATCH_DEFINITION = "whole_dataframe"


@functools.lru_cache(maxsize=1)
def get_context() -> Any:
    """The process-wide ephemeral GE context, with progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@functools.lru_cache(maxsize=1)
def _batch_definition() -> Any:
    source = get_context().data_sources.add_pandas(_SOURCE)
    return source.add_dataframe_asset(_ASSET).add_batch_definition_whole_dataframe(
        _BATCH_DEFINITION
    )


def ge_batch(df: Any) -> Any:
    """A GE batch over the whole DataFrame ``df``."""
    return _batch_definition().get_batch(batch_parameters={"dataframe": df})


def known_expectation(type_: str) -> bool:
    """Whether GE (core or a registered plugin) knows an expectation type.

    Core types are recognised from :data:`CORE_TYPES`; only other names import GE (plugins).
    """
    if type_ in CORE_TYPES:
        return True
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        get_expectation_impl(type_)
    except Exception:  # GE raises its own ExpectationNotFoundError
        return False
    return True


def _to_ge(expectation: Expectation) -> Any:
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    if not known_expectation(expectation.type):
        raise SuiteError(
            f"unknown expectation type {expectation.type!r}: neither mlops_common nor "
            "Great Expectations knows it; check the spelling in the suite"
        )
    config = ExpectationConfiguration(
        type=expectation.type, kwargs=expectation.check_kwargs, meta=expectation.meta
    )
    try:
        return config.to_domain_obj()
    except Exception as exc:  # pydantic / GE configuration errors
        message = " ".join(str(exc).split())
        raise SuiteError(f"{expectation.type}: invalid kwargs ({message[:300]})") from exc


def _exception_message(info: dict[str, Any]) -> str | None:
    """GE puts either one exception dict or one per failing metric in exception_info."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    messages = [
        value.get("exception_message")
        for value in info.values()
        if isinstance(value, dict) and value.get("exception_message")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def to_outcome(expectation: Expectation, ge_result: Any) -> ExpectationOutcome:
    """Our outcome fields from a GE ExpectationValidationResult."""
    result = ge_result.result or {}
    info = ge_result.exception_info or {}
    return ExpectationOutcome(
        expectation_type=expectation.type,
        column=expectation.column,
        kwargs=dict(expectation.kwargs),
        success=bool(ge_result.success),
        unexpected_count=result.get("unexpected_count"),
        unexpected_percent=result.get("unexpected_percent"),
        element_count=result.get("element_count"),
        observed_value=result.get("observed_value"),
        partial_unexpected_list=list(result.get("partial_unexpected_list") or []),
        missing_count=result.get("missing_count"),
        missing_percent=result.get("missing_percent"),
        partial_missing_list=list(result.get("partial_missing_list") or []),
        details=result.get("details"),
        engine=GREAT_EXPECTATIONS,
        exception_message=_exception_message(info),
        meta=dict(expectation.meta),
    )


def check_known(expectations: Sequence[Expectation]) -> list[Any]:
    """GE expectation objects for ``expectations``; ``SuiteError`` on unknown types or kwargs."""
    return [_to_ge(expectation) for expectation in expectations]


def run_ge(
    df: Any, expectations: Sequence[Expectation], sample_size: int
) -> list[ExpectationOutcome]:
    """Validate each expectation with GE on ``df`` (one batch, one result per expectation).

    Expectations are validated one by one rather than as a GE suite, because a GE suite merges
    expectations it deems equivalent and reorders results.
    """
    import pandas as pd

    ge_expectations = check_known(expectations)
    if int(pd.__version__.split(".")[0]) < 3:
        df = df.copy()  # without Copy-on-Write an in-place GE conversion could reach the caller
    batch = ge_batch(df)
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": sample_size}
    return [
        to_outcome(expectation, batch.validate(ge_expectation, result_format=result_format))
        for expectation, ge_expectation in zip(expectations, ge_expectations, strict=True)
    ]
