"""The vectorized engine: common expectations computed with pandas/numpy, GE 1.24 semantics.

Each check reproduces what Great Expectations 1.24 reports on a pandas batch: column-map
expectations ignore nulls (except ``not_be_null``), ``unexpected_percent`` is a share of the
non-null values, ``mostly`` compares ``(non-null - unexpected) / non-null`` and an all-null
column passes vacuously. Checks never copy the frame and only build element-wise masks when a
cheap aggregate (min/max, number of distinct values) cannot already prove the verdict.

Each check is declared once, with :func:`register_fast_check` naming its expectation type and
the kwargs it understands; :data:`FAST_CHECKS` and :data:`FAST_EXPECTATIONS` are derived from
those declarations. A check raises ``Unsupported`` when the data or kwargs fall outside what it
reproduces exactly (a datetime column, a suite parameter, a ``row_condition``...): the caller
hands those to GE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from mlops_common.errors import SuiteError
from mlops_common.validation.result import FAST, ExpectationOutcome
from mlops_common.validation.suite import Expectation

__all__ = [
    "BETWEEN_KEYS",
    "FAST_CHECKS",
    "FAST_EXPECTATIONS",
    "STRING_DTYPE_NAMES",
    "Check",
    "FastCheck",
    "Unsupported",
    "register_fast_check",
    "run_fast",
    "supports",
]

BETWEEN_KEYS = frozenset({"min_value", "max_value", "strict_min", "strict_max"})

# pandas 3 gives text columns the `str` dtype; GE 1.24 only accepts "str" for it, we also
# accept the names people wrote for text columns under pandas 2.
STRING_DTYPE_NAMES = frozenset({"str", "object", "string"})

#: ``check(df, expectation, kwargs, sample_size) -> ExpectationOutcome``
Check = Callable[[Any, Expectation, dict[str, Any], int], ExpectationOutcome]


@dataclass(frozen=True)
class FastCheck:
    """One expectation type on the fast path: the kwargs it understands and its check."""

    type: str
    kwargs: frozenset[str]
    check: Check
    #: Whether a ``column`` kwarg naming an absent column fails before the check runs.
    needs_column: bool = True


#: Every fast check by expectation type, filled by :func:`register_fast_check`.
FAST_CHECKS: dict[str, FastCheck] = {}


class _AcceptedKwargs(Mapping[str, frozenset[str]]):
    """A read-only view of :data:`FAST_CHECKS`: expectation type -> kwargs it understands."""

    def __getitem__(self, type_: str) -> frozenset[str]:
        return FAST_CHECKS[type_].kwargs

    def __iter__(self) -> Iterator[str]:
        return iter(FAST_CHECKS)

    def __len__(self) -> int:
        return len(FAST_CHECKS)

    def __repr__(self) -> str:
        return f"FAST_EXPECTATIONS({dict(self)!r})"


#: Expectation type -> the kwargs the fast path understands (anything else goes to GE).
FAST_EXPECTATIONS: Mapping[str, frozenset[str]] = _AcceptedKwargs()


def register_fast_check(
    type_: str, kwargs: Iterable[str], *, needs_column: bool = True
) -> Callable[[Check], Check]:
    """Declare the decorated function as the fast check of expectation ``type_``.

    ``kwargs`` are the expectation kwargs it reproduces exactly; an expectation with any other
    (or with a suite parameter) is left to Great Expectations. Each type is declared once.

    >>> @register_fast_check("expect_table_column_count_to_equal", {"value"})  # doctest: +SKIP
    ... def _column_count(df, expectation, kwargs, sample_size):
    ...     count = len(df.columns)
    ...     return _outcome(expectation, success=count == kwargs["value"], observed_value=count)
    >>> sorted(FAST_EXPECTATIONS["expect_column_to_exist"])
    ['column', 'column_index']
    """

    def register(check: Check) -> Check:
        if type_ in FAST_CHECKS:
            raise ValueError(f"{type_} already has a fast check")
        FAST_CHECKS[type_] = FastCheck(type_, frozenset(kwargs), check, needs_column)
        return check

    return register


class Unsupported(Exception):
    """This expectation, on this data, is left to Great Expectations."""


def supports(expectation: Expectation) -> bool:
    """Whether the fast path may handle ``expectation`` (kwargs known, no suite parameters)."""
    fast = FAST_CHECKS.get(expectation.type)
    if fast is None:
        return False
    kwargs = expectation.check_kwargs
    if not set(kwargs) <= fast.kwargs:
        return False
    return not any(isinstance(value, dict) for value in kwargs.values())


def run_fast(df: Any, expectation: Expectation, sample_size: int) -> ExpectationOutcome:
    """Evaluate one expectation on ``df`` (never modified); raise ``Unsupported`` if unsure."""
    if not supports(expectation):
        raise Unsupported(expectation.type)
    fast = FAST_CHECKS[expectation.type]
    kwargs = expectation.check_kwargs
    column = kwargs.get("column")
    if column is not None and fast.needs_column:
        if not isinstance(column, str):
            raise SuiteError(f"{expectation.type}: 'column' must be a column name string")
        if column not in df.columns:
            return _outcome(
                expectation,
                success=False,
                exception_message=f'Error: The column "{column}" in BatchData does not exist.',
            )
    return fast.check(df, expectation, kwargs, sample_size)


# -- helpers -------------------------------------------------------------------------------


def _outcome(expectation: Expectation, **fields: Any) -> ExpectationOutcome:
    return ExpectationOutcome(
        expectation_type=expectation.type,
        column=expectation.column,
        kwargs=dict(expectation.kwargs),
        meta=dict(expectation.meta),
        engine=FAST,
        **fields,
    )


def _mostly(expectation: Expectation, kwargs: dict[str, Any]) -> float:
    mostly = kwargs.get("mostly", 1)
    if isinstance(mostly, bool) or not isinstance(mostly, Real) or not 0 <= mostly <= 1:
        raise SuiteError(
            f"{expectation.type}: 'mostly' must be a number from 0 to 1, not {mostly!r}"
        )
    return float(mostly)


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def _sample(series: Any, mask: Any, sample_size: int) -> list[Any]:
    import numpy as np

    positions = np.flatnonzero(mask)[:sample_size]
    return [_python(value) for value in series.iloc[positions].tolist()]


def _is_plain_numeric(series: Any) -> bool:
    """numpy int/uint/float/bool dtypes, where GE compares vectorized (or elementwise, alike)."""
    import numpy as np

    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "iufb"


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _map_outcome(
    expectation: Expectation,
    series: Any,
    unexpected_mask: Any,
    *,
    element_count: int,
    nonnull_count: int | None,
    mostly: float,
    sample_size: int,
) -> ExpectationOutcome:
    """GE's ColumnMapExpectation._validate + _format_map_output, from an unexpected mask."""
    import numpy as np

    unexpected = int(np.count_nonzero(unexpected_mask)) if unexpected_mask is not None else 0
    considered = element_count if nonnull_count is None else nonnull_count
    if element_count == 0 or considered == 0:
        success = True
    else:
        success = (float(considered) - float(unexpected)) / float(considered) >= mostly
    if element_count > 0 and considered > 0:
        percent: float | None = unexpected / considered * 100
    else:
        percent = None
    sample = _sample(series, unexpected_mask, sample_size) if unexpected else []
    return _outcome(
        expectation,
        success=success,
        unexpected_count=unexpected,
        unexpected_percent=percent,
        element_count=element_count,
        partial_unexpected_list=sample,
    )


