"""Expectations as aggregate queries, for data that stays where it is (Spark, SQL databases).

Each supported expectation is declared once with :func:`register_pushdown_check`: it asks for a
few aggregates (:class:`Rows`, :class:`Present`, :class:`Unexpected`, :class:`Stat`,
:class:`Distinct`, :class:`Duplicated`) and turns their values into the outcome the pandas fast
path reports on the same data (same verdict, unexpected counts and percentages; missing means
null, and NaN for floating-point columns, as pandas reads them). A backend
(:mod:`mlops_common.validation.spark`, :mod:`mlops_common.validation.sql`) compiles the
aggregates of a whole suite into one query, plus one group-by per uniqueness check and, only for
a failing map check, one small query for a sample of offending values. Checks that only read the
schema (column names, counts, types) run on the fast path itself, over an empty pandas frame
with the dtypes pandas would give the same columns. Only aggregates ever leave the engine.

An expectation type, or a kwarg, that is not declared here raises ``SuiteError`` naming it
before any query runs.

>>> "expect_compound_columns_to_be_unique" in PUSHDOWN_CHECKS, len(supported_types()) >= 30
(True, True)
"""

from __future__ import annotations

import math
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from numbers import Real
from typing import Any, Protocol

from mlops_common.errors import SuiteError
from mlops_common.validation.fast import BETWEEN_KEYS
from mlops_common.validation.result import ExpectationOutcome, ValidationResult
from mlops_common.validation.suite import Expectation, Suite, load_suite

__all__ = [
    "PUSHDOWN_CHECKS",
    "SCHEMA_CHECKS",
    "Backend",
    "Between",
    "ColumnType",
    "Distinct",
    "Duplicated",
    "ExpressionBackend",
    "InSet",
    "Kept",
    "Present",
    "Regex",
    "Rows",
    "Stat",
    "Unexpected",
    "check_supported",
    "duplicate_values",
    "plain_value",
    "register_pushdown_check",
    "run_suite",
    "supported_types",
]


# -- what a check asks the engine for --------------------------------------------------------


@dataclass(frozen=True)
class Between:
    """Values (or their string lengths, ``of="length"``) within the bounds; None is no bound."""

    low: float | None
    high: float | None
    strict_min: bool = False
    strict_max: bool = False
    of: str = "value"


@dataclass(frozen=True)
class InSet:
    """Values in ``values`` (``inside=False``: values not in them)."""

    values: tuple[Any, ...]
    inside: bool = True


@dataclass(frozen=True)
class Regex:
    """The value as text contains a match of ``pattern`` (search, as ``re.search``)."""

    pattern: str
    matches: bool = True


Predicate = Between | InSet | Regex


@dataclass(frozen=True)
class Rows:
    """The number of rows."""


@dataclass(frozen=True)
class Present:
    """The number of non-missing values of ``column``."""

    column: str


@dataclass(frozen=True)
class Unexpected:
    """The number of non-missing values of ``column`` for which ``ok`` does not hold."""

    column: str
    ok: Predicate


@dataclass(frozen=True)
class Stat:
    """``function`` (min, max, mean, median, stddev, sum) of the non-missing values."""

    column: str
    function: str


@dataclass(frozen=True)
class Distinct:
    """The number of distinct non-missing values of ``column``."""

    column: str


@dataclass(frozen=True)
class Duplicated:
    """The number of rows whose combination of ``columns`` occurs more than once, among the
    rows ``keep`` selects: ``"present"`` (every column present: one column's uniqueness),
    ``"any_present"``, ``"all"``."""

    columns: tuple[str, ...]
    keep: str = "present"


@dataclass(frozen=True)
class Kept:
    """The number of rows a multicolumn check considers (``keep`` as in :class:`Duplicated`)."""

    columns: tuple[str, ...]
    keep: str


Aggregate = Rows | Present | Unexpected | Stat | Distinct | Duplicated | Kept


@dataclass(frozen=True)
class ColumnType:
    """A column's type: ``kind`` (integer, float, boolean, string, temporal, other), the
    engine's own name (``LongType``, ``BIGINT``) and the numpy/pandas dtype pandas gives it."""

    kind: str
    native: str
    pandas_dtype: str

    @property
    def numeric(self) -> bool:
        return self.kind in ("integer", "float", "boolean")


