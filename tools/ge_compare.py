"""Whether the fast path and Great Expectations reported the same thing, field by field.

The differential validation tests (``tests/library/test_validation_differential.py`` and
``test_validation_core_types.py``) run the same expectation through both engines and list every
field where the two outcomes disagree.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["FIELDS", "disagreements", "same"]

#: The outcome fields both engines must agree on.
FIELDS = (
    "success",
    "unexpected_count",
    "unexpected_percent",
    "element_count",
    "observed_value",
    "partial_unexpected_list",
    "missing_count",
    "missing_percent",
    "partial_missing_list",
    "details",
)


def same(a: Any, b: Any) -> bool:
    """Equal values, floats to 1e-9 and NaN equal to NaN (or to a missing value)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is b or (a is None and isinstance(b, float) and math.isnan(b))
    return bool(a == b)


def disagreements(ours: Any, theirs: Any) -> list[tuple[Any, ...]]:
    """``(type, kwargs, field, ours, theirs)`` for each field two outcomes report differently."""
    found = [
        (ours.expectation_type, ours.kwargs, name, getattr(ours, name), getattr(theirs, name))
        for name in FIELDS
        if not same(getattr(ours, name), getattr(theirs, name))
    ]
    if (ours.exception_message is None) != (theirs.exception_message is None):
        found.append(
            (
                ours.expectation_type,
                ours.kwargs,
                "exception",
                ours.exception_message,
                theirs.exception_message,
            )
        )
    return found