def _between_bounds(
    expectation: Expectation, kwargs: dict[str, Any]
) -> tuple[Any, Any, bool, bool]:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    for bound in (low, high):
        if bound is not None and not _is_number(bound):
            raise Unsupported("non-numeric bound")
    return low, high, bool(kwargs.get("strict_min")), bool(kwargs.get("strict_max"))


def _in_range(values: Any, low: Any, high: Any, strict_min: bool, strict_max: bool) -> Any:
    """Element-wise (or scalar) GE comparison; no bound means no limit on that side."""
    ok = True
    if low is not None:
        ok = (values > low) if strict_min else (values >= low)
    if high is not None:
        upper = (values < high) if strict_max else (values <= high)
        ok = upper if ok is True else ok & upper
    return ok


def _metric_between(
    expectation: Expectation, kwargs: dict[str, Any], value: Any
) -> ExpectationOutcome:
    """GE's _validate_metric_value_between for numbers: a null metric fails with None."""
    import pandas as pd

    low, high, strict_min, strict_max = _between_bounds(expectation, kwargs)
    if value is None or pd.isnull(value):
        return _outcome(expectation, success=False, observed_value=None)
    success = bool(_in_range(value, low, high, strict_min, strict_max))
    return _outcome(expectation, success=success, observed_value=_python(value))


