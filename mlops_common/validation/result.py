"""Typed results of a validation run: one ``ExpectationOutcome`` per expectation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result, to_jsonable

__all__ = ["FAST", "GREAT_EXPECTATIONS", "ExpectationOutcome", "ValidationResult"]

FAST = "fast"
GREAT_EXPECTATIONS = "great_expectations"


@dataclass
class ExpectationOutcome(Result):
    """What one expectation found.

    ``unexpected_percent`` follows Great Expectations: offending values as a share of the
    non-null values for column-map expectations (of all rows for ``not_be_null``).
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
    engine: str = FAST
    exception_message: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: verdict, expectation, column and what was unexpected.

        >>> ExpectationOutcome("expect_column_values_to_not_be_null", "id", {}, False, 2).summary()
        'FAIL  expect_column_values_to_not_be_null  id  2 unexpected'
        """
        parts = ["ok  " if self.success else "FAIL", self.expectation_type]
        if self.column:
            parts.append(self.column)
        if self.unexpected_count:
            parts.append(f"{self.unexpected_count} unexpected")
        if self.exception_message:
            parts.append(self.exception_message)
        return "  ".join(parts)

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
        """The verdict, then one line per expectation, failures first.

        >>> print(ValidationResult(True, "orders", "orders.csv", 3, []).summary())
        suite orders on orders.csv: passed (0 of 0 expectations failed, 3 rows)
        """
        verdict = "passed" if self.success else "FAILED"
        lines = [
            f"suite {self.suite_name} on {self.data_source}: {verdict} "
            f"({len(self.failed)} of {len(self.results)} expectations failed, "
            f"{self.row_count:,} rows)"
        ]
        ordered = sorted(self.results, key=lambda outcome: outcome.success)
        lines += [outcome.summary() for outcome in ordered]
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        """1 when any expectation failed, else 0."""
        return EXIT_OK if self.success else EXIT_NEGATIVE
