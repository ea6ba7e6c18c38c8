"""Typed results of a validation run: one ``ExpectationOutcome`` per expectation."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExpectationOutcome", "ValidationResult"]

FAST = "fast"
GREAT_EXPECTATIONS = "great_expectations"


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for numpy scalars, timestamps, non-finite floats and containers."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):  # datetime, date, pandas Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    return str(value)


@dataclass
class ExpectationOutcome:
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

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))


@dataclass
class ValidationResult:
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
        return {
            "success": self.success,
            "suite_name": self.suite_name,
            "data_source": self.data_source,
            "row_count": self.row_count,
            "statistics": self.statistics,
            "results": [outcome.to_dict() for outcome in self.results],
        }

    def to_json(self, path: str | Path) -> Path:
        """Write ``to_dict()`` as indented JSON, creating parent folders; return the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target