# -- checks --------------------------------------------------------------------------------


@register_fast_check("expect_column_to_exist", {"column", "column_index"}, needs_column=False)
def _column_to_exist(df, expectation, kwargs, sample_size):
    name = kwargs.get("column")
    index = kwargs.get("column_index")
    columns = list(df.columns)
    if index:  # GE treats column_index 0 like no index at all
        try:
            success = columns[index] == name
        except (IndexError, TypeError):
            success = False
    else:
        success = name in columns
    return _outcome(expectation, success=bool(success))


@register_fast_check("expect_column_values_to_not_be_null", {"column", "mostly"})
def _not_be_null(df, expectation, kwargs, sample_size):
    series = df[kwargs["column"]]
    null_mask = series.isna().to_numpy()
    return _map_outcome(
        expectation,
        series,
        null_mask,
        element_count=len(series),
        nonnull_count=None,  # GE's percent here is over all rows
        mostly=_mostly(expectation, kwargs),
        sample_size=sample_size,
    )


def _column_map(
    build_mask: Callable[..., Any],
) -> Callable[..., ExpectationOutcome]:
    """Decorator: a null-ignoring column-map check from ``build_mask(series, nonnull,
    expectation, kwargs)``.

    ``build_mask`` returns an unexpected mask over the whole column (nulls False), or None when
    an aggregate already proved that nothing is unexpected.
    """

    def check(df, expectation, kwargs, sample_size):
        mostly = _mostly(expectation, kwargs)
        series = df[kwargs["column"]]
        nonnull = series.notna().to_numpy()
        nonnull_count = int(nonnull.sum())
        mask = None if nonnull_count == 0 else build_mask(series, nonnull, expectation, kwargs)
        return _map_outcome(
            expectation,
            series,
            mask,
            element_count=len(series),
            nonnull_count=nonnull_count,
            mostly=mostly,
            sample_size=sample_size,
        )

    return check


@register_fast_check("expect_column_values_to_be_between", {"column", "mostly", *BETWEEN_KEYS})
@_column_map
def _values_between(series, nonnull, expectation, kwargs):
    low, high, strict_min, strict_max = _between_bounds(expectation, kwargs)
    if low is None and high is None:
        raise SuiteError(f"{expectation.type}: give min_value, max_value or both")
    if low is not None and high is not None and low > high:
        raise SuiteError(f"{expectation.type}: min_value {low} is greater than max_value {high}")
    if not _is_plain_numeric(series):
        raise Unsupported("between on a non-numeric column")
    import numpy as np

    # The column's extremes decide most passing checks without an element-wise mask.
    values = series.to_numpy()
    if values.dtype.kind == "f":
        lowest, highest = np.nanmin(values), np.nanmax(values)
    else:
        lowest, highest = values.min(), values.max()
    if bool(_in_range(lowest, low, high, strict_min, strict_max)) and bool(
        _in_range(highest, low, high, strict_min, strict_max)
    ):
        return None
    return ~_in_range(values, low, high, strict_min, strict_max) & nonnull


def _value_set(expectation, kwargs):
    value_set = kwargs.get("value_set")
    if value_set is not None and not isinstance(value_set, (list, tuple, set, frozenset)):
        raise SuiteError(f"{expectation.type}: 'value_set' must be a list of values")
    return value_set


@register_fast_check("expect_column_values_to_be_in_set", {"column", "value_set", "mostly"})
@_column_map
def _values_in_set(series, nonnull, expectation, kwargs):
    value_set = _value_set(expectation, kwargs)
    if value_set is None:
        return None  # GE: vacuously true
    return ~series.isin(list(value_set)).to_numpy() & nonnull


@register_fast_check("expect_column_values_to_not_be_in_set", {"column", "value_set", "mostly"})
@_column_map
def _values_not_in_set(series, nonnull, expectation, kwargs):
    value_set = _value_set(expectation, kwargs)
    if value_set is None:
        return None
    return series.isin(list(value_set)).to_numpy() & nonnull


@register_fast_check("expect_column_values_to_be_unique", {"column", "mostly"})
@_column_map
def _values_unique(series, nonnull, expectation, kwargs):
    if nonnull.all() and series.is_unique:
        return None
    # Nulls are ignored by GE; their own duplicates never make a non-null value a duplicate.
    return series.duplicated(keep=False).to_numpy() & nonnull