class Backend(Protocol):
    """What :func:`run_suite` needs from an engine."""

    name: str
    source: str

    def columns(self) -> dict[str, ColumnType]:
        """Column name -> type, in table order."""
        ...

    def aggregate(self, requests: Sequence[Aggregate]) -> list[Any]:
        """The value of each request (scalar aggregates batched into one query)."""
        ...

    def sample(self, request: Unexpected | Duplicated, limit: int) -> list[Any]:
        """Up to ``limit`` offending values (or rows, as dicts, for ``Duplicated``)."""
        ...

    def native_type_names(self, column_type: ColumnType) -> set[str]:
        """The type names a suite may use for this column on this engine (GE's datasource)."""
        ...


class ExpressionBackend(ABC):
    """What the Spark and SQL backends share: each request becomes one column expression of the
    suite's aggregate query, built from the few primitives an engine defines (its column
    expressions combine with ``&``, ``|`` and ``~``). The engine keeps its own queries
    (``aggregate``, ``sample``) and its idea of a missing value (``present``)."""

    @abstractmethod
    def present(self, name: str) -> Any:
        """Not missing (the engine's null, and NaN where pandas reads it as missing)."""

    @abstractmethod
    def ok(self, name: str, predicate: Predicate) -> Any:
        """The values of ``name`` that satisfy ``predicate``."""

    @abstractmethod
    def _col(self, name: str) -> Any:
        """The column ``name``, quoted as the engine needs."""

    @abstractmethod
    def _numeric(self, name: str) -> Any:
        """The column as a number pandas would sum (booleans as 0/1)."""

    @abstractmethod
    def _true(self) -> Any:
        """A condition every row satisfies."""

    @abstractmethod
    def _when(self, condition: Any, value: Any) -> Any:
        """``value`` where ``condition`` holds, else null."""

    @abstractmethod
    def _count(self, value: Any) -> Any:
        """The number of non-null ``value``; without one, the number of rows."""

    @abstractmethod
    def _count_distinct(self, value: Any) -> Any:
        """The number of distinct non-null ``value``."""

    @abstractmethod
    def _stat(self, function: str, value: Any) -> Any:
        """``function`` (a :class:`Stat` function name) over the non-null ``value``."""

    def unexpected(self, request: Unexpected) -> Any:
        return self.present(request.column) & ~self.ok(request.column, request.ok)

    def kept(self, columns: Sequence[str], keep: str) -> Any:
        """The rows a multicolumn check considers (``keep`` as in :class:`Duplicated`)."""
        if keep == "all":
            return self._true()
        present = [self.present(c) for c in columns]
        return reduce(operator.and_ if keep == "present" else operator.or_, present)

    def _scalar(self, request: Aggregate) -> Any:
        if isinstance(request, Rows):
            return self._count(None)
        if isinstance(request, Present):
            condition = self.present(request.column)
        elif isinstance(request, Unexpected):
            condition = self.unexpected(request)
        elif isinstance(request, Kept):
            condition = self.kept(request.columns, request.keep)
        elif isinstance(request, Distinct):
            value = self._when(self.present(request.column), self._col(request.column))
            return self._count_distinct(value)
        elif isinstance(request, Stat):
            value = self._when(self.present(request.column), self._numeric(request.column))
            return self._stat(request.function, value)
        else:
            raise TypeError(request)
        return self._count(self._when(condition, 1))


def duplicate_values(request: Duplicated, rows: Iterable[Sequence[Any]]) -> list[Any]:
    """A :class:`Duplicated` sample from its group-by rows (the columns first, in order): the
    values of a one-column check, else one ``{column: value}`` per row."""
    if len(request.columns) == 1:
        return [plain_value(row[0]) for row in rows]
    return [{c: plain_value(v) for c, v in zip(request.columns, row, strict=False)} for row in rows]


# -- declarations ------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one expectation asks for, and how the answers become its outcome."""

    requests: list[Aggregate]
    decide: Callable[[list[Any]], ExpectationOutcome]
    #: For a map check: the request whose offending values make the sample.
    sample: Unexpected | Duplicated | None = None
    #: The offending values are the missing ones: the sample is that many Nones, no query.
    sample_missing: bool = False


