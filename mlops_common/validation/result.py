"""Typed results of a validation run: one ``ExpectationOutcome`` per expectation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result, to_jsonable

__all__ = ["FAST", "GREAT_EXPECTATIONS", "ExpectationOutcome", "ValidationResult"]

FAST = "fast"
GREAT_EXPECTATIONS = "great_expectations"

_SAMPLE = 5  # offending values shown per failure
_NOT_EXPECTED = frozenset(
    {"column", "result_format", "catch_exceptions", "include_config", "batch_id"}
)


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _percent(value: float) -> str:
    return f"{value:.3g}%" if value < 10 else f"{value:.1f}%"


@dataclass
class ExpectationOutcome(Result):
    """What one expectation found.

    The fields are GE's result fields. ``unexpected_percent`` is a share of the non-null values
    for column-map expectations (of all rows for ``not_be_null``); ``missing_count`` and
    ``missing_percent`` count the nulls (rows a pair or multicolumn check ignored) for map
    expectations, and for the distinct-set expectations ``missing_count`` and
    ``partial_missing_list`` are the expected values the column lacks. ``details`` is GE's
    ``details`` (quantile verdicts, mismatched columns, KL partitions).
    """

    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    element_count: int | None = None
    observed_value: Any = None
    partial_unexpected_list: list[Any] = field(default_factory=list)
    missing_count: int | None = None
    missing_percent: float | None = None
    partial_missing_list: list[Any] = field(default_factory=list)
    details: dict[str, Any] | None = None
    engine: str = FAST
    exception_message: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self, sample: int = _SAMPLE) -> str:
        """One line: verdict, expectation, column; for a failure what was found (counts,
        observed value, a sample of offending values) against what was expected.

        >>> print(ExpectationOutcome("expect_column_values_to_be_between", "amount",
        ...     {"column": "amount", "max_value": 100}, False, 2, 0.5,
        ...     partial_unexpected_list=[150.0, 101.5]).summary())
        FAIL  expect_column_values_to_be_between  amount: 2 unexpected (0.5%), e.g. 150, 101.5; expected max_value=100
        """  # noqa: E501
        head = f"{'ok  ' if self.success else 'FAIL'}  {self.expectation_type}"
        if self.column:
            head += f"  {self.column}"
        observed = None if self.observed_value is None else _short(_plain(self.observed_value))
        if self.success:
            return head + (f": observed {observed}" if observed is not None else "")
        found = []
        if self.exception_message:
            found.append(_short(self.exception_message, 160))
        if self.unexpected_count:
            share = ""
            if self.unexpected_percent is not None:
                share = f" ({_percent(self.unexpected_percent)})"
            found.append(f"{self.unexpected_count:,} unexpected{share}")
        if self.partial_unexpected_list:
            values = ", ".join(_short(_plain(v), 40) for v in self.partial_unexpected_list[:sample])
            more = ", ..." if len(self.partial_unexpected_list) > sample else ""
            found.append(f"e.g. {values}{more}")
        if self.partial_missing_list:
            values = ", ".join(_short(_plain(v), 40) for v in self.partial_missing_list[:sample])
            more = ", ..." if len(self.partial_missing_list) > sample else ""
            found.append(f"missing {values}{more}")
        if observed is not None:
            found.append(f"observed {observed}")
        text = head + (": " + ", ".join(found) if found else "")
        return text + (f"; expected {self.expected}" if self.expected else "")

    @property
    def expected(self) -> str:
        """The kwargs that state the expectation, as ``key=value`` (column and reporting omitted).

        >>> ExpectationOutcome("t", "c", {"column": "c", "value_set": [1, 2], "mostly": 0.9},
        ...     True).expected
        'value_set=[1, 2], mostly=0.9'
        """
        shown = {k: v for k, v in self.kwargs.items() if k not in _NOT_EXPECTED}
        return ", ".join(f"{key}={_short(_plain(value))}" for key, value in shown.items())

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.success else EXIT_NEGATIVE


@dataclass
class ValidationResult(Result):
    """The verdict of a suite on one data set.

    >>> result = ValidationResult(True, "orders", "<DataFrame>", 3, [])
    >>> result.to_dict()["success"]
    True
    """

    success: bool
    suite_name: str
    data_source: str
    row_count: int
    results: list[ExpectationOutcome]
    #: How ``summary()`` shows the run (set with :meth:`shown`); never part of the JSON.
    verbose: bool = field(default=False, repr=False, compare=False)
    terminal: bool = field(default=False, repr=False, compare=False)

    def shown(self, *, verbose: bool = False, terminal: bool = False) -> ValidationResult:
        """This result, summarised for a terminal and/or with every expectation listed."""
        return dataclasses.replace(self, verbose=verbose, terminal=terminal)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """The outcomes that did not pass."""
        return [outcome for outcome in self.results if not outcome.success]

    @property
    def statistics(self) -> dict[str, int]:
        evaluated = len(self.results)
        successful = evaluated - len(self.failed)
        return {
            "evaluated_expectations": evaluated,
            "successful_expectations": successful,
            "unsuccessful_expectations": evaluated - successful,
        }

    def to_dict(self) -> dict[str, Any]:
        keys = ("success", "suite_name", "data_source", "row_count", "statistics", "results")
        return {key: to_jsonable(getattr(self, key)) for key in keys}

    def summary(self) -> str:
        """One verdict line, then one line per failure (observed against expected, a sample
        of offending values); on a terminal also the counts by engine and a hint, and with
        ``verbose`` every passing expectation too.

        >>> print(ValidationResult(True, "orders", "orders.csv", 3, []).summary())
        suite orders on orders.csv: passed, 0 of 0 expectations failed (3 rows)
        """
        failed = self.failed
        verdict = "passed" if self.success else "FAILED"
        lines = [
            f"suite {self.suite_name} on {self.data_source}: {verdict}, "
            f"{len(failed)} of {len(self.results)} expectations failed ({self.row_count:,} rows)"
        ]
        lines += [outcome.summary() for outcome in failed]
        if self.verbose:
            lines += [outcome.summary() for outcome in self.results if outcome.success]
        if self.terminal:
            engines: dict[str, int] = {}
            for outcome in self.results:
                engines[outcome.engine] = engines.get(outcome.engine, 0) + 1
            counts = ", ".join(f"{count} {engine}" for engine, count in sorted(engines.items()))
            passed = len(self.results) - len(failed)
            hint = "" if self.verbose else "; --verbose lists them, --json gives every field"
            if self.results:
                lines.append(f"{passed} passed ({counts}){hint}")
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        """1 when any expectation failed, else 0."""
        return EXIT_OK if self.success else EXIT_NEGATIVE