@register_fast_check("expect_column_values_to_match_regex", {"column", "regex", "mostly"})
@_column_map
def _values_match_regex(series, nonnull, expectation, kwargs):
    import numpy as np

    regex = kwargs.get("regex")
    if not isinstance(regex, str):
        raise SuiteError(f"{expectation.type}: 'regex' must be a string")
    values = series if nonnull.all() else series[nonnull]
    matched = values.astype(str).str.contains(regex).to_numpy(dtype=bool, na_value=False)
    if values is series:
        return ~matched
    mask = np.zeros(len(series), dtype=bool)
    mask[np.flatnonzero(nonnull)[~matched]] = True
    return mask


# GE resolves type names through numpy, pandas and a small native map (type_comparison.py).
def _native_types(name: str) -> tuple[type, ...]:
    return {
        "none": (type(None),),
        "bool": (bool,),
        "int": (int,),
        "long": (int,),
        "float": (float,),
        "bytes": (bytes,),
        "complex": (complex,),
        "str": (str,),
        "string_types": (str,),
        "list": (list,),
        "dict": (dict,),
    }.get(name.lower(), ())


def _scalar_types(name: str) -> list[Any]:
    """Types a value may be an instance of (column_values.of_type / in_type_list metrics)."""
    import numpy as np
    import pandas as pd

    found: list[Any] = []
    try:
        found.append(np.dtype(name).type)
    except TypeError:
        for module in (pd, pd.core.dtypes.dtypes):
            candidate = getattr(module, name, None)
            if isinstance(candidate, type):
                found.append(candidate)
    found.extend(_native_types(name))
    return found


def _dtype_matches_type(dtype: Any, name: str) -> bool:
    """ExpectColumnValuesToBeOfType._validate_pandas."""
    return dtype.type in _scalar_types(name)


def _dtype_in_type_list(dtype: Any, names: list[str]) -> bool:
    """ExpectColumnValuesToBeInTypeList._validate_pandas (compares the dtype object)."""
    import numpy as np
    import pandas as pd

    candidates: list[Any] = []
    for name in names:
        try:
            candidates += [np.dtype(name).type, np.dtype(name)]
        except TypeError:
            candidate = getattr(pd, name, None)
            if isinstance(candidate, type):
                candidates.append(candidate)
                try:
                    instance = candidate()
                except TypeError:
                    instance = None
                if isinstance(instance, pd.api.extensions.ExtensionDtype):
                    candidates.append(instance)
            candidate = getattr(pd.core.dtypes.dtypes, name, None)
            if isinstance(candidate, type):
                candidates.append(candidate)
        candidates.extend(_native_types(name))
    return dtype in candidates


def _is_string_dtype(dtype: Any) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.StringDtype)


def _object_type_check(df, expectation, kwargs, sample_size, names: list[str], message: str):
    """The element-wise path GE takes for object columns: isinstance on each non-null value."""
    comp: list[Any] = []
    for name in names:
        comp += _scalar_types(name)
    if not comp:
        return _outcome(expectation, success=False, exception_message=message)
    allowed = tuple(comp)

    def mask(series, nonnull, expectation, kwargs):
        import numpy as np

        # One type() call per value in C, one isinstance per distinct type in Python.
        kinds = series.map(type, na_action="ignore").to_numpy()
        bad = [kind for kind in set(kinds[nonnull].tolist()) if not issubclass(kind, allowed)]
        if not bad:
            return None
        return np.isin(kinds, np.array(bad, dtype=object)) & nonnull

    return _column_map(mask)(df, expectation, kwargs, sample_size)


@register_fast_check("expect_column_values_to_be_of_type", {"column", "type_", "mostly"})
def _of_type(df, expectation, kwargs, sample_size):
    name = kwargs.get("type_")
    if name is not None and not isinstance(name, str):
        raise SuiteError(f"{expectation.type}: 'type_' must be a type name string")
    dtype = df[kwargs["column"]].dtype
    observed = dtype.type.__name__
    if name is None:
        return _outcome(expectation, success=True, observed_value=observed)
    if _is_string_dtype(dtype) and name in STRING_DTYPE_NAMES:
        return _outcome(expectation, success=True, observed_value=observed)
    if observed == "object_" and name not in ("object", "object_", "O"):
        message = f"Unrecognized numpy/python type: {name}"
        return _object_type_check(df, expectation, kwargs, sample_size, [name], message)
    return _outcome(expectation, success=_dtype_matches_type(dtype, name), observed_value=observed)