#: ``plan(expectation, kwargs, column_types) -> Plan``
Planner = Callable[[Expectation, dict[str, Any], dict[str, ColumnType]], Plan]


@dataclass(frozen=True)
class PushdownCheck:
    type: str
    kwargs: frozenset[str]
    plan: Planner
    #: The ``column`` kwarg must name an existing column (else GE's missing-column outcome).
    needs_column: bool = True


PUSHDOWN_CHECKS: dict[str, PushdownCheck] = {}

#: Types decided by the schema alone: they run on the fast path over an empty frame.
SCHEMA_CHECKS: dict[str, frozenset[str]] = {
    "expect_column_to_exist": frozenset({"column", "column_index"}),
    "expect_table_column_count_to_be_between": frozenset({"min_value", "max_value"}),
    "expect_table_column_count_to_equal": frozenset({"value"}),
    "expect_table_columns_to_match_ordered_list": frozenset({"column_list"}),
    "expect_table_columns_to_match_set": frozenset({"column_set", "exact_match"}),
    "expect_column_type_to_be": frozenset({"column", "type_"}),
    "expect_column_values_to_be_of_type": frozenset({"column", "type_", "mostly"}),
    "expect_column_values_to_be_in_type_list": frozenset({"column", "type_list", "mostly"}),
}


def register_pushdown_check(
    type_: str, kwargs: Iterable[str], *, needs_column: bool = True
) -> Callable[[Planner], Planner]:
    """Declare the decorated planner as the pushdown check of ``type_`` (once per type)."""

    def register(plan: Planner) -> Planner:
        if type_ in PUSHDOWN_CHECKS:
            raise ValueError(f"{type_} already has a pushdown check")
        PUSHDOWN_CHECKS[type_] = PushdownCheck(type_, frozenset(kwargs), plan, needs_column)
        return plan

    return register


def supported_types() -> list[str]:
    """Every expectation type the pushdown engines run."""
    return sorted({*PUSHDOWN_CHECKS, *SCHEMA_CHECKS})


def check_supported(suite: Suite, engine: str) -> None:
    """``SuiteError`` for the first expectation the pushdown engines cannot run as GE would."""
    for index, expectation in enumerate(suite.expectations):
        type_ = expectation.type
        accepted = SCHEMA_CHECKS.get(type_)
        if accepted is None and type_ in PUSHDOWN_CHECKS:
            accepted = PUSHDOWN_CHECKS[type_].kwargs
        where = f"{type_} (expectations[{index}])"
        if accepted is None:
            raise SuiteError(
                f"{where} is not supported by the {engine} engine (it runs "
                f"{len(supported_types())} types, listed by pushdown.supported_types()); "
                "validate this suite on the pandas engine, or drop the expectation"
            )
        extra = sorted(set(expectation.check_kwargs) - accepted)
        if extra:
            raise SuiteError(
                f"{where}: kwargs {extra} are not supported by the {engine} engine "
                "(row conditions and suite parameters run on the pandas engine only)"
            )


# -- the runner --------------------------------------------------------------------------------


