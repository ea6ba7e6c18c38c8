"""Great Expectations suites on a fast vectorized path, with GE itself for everything else.

Suites are GE's own JSON (1.x ``name``/``type``, or the 0.x ``expectation_suite_name`` /
``expectation_type`` keys), so suites written with GE tooling run unchanged. Every core
expectation GE 1.24 runs on a pandas batch (the KL divergence included) is computed with
pandas/numpy and reports what GE would: same verdict, same unexpected and missing counts and
percentages (nulls ignored as GE ignores them), same observed values and details, including
pandas-syntax ``row_condition``. SQL-only core types fail as GE reports them on pandas.
Anything else (GE's own condition syntax, suite parameters, plugins) is validated by Great
Expectations, imported only then.

A column named by an expectation but absent from the data is reported the way GE reports it:
that expectation fails with ``exception_message`` set; the run does not raise. Bad input
(missing or unreadable file, a frame without rows) raises ``InputError``; a malformed suite or
an expectation type neither engine knows raises ``SuiteError``.

>>> import pandas as pd
>>> suite = {"name": "orders", "expectations": [
...     {"type": "expect_column_values_to_be_between",
...      "kwargs": {"column": "amount", "min_value": 0, "max_value": 100}}]}
>>> result = validate(pd.DataFrame({"amount": [5, 250, None]}), suite)
>>> result.success, result.results[0].unexpected_count, result.results[0].unexpected_percent
(False, 1, 50.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlops_common.errors import InputError, SuiteError
from mlops_common.validation.result import (
    FAST,
    GREAT_EXPECTATIONS,
    ExpectationOutcome,
    ValidationResult,
)
from mlops_common.validation.suite import Expectation, Suite, load_suite

__all__ = [
    "ENGINES",
    "Expectation",
    "ExpectationOutcome",
    "Progress",
    "Suite",
    "ValidationResult",
    "load_data",
    "load_suite",
    "validate",
]

ENGINES = ("auto", FAST, GREAT_EXPECTATIONS)

#: ``progress(step, done, total)``: told ``("reading <source>", 0, None)`` before the data is
#: read, then ``("validating", done, total)`` as expectations finish; the CLI draws it.
Progress = Callable[[str, int, "int | None"], None]
# mlops_common.io words every input error; validation only names a frame and an empty table.
_WORDING = {
    "frame": "<DataFrame>",
    "no_rows": "{source}: no rows to validate; check that the data was produced",
}


def validate(
    data: Any,
    suite: str | Path | Mapping[str, Any] | Suite,
    *,
    engine: str = "auto",
    sample_size: int = 20,
    progress: Progress | None = None,
) -> ValidationResult:
    """Run ``suite`` against ``data`` (a DataFrame or a CSV/Parquet/JSON-lines path).

    ``engine``: ``"auto"`` (fast path where it applies, GE for the rest), ``"fast"`` (never
    imports GE; ``SuiteError`` if an expectation needs it) or ``"great_expectations"`` (GE for
    everything). ``sample_size`` caps ``partial_unexpected_list``. ``progress`` (see
    :data:`Progress`) hears how reading and validating advance. The caller's DataFrame is never
    modified.

    >>> import pandas as pd
    >>> suite = {"name": "s", "expectations": [
    ...     {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}]}
    >>> validate(pd.DataFrame({"id": [1, 2]}), suite).success
    True
    """
    if engine not in ENGINES:
        raise InputError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
        raise InputError(f"sample_size must be a non-negative integer, not {sample_size!r}")
    parsed = load_suite(suite)
    report: Progress = progress or (lambda step, done, total: None)
    if not hasattr(data, "columns"):
        report(f"reading {data}", 0, None)
    df, source = load_data(data)
    total = len(parsed.expectations)
    report("validating", 0, total)

    from mlops_common.validation import fast

    outcomes: list[ExpectationOutcome | None] = [None] * len(parsed.expectations)
    delegated: list[int] = []
    if engine == "great_expectations":
        delegated = list(range(len(parsed.expectations)))
    else:
        # Unknown types are reported before any work is done.
        pending = [i for i, e in enumerate(parsed.expectations) if not fast.supports(e)]
        if pending and engine == "fast":
            first = parsed.expectations[pending[0]]
            raise SuiteError(
                f"{first.type} (expectations[{pending[0]}]) is not on the fast path; "
                'use engine="auto" to let Great Expectations run it'
            )
        if pending:
            from mlops_common.validation import ge_engine

            ge_engine.check_known([parsed.expectations[i] for i in pending])
        for index, expectation in enumerate(parsed.expectations):
            if index in pending:
                delegated.append(index)
                continue
            try:
                outcomes[index] = fast.run_fast(df, expectation, sample_size)
            except fast.Unsupported as exc:
                if engine == "fast":
                    raise SuiteError(
                        f"{expectation.type} on column {expectation.column!r} needs Great "
                        f'Expectations ({exc}); use engine="auto"'
                    ) from exc
                delegated.append(index)
            report("validating", index + 1 - len(delegated), total)
    if delegated:
        from mlops_common.validation import ge_engine

        ge_outcomes = ge_engine.run_ge(df, [parsed.expectations[i] for i in delegated], sample_size)
        for index, outcome in zip(delegated, ge_outcomes, strict=True):
            outcomes[index] = outcome
    report("validating", total, total)

    results = [outcome for outcome in outcomes if outcome is not None]
    return ValidationResult(
        success=all(outcome.success for outcome in results),
        suite_name=parsed.name,
        data_source=source,
        row_count=len(df),
        results=results,
    )


def load_data(data: Any) -> tuple[Any, str]:
    """``(DataFrame, description)`` from a DataFrame, a CSV/Parquet/JSON-lines path, or such a
    file at an object-store URI (``s3://``, ``gs://``, ``az://``/``abfs://``... via fsspec,
    streamed rather than downloaded first; credentials and endpoints come from the usual
    environment variables of each cloud).

    Raises ``InputError`` for a missing or unreadable file and for data without rows or columns;
    ``EnvironmentProblem`` when the URI's fsspec backend (s3fs, gcsfs, adlfs) is not installed.
    """
    from mlops_common.io import read_table

    return read_table(data, role="data", messages=_WORDING)