@register_fast_check("expect_column_values_to_be_in_type_list", {"column", "type_list", "mostly"})
def _in_type_list(df, expectation, kwargs, sample_size):
    names = kwargs.get("type_list")
    if names is not None and (
        not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)
    ):
        raise SuiteError(f"{expectation.type}: 'type_list' must be a list of type names")
    dtype = df[kwargs["column"]].dtype
    observed = dtype.type.__name__
    if names is None:
        return _outcome(expectation, success=True, observed_value=observed)
    if _is_string_dtype(dtype) and STRING_DTYPE_NAMES.intersection(names):
        return _outcome(expectation, success=True, observed_value=observed)
    if observed == "object_":
        message = f"No recognized numpy/python type in list: {list(names)}"
        return _object_type_check(df, expectation, kwargs, sample_size, list(names), message)
    success = _dtype_in_type_list(dtype, list(names))
    return _outcome(expectation, success=bool(success), observed_value=observed)


@register_fast_check("expect_table_row_count_to_be_between", BETWEEN_KEYS)
def _table_row_count(df, expectation, kwargs, sample_size):
    return _metric_between(expectation, kwargs, len(df))


def _aggregate(metric: str) -> Callable[..., ExpectationOutcome]:
    def check(df, expectation, kwargs, sample_size):
        series = df[kwargs["column"]]
        if not _is_plain_numeric(series):
            raise Unsupported(f"{metric} of a non-numeric column")
        import numpy as np

        with np.errstate(invalid="ignore"):  # inf - inf in a stdev is GE's NaN too
            value = getattr(series, metric)()  # skipna, as GE's metrics on non-null values
        return _metric_between(expectation, kwargs, value)

    return check


_METRIC_KWARGS = frozenset({"column"} | BETWEEN_KEYS)
register_fast_check("expect_column_mean_to_be_between", _METRIC_KWARGS)(_aggregate("mean"))
register_fast_check("expect_column_median_to_be_between", _METRIC_KWARGS)(_aggregate("median"))
register_fast_check("expect_column_stdev_to_be_between", _METRIC_KWARGS)(_aggregate("std"))
register_fast_check("expect_column_min_to_be_between", _METRIC_KWARGS)(_aggregate("min"))
register_fast_check("expect_column_max_to_be_between", _METRIC_KWARGS)(_aggregate("max"))


def _unique_without_nulls(series: Any) -> bool:
    return not series.hasnans and series.is_unique


@register_fast_check(
    "expect_compound_columns_to_be_unique", {"column_list", "mostly", "ignore_row_if"}
)
def _compound_unique(df, expectation, kwargs, sample_size):
    import numpy as np

    columns = kwargs.get("column_list")
    if not isinstance(columns, (list, tuple)) or not all(isinstance(c, str) for c in columns):
        raise SuiteError(f"{expectation.type}: 'column_list' must be a list of column names")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        return _outcome(
            expectation,
            success=False,
            exception_message=f'Error: The column "{missing[0]}" in BatchData does not exist.',
        )
    mostly = _mostly(expectation, kwargs)
    ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
    frame = df[list(columns)]
    if ignore == "all_values_are_missing":
        kept = frame.notna().any(axis=1).to_numpy()
    elif ignore == "any_value_is_missing":
        kept = frame.notna().all(axis=1).to_numpy()
    elif ignore == "never":
        kept = np.ones(len(frame), dtype=bool)
    else:
        raise SuiteError(f"{expectation.type}: unknown ignore_row_if {ignore!r}")
    domain = frame if kept.all() else frame[kept]
    if any(_unique_without_nulls(df[c]) for c in columns):
        # One column alone is a key: no combination can repeat (and no hashing of rows).
        duplicated = np.zeros(len(domain), dtype=bool)
    else:
        duplicated = domain.duplicated(keep=False).to_numpy()
    unexpected = int(duplicated.sum())
    considered = len(domain)
    success = True
    if len(frame) and considered:
        success = (float(considered) - unexpected) / float(considered) >= mostly
    sample = domain[duplicated].head(sample_size).to_dict("records") if unexpected else []
    return _outcome(
        expectation,
        success=success,
        unexpected_count=unexpected,
        unexpected_percent=unexpected / considered * 100 if len(frame) and considered else None,
        element_count=len(frame),
        partial_unexpected_list=[{k: _python(v) for k, v in row.items()} for row in sample],
    )