def run_suite(
    backend: Backend,
    suite: str | Any | Mapping[str, Any] | Suite,
    *,
    sample_size: int = 20,
) -> ValidationResult:
    """Validate ``suite`` on ``backend``: one batched aggregate query for the whole suite."""
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
        raise SuiteError(f"sample_size must be a non-negative integer, not {sample_size!r}")
    parsed = load_suite(suite)
    check_supported(parsed, backend.name)
    types = backend.columns()
    outcomes: list[ExpectationOutcome | None] = [None] * len(parsed.expectations)
    plans: dict[int, Plan] = {}
    schema_indexes = []
    for index, expectation in enumerate(parsed.expectations):
        if expectation.type in SCHEMA_CHECKS:
            schema_indexes.append(index)
            continue
        check = PUSHDOWN_CHECKS[expectation.type]
        kwargs = expectation.check_kwargs
        column = kwargs.get("column")
        if column is not None and check.needs_column:
            if not isinstance(column, str):
                raise SuiteError(f"{expectation.type}: 'column' must be a column name string")
            if column not in types:
                outcomes[index] = _missing_column(expectation, column)
                continue
        plans[index] = check.plan(expectation, kwargs, types)
    if schema_indexes:
        for index, outcome in _schema_outcomes(
            backend, types, [(i, parsed.expectations[i]) for i in schema_indexes]
        ):
            outcomes[index] = outcome

    requests = list(dict.fromkeys(r for plan in plans.values() for r in plan.requests))
    requests = [Rows(), *(r for r in requests if r != Rows())]
    values = dict(zip(requests, backend.aggregate(requests), strict=True))
    for index, plan in plans.items():
        outcome = plan.decide([values[request] for request in plan.requests])
        if plan.sample is not None and outcome.unexpected_count and sample_size:
            outcome.partial_unexpected_list = backend.sample(plan.sample, sample_size)
        elif plan.sample_missing and outcome.unexpected_count:
            outcome.partial_unexpected_list = [None] * min(outcome.unexpected_count, sample_size)
        outcome.engine = backend.name
        outcomes[index] = outcome
    results = [outcome for outcome in outcomes if outcome is not None]
    return ValidationResult(
        success=all(outcome.success for outcome in results),
        suite_name=parsed.name,
        data_source=backend.source,
        row_count=int(values[Rows()]),
        results=results,
    )


def _schema_outcomes(
    backend: Backend, types: dict[str, ColumnType], items: list[tuple[int, Expectation]]
) -> Iterable[tuple[int, ExpectationOutcome]]:
    """Schema checks on the fast path over an empty frame with the equivalent pandas dtypes;
    a type name of the engine itself (GE's Spark or SQL datasource names) is checked directly."""
    import pandas as pd

    from mlops_common.validation import fast

    frame = pd.DataFrame({name: pd.Series([], dtype=t.pandas_dtype) for name, t in types.items()})
    for index, expectation in items:
        kwargs = expectation.check_kwargs
        column = kwargs.get("column")
        names = kwargs.get("type_list") if "type_list" in kwargs else [kwargs.get("type_")]
        if (
            expectation.type != "expect_column_to_exist"
            and isinstance(column, str)
            and column in types
            and isinstance(names, (list, tuple))
            and any(isinstance(n, str) for n in names)
        ):
            native = backend.native_type_names(types[column])
            if native & {n for n in names if isinstance(n, str)}:
                yield (
                    index,
                    _outcome(expectation, success=True, observed_value=types[column].native),
                )
                continue
        outcome = fast.run_fast(frame, expectation, 0)
        outcome.engine = backend.name
        if outcome.observed_value is not None and isinstance(column, str) and column in types:
            outcome.observed_value = f"{outcome.observed_value} ({types[column].native})"
        yield index, outcome


# -- shared semantics (GE's ColumnMapExpectation on counts) --------------------------------------


def _outcome(expectation: Expectation, **fields: Any) -> ExpectationOutcome:
    return ExpectationOutcome(
        expectation_type=expectation.type,
        column=expectation.column,
        kwargs=dict(expectation.kwargs),
        meta=dict(expectation.meta),
        **fields,
    )


def _missing_column(expectation: Expectation, name: Any) -> ExpectationOutcome:
    return _outcome(
        expectation,
        success=False,
        exception_message=f'Error: The column "{name}" in BatchData does not exist.',
    )


def _mostly(expectation: Expectation, kwargs: dict[str, Any]) -> float:
    mostly = kwargs.get("mostly", 1)
    if isinstance(mostly, bool) or not isinstance(mostly, Real) or not 0 <= mostly <= 1:
        raise SuiteError(
            f"{expectation.type}: 'mostly' must be a number from 0 to 1, not {mostly!r}"
        )
    return float(mostly)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _map_outcome(
    expectation: Expectation,
    *,
    unexpected: int,
    element_count: int,
    considered: int,
    mostly: float,
) -> ExpectationOutcome:
    """GE's map-expectation verdict: ``(considered - unexpected) / considered >= mostly``."""
    if element_count == 0 or considered == 0:
        success, percent = True, None
    else:
        success = (float(considered) - float(unexpected)) / float(considered) >= mostly
        percent = unexpected / considered * 100
    return _outcome(
        expectation,
        success=success,
        unexpected_count=int(unexpected),
        unexpected_percent=percent,
        element_count=int(element_count),
    )


def _column_map(expectation: Expectation, kwargs: dict[str, Any], ok: Predicate | None) -> Plan:
    """A null-ignoring column-map check: unexpected non-missing values of ``column``."""
    column = kwargs["column"]
    mostly = _mostly(expectation, kwargs)
    if ok is None:  # vacuously true (GE: no value_set)
        requests: list[Aggregate] = [Rows(), Present(column)]

        def vacuous(values: list[Any]) -> ExpectationOutcome:
            rows, present = values
            return _map_outcome(
                expectation, unexpected=0, element_count=rows, considered=present, mostly=mostly
            )

        return Plan(requests, vacuous)
    unexpected = Unexpected(column, ok)

    def decide(values: list[Any]) -> ExpectationOutcome:
        rows, present, count = values
        return _map_outcome(
            expectation, unexpected=count, element_count=rows, considered=present, mostly=mostly
        )

    return Plan([Rows(), Present(column), unexpected], decide, sample=unexpected)


def _numeric_column(
    expectation: Expectation, kwargs: dict[str, Any], types: dict[str, ColumnType], what: str
) -> None:
    column_type = types[kwargs["column"]]
    if not column_type.numeric:
        raise SuiteError(
            f"{expectation.type} on column {kwargs['column']!r} ({column_type.native}): "
            f"{what} of numbers only on this engine; validate it on the pandas engine"
        )


def _bounds(expectation: Expectation, kwargs: dict[str, Any]) -> Between:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    for bound in (low, high):
        if bound is not None and not _is_number(bound):
            raise SuiteError(
                f"{expectation.type}: bounds must be numbers on this engine, not {bound!r}"
            )
    return Between(low, high, bool(kwargs.get("strict_min")), bool(kwargs.get("strict_max")))


def _in_range(value: Any, bounds: Between) -> bool:
    if bounds.low is not None and not (
        value > bounds.low if bounds.strict_min else value >= bounds.low
    ):
        return False
    return bounds.high is None or (
        value < bounds.high if bounds.strict_max else value <= bounds.high
    )


def plain_value(value: Any) -> Any:
    """A Python number from an engine's value (Decimal, numpy) ; NaN becomes None."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _metric(expectation: Expectation, kwargs: dict[str, Any], value: Any) -> ExpectationOutcome:
    """GE's _validate_metric_value_between: a missing metric fails with observed None."""
    bounds = _bounds(expectation, kwargs)
    value = plain_value(value)
    if value is None:
        return _outcome(expectation, success=False, observed_value=None)
    return _outcome(expectation, success=_in_range(value, bounds), observed_value=value)


# -- column-map checks ---------------------------------------------------------------------------


@register_pushdown_check("expect_column_values_to_not_be_null", {"column", "mostly"})
def _not_be_null(expectation, kwargs, types):
    mostly = _mostly(expectation, kwargs)

    def decide(values):
        rows, present = values
        return _map_outcome(
            expectation,
            unexpected=rows - present,
            element_count=rows,
            considered=rows,  # GE's percent here is over all rows
            mostly=mostly,
        )

    return Plan([Rows(), Present(kwargs["column"])], decide, sample_missing=True)


@register_pushdown_check("expect_column_values_to_be_null", {"column", "mostly"})
def _be_null(expectation, kwargs, types):
    mostly = _mostly(expectation, kwargs)

    def decide(values):
        rows, present = values
        return _map_outcome(
            expectation, unexpected=present, element_count=rows, considered=rows, mostly=mostly
        )

    # Every present value is unexpected: an empty set holds none of them.
    present = Unexpected(kwargs["column"], InSet(()))
    return Plan([Rows(), Present(kwargs["column"])], decide, sample=present)


@register_pushdown_check("expect_column_values_to_be_between", {"column", "mostly", *BETWEEN_KEYS})
def _values_between(expectation, kwargs, types):
    bounds = _bounds(expectation, kwargs)
    if bounds.low is None and bounds.high is None:
        raise SuiteError(f"{expectation.type}: give min_value, max_value or both")
    if bounds.low is not None and bounds.high is not None and bounds.low > bounds.high:
        raise SuiteError(
            f"{expectation.type}: min_value {bounds.low} is greater than max_value {bounds.high}"
        )
    _numeric_column(expectation, kwargs, types, "bounds")
    return _column_map(expectation, kwargs, bounds)


def _value_set(expectation: Expectation, kwargs: dict[str, Any], column_type: ColumnType):
    """The value set as the values that can equal this column's values (pandas ``isin``:
    numbers match numbers, strings strings), or None when there is none (vacuous)."""
    value_set = kwargs.get("value_set")
    if value_set is None:
        return None
    if not isinstance(value_set, (list, tuple, set, frozenset)):
        raise SuiteError(f"{expectation.type}: 'value_set' must be a list of values")
    if column_type.kind in ("integer", "float"):
        kept = [v for v in value_set if _is_number(v) and not math.isnan(v)]
    elif column_type.kind == "boolean":
        kept = [v for v in value_set if isinstance(v, bool)]
    elif column_type.kind == "string":
        kept = [v for v in value_set if isinstance(v, str)]
    else:
        raise SuiteError(
            f"{expectation.type} on column {kwargs['column']!r} ({column_type.native}): sets of "
            "numbers, booleans or strings only on this engine; validate it on the pandas engine"
        )
    return tuple(dict.fromkeys(kept))


@register_pushdown_check("expect_column_values_to_be_in_set", {"column", "value_set", "mostly"})
def _in_set(expectation, kwargs, types):
    values = _value_set(expectation, kwargs, types[kwargs["column"]])
    return _column_map(expectation, kwargs, None if values is None else InSet(values))


@register_pushdown_check("expect_column_values_to_not_be_in_set", {"column", "value_set", "mostly"})
def _not_in_set(expectation, kwargs, types):
    values = _value_set(expectation, kwargs, types[kwargs["column"]])
    return _column_map(expectation, kwargs, None if values is None else InSet(values, False))


def _regex(expectation: Expectation, kwargs: dict[str, Any]) -> str:
    regex = kwargs.get("regex")
    if not isinstance(regex, str):
        raise SuiteError(f"{expectation.type}: 'regex' must be a string")
    return regex


@register_pushdown_check("expect_column_values_to_match_regex", {"column", "regex", "mostly"})
def _match_regex(expectation, kwargs, types):
    return _column_map(expectation, kwargs, Regex(_regex(expectation, kwargs)))


@register_pushdown_check("expect_column_values_to_not_match_regex", {"column", "regex", "mostly"})
def _not_match_regex(expectation, kwargs, types):
    return _column_map(expectation, kwargs, Regex(_regex(expectation, kwargs), matches=False))


def _string_column(expectation, kwargs, types) -> None:
    column_type = types[kwargs["column"]]
    if column_type.kind != "string":
        raise SuiteError(
            f"{expectation.type} on column {kwargs['column']!r} ({column_type.native}): lengths "
            "of strings only on this engine; validate it on the pandas engine"
        )


@register_pushdown_check(
    "expect_column_value_lengths_to_be_between", {"column", "mostly", *BETWEEN_KEYS}
)
def _lengths_between(expectation, kwargs, types):
    bounds = _bounds(expectation, kwargs)
    if bounds.low is None and bounds.high is None:
        raise SuiteError(f"{expectation.type}: give min_value, max_value or both")
    _string_column(expectation, kwargs, types)
    ok = Between(bounds.low, bounds.high, bounds.strict_min, bounds.strict_max, of="length")
    return _column_map(expectation, kwargs, ok)


@register_pushdown_check("expect_column_value_lengths_to_equal", {"column", "value", "mostly"})
def _lengths_equal(expectation, kwargs, types):
    value = kwargs.get("value")
    if not _is_number(value):
        raise SuiteError(f"{expectation.type}: 'value' must be a number")
    _string_column(expectation, kwargs, types)
    return _column_map(expectation, kwargs, Between(value, value, of="length"))


@register_pushdown_check("expect_column_values_to_be_unique", {"column", "mostly"})
def _unique(expectation, kwargs, types):
    column = kwargs["column"]
    mostly = _mostly(expectation, kwargs)
    duplicated = Duplicated((column,))

    def decide(values):
        rows, present, count = values
        return _map_outcome(
            expectation, unexpected=count, element_count=rows, considered=present, mostly=mostly
        )

    return Plan([Rows(), Present(column), duplicated], decide, sample=duplicated)


_MULTI_IGNORE = {"all_values_are_missing": "any_present", "any_value_is_missing": "present"}


@register_pushdown_check(
    "expect_compound_columns_to_be_unique",
    {"column_list", "mostly", "ignore_row_if"},
    needs_column=False,
)
def _compound_unique(expectation, kwargs, types):
    columns = kwargs.get("column_list")
    if not isinstance(columns, (list, tuple)) or not all(isinstance(c, str) for c in columns):
        raise SuiteError(f"{expectation.type}: 'column_list' must be a list of column names")
    missing = [c for c in columns if c not in types]
    if missing:
        return Plan([], lambda values: _missing_column(expectation, missing[0]))
    ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
    if ignore not in (*_MULTI_IGNORE, "never"):
        raise SuiteError(f"{expectation.type}: unknown ignore_row_if {ignore!r}")
    mostly = _mostly(expectation, kwargs)
    keep = _MULTI_IGNORE.get(ignore, "all")
    duplicated = Duplicated(tuple(columns), keep)
    kept = Kept(tuple(columns), keep)

    def decide(values):
        rows, considered, count = values
        return _map_outcome(
            expectation, unexpected=count, element_count=rows, considered=considered, mostly=mostly
        )

    return Plan([Rows(), kept, duplicated], decide, sample=duplicated)


# -- aggregates and the table ---------------------------------------------------------------------

_METRIC_KWARGS = frozenset({"column"} | BETWEEN_KEYS)


def _stat_check(type_: str, function: str) -> None:
    def plan(expectation, kwargs, types):
        _numeric_column(expectation, kwargs, types, function)
        _bounds(expectation, kwargs)
        return Plan(
            [Stat(kwargs["column"], function)],
            lambda values: _metric(expectation, kwargs, values[0]),
        )

    register_pushdown_check(type_, _METRIC_KWARGS)(plan)


for _type, _function in (
    ("expect_column_mean_to_be_between", "mean"),
    ("expect_column_median_to_be_between", "median"),
    ("expect_column_stdev_to_be_between", "stddev"),
    ("expect_column_min_to_be_between", "min"),
    ("expect_column_max_to_be_between", "max"),
    ("expect_column_sum_to_be_between", "sum"),
):
    _stat_check(_type, _function)


@register_pushdown_check("expect_column_unique_value_count_to_be_between", _METRIC_KWARGS)
def _unique_value_count(expectation, kwargs, types):
    _bounds(expectation, kwargs)
    return Plan(
        [Distinct(kwargs["column"])], lambda values: _metric(expectation, kwargs, values[0])
    )


@register_pushdown_check("expect_column_proportion_of_unique_values_to_be_between", _METRIC_KWARGS)
def _proportion_unique(expectation, kwargs, types):
    _bounds(expectation, kwargs)
    column = kwargs["column"]

    def decide(values):
        distinct, present = values
        return _metric(expectation, kwargs, distinct / present if present else 0)

    return Plan([Distinct(column), Present(column)], decide)


@register_pushdown_check(
    "expect_column_proportion_of_non_null_values_to_be_between", _METRIC_KWARGS
)
def _proportion_non_null(expectation, kwargs, types):
    _bounds(expectation, kwargs)

    def decide(values):
        rows, present = values
        return _metric(expectation, kwargs, present / rows if rows else 0)

    return Plan([Rows(), Present(kwargs["column"])], decide)


@register_pushdown_check("expect_table_row_count_to_be_between", BETWEEN_KEYS, needs_column=False)
def _row_count_between(expectation, kwargs, types):
    _bounds(expectation, kwargs)
    return Plan([Rows()], lambda values: _metric(expectation, kwargs, values[0]))


@register_pushdown_check("expect_table_row_count_to_equal", {"value"}, needs_column=False)
def _row_count_equal(expectation, kwargs, types):
    def decide(values):
        rows = int(values[0])
        return _outcome(expectation, success=rows == kwargs.get("value"), observed_value=rows)

    return Plan([Rows()], decide)
