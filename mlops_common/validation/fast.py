"""The vectorized engine: GE 1.24's core expectations computed with pandas/numpy, GE semantics.

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
from mlops_common.validation import arrow_text, lean_stats
from mlops_common.validation.result import FAST, ExpectationOutcome
from mlops_common.validation.suite import Expectation

__all__ = [
    "BETWEEN_KEYS",
    "FAST_CHECKS",
    "FAST_EXPECTATIONS",
    "ROW_CONDITION_KEYS",
    "SQL_ONLY",
    "STRING_DTYPE_NAMES",
    "Check",
    "FastCheck",
    "Unsupported",
    "register_fast_check",
    "run_fast",
    "supports",
]

BETWEEN_KEYS = frozenset({"min_value", "max_value", "strict_min", "strict_max"})
ROW_CONDITION_KEYS = frozenset({"row_condition", "condition_parser"})

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
    type_: str,
    kwargs: Iterable[str],
    *,
    needs_column: bool = True,
    row_condition: bool = True,
) -> Callable[[Check], Check]:
    """Declare the decorated function as the fast check of expectation ``type_``.

    ``kwargs`` are the expectation kwargs it reproduces exactly; an expectation with any other
    (or with a suite parameter) is left to Great Expectations. Each type is declared once.
    ``row_condition``: whether GE accepts ``row_condition``/``condition_parser`` on this type;
    the fast path applies pandas-syntax conditions itself (``DataFrame.query``, as GE does).

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
        accepted = frozenset(kwargs) | (ROW_CONDITION_KEYS if row_condition else frozenset())
        FAST_CHECKS[type_] = FastCheck(type_, accepted, check, needs_column)
        return check

    return register


class Unsupported(Exception):
    """This expectation, on this data, is left to Great Expectations."""


def supports(expectation: Expectation) -> bool:
    """Whether the fast path may handle ``expectation`` (kwargs known, no suite parameters)."""
    fast = FAST_CHECKS.get(expectation.type)
    if fast is None:
        return False
    if fast.type in SQL_ONLY:
        return True  # fails whatever its kwargs, as GE does on pandas
    kwargs = expectation.check_kwargs
    if not set(kwargs) <= fast.kwargs:
        return False
    return not any(_is_suite_parameter(value) for value in kwargs.values())


def _is_suite_parameter(value: Any) -> bool:
    return isinstance(value, dict) and "$PARAMETER" in value


def run_fast(df: Any, expectation: Expectation, sample_size: int) -> ExpectationOutcome:
    """Evaluate one expectation on ``df`` (never modified); raise ``Unsupported`` if unsure."""
    if not supports(expectation):
        raise Unsupported(expectation.type)
    fast = FAST_CHECKS[expectation.type]
    kwargs = expectation.check_kwargs
    df = _apply_row_condition(df, kwargs)
    kwargs = {key: value for key, value in kwargs.items() if key not in ROW_CONDITION_KEYS}
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


def _apply_row_condition(df: Any, kwargs: dict[str, Any]) -> Any:
    """The rows GE's pandas engine would validate: ``df.query(row_condition)``, parser pandas.

    GE's own condition syntax (``condition_parser="great_expectations"``) and condition objects
    are left to GE.
    """
    condition = kwargs.get("row_condition")
    if not condition:
        return df
    if not isinstance(condition, str) or kwargs.get("condition_parser") != "pandas":
        raise Unsupported("row_condition outside pandas query syntax")
    try:
        return df.query(condition, parser="pandas")
    except Exception as exc:  # GE reports the same failure as an exception message
        raise Unsupported(f"row_condition {condition!r} failed: {exc}") from exc


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


def _first(mask: Any, count: int) -> Any:
    """Positions of the first ``count`` True values of ``mask``: a sample of offending rows
    without copying every offending row first."""
    import numpy as np

    return np.flatnonzero(mask)[:count]


def _sample(series: Any, mask: Any, sample_size: int) -> list[Any]:
    return [_python(value) for value in series.iloc[_first(mask, sample_size)].tolist()]


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
        **_missing(element_count, nonnull_count),
    )


def _missing(element_count: int, considered: int | None) -> dict[str, Any]:
    """GE's missing_count/missing_percent of a map expectation: the rows it did not consider
    (nulls, or rows ``ignore_row_if`` dropped); none for ``not_be_null``."""
    if considered is None:
        return {}
    missing = element_count - considered
    return {
        "missing_count": missing,
        "missing_percent": missing / element_count * 100 if element_count > 0 else None,
    }


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


@register_fast_check(
    "expect_column_to_exist", {"column", "column_index"}, needs_column=False, row_condition=False
)
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
    return ~arrow_text.isin(series, list(value_set)) & nonnull


@register_fast_check("expect_column_values_to_not_be_in_set", {"column", "value_set", "mostly"})
@_column_map
def _values_not_in_set(series, nonnull, expectation, kwargs):
    value_set = _value_set(expectation, kwargs)
    if value_set is None:
        return None
    return arrow_text.isin(series, list(value_set)) & nonnull


@register_fast_check("expect_column_values_to_be_unique", {"column", "mostly"})
@_column_map
def _values_unique(series, nonnull, expectation, kwargs):
    if nonnull.all() and _unique_without_nulls(series):
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
    # pyarrow text answers nulls as False in place; any other column is matched without them.
    whole = nonnull.all() or arrow_text.is_pyarrow_text(series)
    values = series if whole else series[nonnull]
    matched = arrow_text.contains(_as_text(values), regex)
    if whole:
        return ~matched & nonnull
    mask = np.zeros(len(series), dtype=bool)
    mask[nonnull] = ~matched  # a boolean scatter: no index arrays the size of the column
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

        value = _lean_metric(series.to_numpy(), metric)
        if value is None:
            with np.errstate(invalid="ignore"):  # inf - inf in a stdev is GE's NaN too
                value = getattr(series, metric)()  # skipna, as GE's metrics on non-null values
        return _metric_between(expectation, kwargs, value)

    return check


def _lean_metric(values: Any, metric: str) -> Any:
    """The metric without pandas' full-column copies where that gives pandas' answer, else None
    (min and max never copy; integers are summed and averaged without a copy already)."""
    if not lean_stats.supported(values):
        return None
    if metric == "median":
        return lean_stats.median(values)
    if metric == "std" or (metric in ("sum", "mean") and values.dtype.kind == "f"):
        return lean_stats.reduce(values, metric)
    return None


_METRIC_KWARGS = frozenset({"column"} | BETWEEN_KEYS)
register_fast_check("expect_column_mean_to_be_between", _METRIC_KWARGS)(_aggregate("mean"))
register_fast_check("expect_column_median_to_be_between", _METRIC_KWARGS)(_aggregate("median"))
register_fast_check("expect_column_stdev_to_be_between", _METRIC_KWARGS)(_aggregate("std"))
register_fast_check("expect_column_min_to_be_between", _METRIC_KWARGS)(_aggregate("min"))
register_fast_check("expect_column_max_to_be_between", _METRIC_KWARGS)(_aggregate("max"))


def _unique_without_nulls(series: Any) -> bool:
    """No nulls and no repeated value; numbers without a hash table (see lean_stats)."""
    from mlops_common.validation import lean_stats

    if series.hasnans:
        return False
    # to_numpy() only on numpy dtypes: on text it would build an array of Python strings.
    if _is_plain_numeric(series) and lean_stats.supported(values := series.to_numpy()):
        return lean_stats.is_unique(values)
    return series.is_unique


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
        return _missing_column(expectation, missing[0])
    mostly = _mostly(expectation, kwargs)
    ignore = _ignore_row_if(expectation, kwargs, "all_values_are_missing", _MULTI_IGNORE)
    kept = _rows_kept(df, columns, ignore)
    considered = int(np.count_nonzero(kept))
    sample: list[dict[str, Any]] = []
    if any(_unique_without_nulls(df[c]) for c in columns):
        # One column alone is a key: no combination can repeat (no copy, no hashing of rows).
        unexpected = 0
    else:
        frame = df[list(columns)]
        domain = frame if considered == len(frame) else frame[kept]
        duplicated = domain.duplicated(keep=False).to_numpy()
        unexpected = int(duplicated.sum())
        if unexpected:
            sample = domain.iloc[_first(duplicated, sample_size)].to_dict("records")
    rows = len(df)
    success = True
    if rows and considered:
        success = (float(considered) - unexpected) / float(considered) >= mostly
    return _outcome(
        expectation,
        success=success,
        unexpected_count=unexpected,
        unexpected_percent=unexpected / considered * 100 if rows and considered else None,
        element_count=rows,
        partial_unexpected_list=[{k: _python(v) for k, v in row.items()} for row in sample],
        **_missing(rows, considered),
    )


# -- more column-map checks ------------------------------------------------------------------


def _scatter(nonnull: Any, bad: Any) -> Any:
    """A whole-column mask from ``bad``, computed on the non-null values only."""
    import numpy as np

    bad = np.asarray(bad, dtype=bool)
    if len(bad) == len(nonnull) and nonnull.all():
        return bad
    mask = np.zeros(len(nonnull), dtype=bool)
    mask[nonnull] = bad  # a boolean scatter: no index arrays the size of the column
    return mask


def _on_values(ok: Callable[..., Any]) -> Callable[..., Any]:
    """A null-ignoring mask builder from ``ok(non-null values, expectation, kwargs) -> bool``."""

    def build(series, nonnull, expectation, kwargs):
        values = series if nonnull.all() else series[nonnull]
        good = ok(values, expectation, kwargs)
        bad = ~good.to_numpy(dtype=bool, na_value=False) if hasattr(good, "to_numpy") else ~good
        return _scatter(nonnull, bad)

    return build


def _map_check(type_: str, kwargs: Iterable[str]) -> Callable[..., Check]:
    """Register ``ok(values, expectation, kwargs)`` as a null-ignoring column-map check."""

    def register(ok: Callable[..., Any]) -> Check:
        check = _column_map(_on_values(ok))
        register_fast_check(type_, {"column", "mostly", *kwargs})(check)
        return check

    return register


def _lengths(values: Any) -> Any:
    return values.astype(str).str.len()


@_map_check("expect_column_value_lengths_to_be_between", BETWEEN_KEYS)
def _value_lengths_between(values, expectation, kwargs):
    low, high, strict_min, strict_max = _between_bounds(expectation, kwargs)
    if low is None and high is None:
        raise Unsupported("no bounds")  # GE raises its own configuration error
    return _in_range(_lengths(values), low, high, strict_min, strict_max)


@_map_check("expect_column_value_lengths_to_equal", {"value"})
def _value_lengths_equal(values, expectation, kwargs):
    return _lengths(values) == kwargs.get("value")


def _as_text(values: Any) -> Any:
    """``values`` as text for the regex checks, as GE reads them (``astype(str)``); a column that
    is already of pandas' string dtype is used as it is (the cast copied all of it)."""
    import pandas as pd

    return values if isinstance(values.dtype, pd.StringDtype) else values.astype(str)


def _regex_matches(values: Any, regex: Any, expectation: Expectation) -> Any:
    if not isinstance(regex, str):
        raise SuiteError(f"{expectation.type}: each regex must be a string")
    return arrow_text.contains(_as_text(values), regex)


def _regex_list(expectation: Expectation, kwargs: dict[str, Any]) -> list[str]:
    regexes = kwargs.get("regex_list")
    if not isinstance(regexes, (list, tuple)) or not regexes:
        raise SuiteError(f"{expectation.type}: 'regex_list' must be a non-empty list of regexes")
    return list(regexes)


@_map_check("expect_column_values_to_not_match_regex", {"regex"})
def _not_match_regex(values, expectation, kwargs):
    return ~_regex_matches(values, kwargs.get("regex"), expectation)


@_map_check("expect_column_values_to_match_regex_list", {"regex_list", "match_on"})
def _match_regex_list(values, expectation, kwargs):
    import numpy as np

    matches = [_regex_matches(values, r, expectation) for r in _regex_list(expectation, kwargs)]
    match_on = kwargs.get("match_on", "any")
    if match_on not in ("any", "all"):
        raise SuiteError(f"{expectation.type}: match_on must be 'any' or 'all'")
    combine = np.logical_or if match_on == "any" else np.logical_and
    return combine.reduce(matches)


@_map_check("expect_column_values_to_not_match_regex_list", {"regex_list"})
def _not_match_regex_list(values, expectation, kwargs):
    import numpy as np

    matches = [_regex_matches(values, r, expectation) for r in _regex_list(expectation, kwargs)]
    return ~np.logical_or.reduce(matches)


def _all_strings(values: Any) -> None:
    if not all(isinstance(value, str) for value in values.tolist()):
        raise Unsupported("values that are not strings (GE raises a TypeError)")


@_map_check("expect_column_values_to_be_dateutil_parseable", ())
def _dateutil_parseable(values, expectation, kwargs):
    import numpy as np
    from dateutil.parser import parse

    _all_strings(values)
    cache: dict[str, bool] = {}
    for value in set(values.tolist()):
        try:
            parse(value)
            cache[value] = True
        except (ValueError, OverflowError):
            cache[value] = False
    return np.array([cache[value] for value in values.tolist()], dtype=bool)


@_map_check("expect_column_values_to_match_strftime_format", {"strftime_format"})
def _strftime_format(values, expectation, kwargs):
    from datetime import datetime

    import numpy as np

    fmt = kwargs.get("strftime_format")
    if not isinstance(fmt, str):
        raise SuiteError(f"{expectation.type}: 'strftime_format' must be a string")
    _all_strings(values)
    cache: dict[str, bool] = {}
    for value in set(values.tolist()):
        try:
            datetime.strptime(value, fmt)
            cache[value] = True
        except ValueError:
            cache[value] = False
    return np.array([cache[value] for value in values.tolist()], dtype=bool)


def _json_ok(values: Any, schema: Any = None) -> Any:
    import json

    import numpy as np

    if schema is not None:
        import jsonschema

    cache: dict[Any, bool] = {}
    out = []
    for value in values.tolist():
        key = value if isinstance(value, (str, bytes)) else id(value)
        if key not in cache:
            try:
                parsed = json.loads(value)
            except Exception:
                if schema is not None:
                    raise Unsupported(
                        "a value that is not JSON (GE reports the exception)"
                    ) from None
                cache[key] = False
            else:
                if schema is None:
                    cache[key] = True
                else:
                    try:
                        jsonschema.validate(parsed, schema)
                        cache[key] = True
                    except jsonschema.ValidationError:
                        cache[key] = False
        out.append(cache[key])
    return np.array(out, dtype=bool)


@_map_check("expect_column_values_to_be_json_parseable", ())
def _json_parseable(values, expectation, kwargs):
    return _json_ok(values)


@_map_check("expect_column_values_to_match_json_schema", {"json_schema"})
def _json_schema(values, expectation, kwargs):
    schema = kwargs.get("json_schema")
    if not isinstance(schema, dict):
        raise SuiteError(f"{expectation.type}: 'json_schema' must be a JSON object")
    return _json_ok(values, schema)


def _monotonic(values: Any, kwargs: dict[str, Any], sign: int) -> Any:
    import pandas as pd

    if not (_is_plain_numeric(values) or pd.api.types.is_datetime64_any_dtype(values)):
        raise Unsupported("order of a non-numeric column")
    diff = values.diff() if sign > 0 else -values.diff()
    zero = pd.Timedelta(0) if pd.api.types.is_timedelta64_dtype(diff.dtype) else 0
    in_order = diff > zero if kwargs.get("strictly") else diff >= zero
    return in_order | diff.isnull()


@_map_check("expect_column_values_to_be_increasing", {"strictly"})
def _increasing(values, expectation, kwargs):
    return _monotonic(values, kwargs, 1)


@_map_check("expect_column_values_to_be_decreasing", {"strictly"})
def _decreasing(values, expectation, kwargs):
    return _monotonic(values, kwargs, -1)


def _numeric_values(values: Any, what: str) -> Any:
    if not _is_plain_numeric(values) or values.dtype.kind == "b":
        raise Unsupported(f"{what} of a non-numeric column")
    return values


@_map_check("expect_column_value_z_scores_to_be_less_than", {"threshold", "double_sided"})
def _z_scores(values, expectation, kwargs):
    import numpy as np

    values = _numeric_values(values, "z-scores")
    threshold = kwargs.get("threshold")
    if not _is_number(threshold):
        raise SuiteError(f"{expectation.type}: 'threshold' must be a number")
    with np.errstate(invalid="ignore"):
        std = values.std()
        if std is None or std == 0:
            return np.ones(len(values), dtype=bool)
        z = (values - values.mean()) / std
    under = z.abs() < abs(threshold) if kwargs.get("double_sided") else z < threshold
    return under | z.isna()


@_map_check("expect_column_values_to_not_be_outliers", {"method", "multiplier"})
def _not_outliers(values, expectation, kwargs):
    import numpy as np

    values = _numeric_values(values, "outliers")
    method = kwargs.get("method", "iqr")
    multiplier = kwargs.get("multiplier", 1.5)
    if method not in ("iqr", "std") or not _is_number(multiplier):
        raise Unsupported(f"outlier method {method!r}")
    if method == "iqr":
        q1, q3 = (float(q) for q in values.quantile([0.25, 0.75]))  # one copy, not two
        low, high, spread = q1, q3, q3 - q1
    else:
        low = high = float(values.mean())
        spread = float(values.std())
    if any(np.isnan(v) for v in (low, high, spread)):
        return np.ones(len(values), dtype=bool)
    threshold = multiplier * spread
    if method == "iqr":
        return (values >= low - threshold) & (values <= high + threshold)
    if threshold <= 0:
        return values == low
    return (values - low).abs() < threshold


@register_fast_check("expect_column_values_to_be_null", {"column", "mostly"})
def _be_null(df, expectation, kwargs, sample_size):
    series = df[kwargs["column"]]
    return _map_outcome(
        expectation,
        series,
        series.notna().to_numpy(),
        element_count=len(series),
        nonnull_count=None,
        mostly=_mostly(expectation, kwargs),
        sample_size=sample_size,
    )


# -- more column aggregates --------------------------------------------------------------------


register_fast_check("expect_column_sum_to_be_between", _METRIC_KWARGS)(_aggregate("sum"))


@register_fast_check("expect_column_unique_value_count_to_be_between", _METRIC_KWARGS)
def _unique_value_count(df, expectation, kwargs, sample_size):
    return _metric_between(expectation, kwargs, _distinct_count(df[kwargs["column"]]))


def _distinct_count(series: Any) -> int:
    """``series.nunique()``; numbers from one sorted copy instead of a hash table."""
    from mlops_common.validation import lean_stats

    if _is_plain_numeric(series) and lean_stats.supported(values := series.to_numpy()):
        return lean_stats.distinct_count(values)
    return int(series.nunique())


@register_fast_check("expect_column_proportion_of_unique_values_to_be_between", _METRIC_KWARGS)
def _proportion_unique(df, expectation, kwargs, sample_size):
    series = df[kwargs["column"]]
    nonnull = int(series.notna().sum())
    value = _distinct_count(series) / nonnull if nonnull else 0  # GE: 0 without values
    return _metric_between(expectation, kwargs, value)


@register_fast_check("expect_column_proportion_of_non_null_values_to_be_between", _METRIC_KWARGS)
def _proportion_non_null(df, expectation, kwargs, sample_size):
    series = df[kwargs["column"]]
    value = int(series.notna().sum()) / len(series) if len(series) else 0
    return _metric_between(expectation, kwargs, value)


@register_fast_check(
    "expect_column_most_common_value_to_be_in_set", {"column", "value_set", "ties_okay"}
)
def _most_common_value(df, expectation, kwargs, sample_size):
    modes = [_python(value) for value in df[kwargs["column"]].mode().tolist()]
    expected = set(_value_set(expectation, kwargs) or [])
    hits = len(expected.intersection(modes))
    success = hits > 0 if kwargs.get("ties_okay") else len(modes) == 1 and hits == 1
    return _outcome(expectation, success=success, observed_value=modes)


def _distinct(df: Any, column: str) -> set[Any]:
    """The column's distinct non-null values, built as GE builds them (same set order)."""
    import datetime

    values = df[column].dropna().unique()
    kind = getattr(getattr(values, "dtype", None), "kind", "")
    found = {_python(value) for value in values.tolist()}
    if kind in ("m", "M") or any(isinstance(v, (datetime.date, datetime.time)) for v in found):
        raise Unsupported("distinct dates (GE coerces the value set to the column's type)")
    return found


def _sorted(values: Iterable[Any]) -> list[Any]:
    """Sorted as GE sorts unexpected distinct values; mixed types stay in set order, as in GE."""
    values = list(values)
    try:
        return sorted(values)
    except TypeError:
        return values


_MAX_DISTINCT_VALUES = 20


def _distinct_sets(df, expectation, kwargs):
    """``(unexpected, missing)``: distinct values outside ``value_set`` (sorted) and expected
    values absent from the column (in GE's set order, which it does not sort)."""
    value_set = _value_set(expectation, kwargs)
    if not value_set:
        raise Unsupported("empty value_set (GE rejects it)")
    column = _distinct(df, kwargs["column"])
    expected = set(value_set)
    return _sorted(column - expected), list(expected - column)


def _distinct_outcome(expectation, sample_size, success, unexpected=None, missing=None):
    """GE's result fields for a distinct-set expectation: counts always, lists unless the
    sample size is 0, both capped at 20 values."""
    fields: dict[str, Any] = {}
    if unexpected is not None:
        fields["unexpected_count"] = len(unexpected)
        fields["partial_unexpected_list"] = unexpected[:_MAX_DISTINCT_VALUES] if sample_size else []
    if missing is not None:
        fields["missing_count"] = len(missing)
        fields["partial_missing_list"] = missing[:_MAX_DISTINCT_VALUES] if sample_size else []
    return _outcome(expectation, success=success, **fields)


@register_fast_check("expect_column_distinct_values_to_be_in_set", {"column", "value_set"})
def _distinct_in_set(df, expectation, kwargs, sample_size):
    unexpected, _ = _distinct_sets(df, expectation, kwargs)
    return _distinct_outcome(expectation, sample_size, not unexpected, unexpected=unexpected)


@register_fast_check("expect_column_distinct_values_to_contain_set", {"column", "value_set"})
def _distinct_contain_set(df, expectation, kwargs, sample_size):
    _, missing = _distinct_sets(df, expectation, kwargs)
    return _distinct_outcome(expectation, sample_size, not missing, missing=missing)


@register_fast_check("expect_column_distinct_values_to_equal_set", {"column", "value_set"})
def _distinct_equal_set(df, expectation, kwargs, sample_size):
    unexpected, missing = _distinct_sets(df, expectation, kwargs)
    return _distinct_outcome(
        expectation,
        sample_size,
        not unexpected and not missing,
        unexpected=unexpected,
        missing=missing,
    )


@register_fast_check(
    "expect_column_quantile_values_to_be_between",
    {"column", "quantile_ranges", "allow_relative_error"},
)
def _quantiles(df, expectation, kwargs, sample_size):
    import math

    series = df[kwargs["column"]]
    if not _is_plain_numeric(series) or series.dtype.kind == "b":
        raise Unsupported("quantiles of a non-numeric column")
    ranges = kwargs.get("quantile_ranges")
    if not isinstance(ranges, dict) or not {"quantiles", "value_ranges"} <= set(ranges):
        raise SuiteError(f"{expectation.type}: 'quantile_ranges' needs quantiles and value_ranges")
    quantiles, value_ranges = list(ranges["quantiles"]), list(ranges["value_ranges"])
    if len(quantiles) != len(value_ranges):
        raise Unsupported("quantiles and value_ranges of different lengths")
    interpolation = kwargs.get("allow_relative_error") or "nearest"
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise Unsupported(f"allow_relative_error {interpolation!r}")
    values = [_python(v) for v in series.quantile(quantiles, interpolation=interpolation)]
    ok = []
    for value, (low, high) in zip(values, value_ranges, strict=True):
        low = -math.inf if low is None else low
        high = math.inf if high is None else high
        ok.append(value is not None and not _isnan(value) and low <= value <= high)
    return _outcome(
        expectation,
        success=all(ok),
        observed_value={"quantiles": quantiles, "values": values},
        details={"success_details": ok},
    )


@register_fast_check(
    "expect_column_kl_divergence_to_be_less_than",
    {
        "column",
        "partition_object",
        "threshold",
        "tail_weight_holdout",
        "internal_weight_holdout",
        "bucketize_data",
        # GE 1.24 accepts these two and ignores them.
        "min_value",
        "max_value",
    },
)
def _kl_divergence(df, expectation, kwargs, sample_size):
    from mlops_common.validation import kl_divergence as kl

    series = df[kwargs["column"]]
    partition = kwargs.get("partition_object")
    bucketize = kwargs.get("bucketize_data", True)
    continuous = bucketize and not kl.is_categorical(partition)
    if continuous and (not _is_plain_numeric(series) or series.dtype.kind == "b"):
        raise Unsupported("a histogram of a non-numeric column")
    values = series.dropna()
    if partition is None and not len(values):
        raise Unsupported("a partition of a column without values")
    if partition is not None and not kl.is_valid_partition(partition):
        raise Unsupported("a partition object GE rejects before validating")
    threshold = kwargs.get("threshold")
    try:
        if threshold is not None and (not isinstance(threshold, (int, float)) or threshold < 0):
            raise kl.PartitionError("Threshold must be specified, greater than or equal to zero.")
        divergence, details = kl.kl_divergence(
            values,
            partition,
            tail_weight_holdout=kwargs.get("tail_weight_holdout", 0),
            internal_weight_holdout=kwargs.get("internal_weight_holdout", 0),
            bucketize_data=bucketize,
        )
    except kl.PartitionError as exc:
        return _outcome(expectation, success=False, exception_message=str(exc))
    finite = not (_isnan(divergence) or divergence in (float("inf"), float("-inf")))
    return _outcome(
        expectation,
        success=True if threshold is None else bool(divergence <= threshold),
        observed_value=divergence if finite else None,
        details=details,
    )


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and value != value


@register_fast_check("expect_column_type_to_be", {"column", "type_"}, row_condition=False)
def _column_type(df, expectation, kwargs, sample_size):
    import numpy as np
    import pandas as pd
    from pandas.api.types import pandas_dtype

    expected = kwargs.get("type_")
    actual = df[kwargs["column"]].dtype
    try:
        parsed = pandas_dtype(expected)
    except Exception:
        raise Unsupported(f"type {expected!r} that pandas does not know") from None
    if (
        isinstance(parsed, np.dtype)
        and parsed.kind in "mM"
        and (np.datetime_data(parsed)[0] == "generic")
    ):
        success = isinstance(actual, np.dtype) and actual.kind == parsed.kind
    elif isinstance(actual, pd.StringDtype) and isinstance(parsed, pd.StringDtype):
        success = str(actual) == str(parsed)
    else:
        success = actual in (parsed, expected)
    return _outcome(expectation, success=bool(success), observed_value=str(actual))


# -- column pairs and several columns ---------------------------------------------------------

_PAIR_IGNORE = ("both_values_are_missing", "either_value_is_missing", "neither")


def _pair_check(type_: str, kwargs: Iterable[str]) -> Callable[..., Check]:
    """Register ``ok(a, b, expectation, kwargs)`` as a column-pair map check."""

    def register(ok: Callable[..., Any]) -> Check:
        def check(df, expectation, kwargs, sample_size):
            import numpy as np

            names = [kwargs.get("column_A"), kwargs.get("column_B")]
            missing = [name for name in names if name not in df.columns]
            if missing:
                return _missing_column(expectation, missing[0])
            ignore = _ignore_row_if(expectation, kwargs, "both_values_are_missing", _PAIR_IGNORE)
            a, b = df[names[0]], df[names[1]]
            a_null, b_null = a.isna().to_numpy(), b.isna().to_numpy()
            if ignore == "both_values_are_missing":
                kept = ~(a_null & b_null)
            elif ignore == "either_value_is_missing":
                kept = ~(a_null | b_null)
            else:
                kept = np.ones(len(a), dtype=bool)
            a, b = a[kept], b[kept]
            good = ok(a, b, expectation, kwargs)
            bad = ~np.asarray(good, dtype=bool)
            # Only the sample becomes Python objects; the count comes from the mask.
            shown = _first(bad, sample_size)
            first = a.iloc[shown].tolist(), b.iloc[shown].tolist()
            rows = [(_python(x), _python(y)) for x, y in zip(*first, strict=True)]
            unexpected = int(bad.sum())
            return _multi_outcome(expectation, unexpected, rows, int(kept.sum()), len(df))

        register_fast_check(type_, {"column_A", "column_B", "mostly", "ignore_row_if", *kwargs})(
            check
        )
        return check

    return register


def _ignore_row_if(
    expectation: Expectation, kwargs: dict[str, Any], default: str, allowed: tuple[str, ...]
) -> str:
    """The ``ignore_row_if`` mode of a pair or multicolumn check; a SuiteError when unknown."""
    ignore = kwargs.get("ignore_row_if", default)
    if ignore not in allowed:
        raise SuiteError(f"{expectation.type}: unknown ignore_row_if {ignore!r}")
    return ignore


def _rows_kept(df: Any, columns: list[str], ignore: str) -> Any:
    """The rows a multicolumn check considers under ``ignore_row_if`` (GE's semantics), one
    column at a time rather than through a copy of those columns."""
    import numpy as np

    kept = np.ones(len(df), dtype=bool)
    if ignore == "never":
        return kept
    if ignore == "all_values_are_missing":
        kept[:] = False
    combine = np.logical_or if ignore == "all_values_are_missing" else np.logical_and
    for column in columns:
        combine(kept, df[column].notna().to_numpy(), out=kept)
    return kept


def _missing_column(expectation: Expectation, name: Any) -> ExpectationOutcome:
    return _outcome(
        expectation,
        success=False,
        exception_message=f'Error: The column "{name}" in BatchData does not exist.',
    )


def _multi_outcome(expectation, unexpected, rows, considered, element_count):
    mostly = _mostly(expectation, expectation.check_kwargs)
    success = True
    if element_count and considered:
        success = (float(considered) - unexpected) / float(considered) >= mostly
    return _outcome(
        expectation,
        success=success,
        unexpected_count=unexpected,
        unexpected_percent=unexpected / considered * 100 if element_count and considered else None,
        element_count=element_count,
        partial_unexpected_list=rows,
        **_missing(element_count, considered),
    )


@_pair_check("expect_column_pair_values_to_be_equal", ())
def _pair_equal(a, b, expectation, kwargs):
    return (a.to_numpy() == b.to_numpy()) if len(a) else []


@_pair_check("expect_column_pair_values_a_to_be_greater_than_b", {"or_equal"})
def _pair_greater(a, b, expectation, kwargs):
    if not len(a):
        return []
    try:
        return (a >= b).to_numpy() if kwargs.get("or_equal") else (a > b).to_numpy()
    except TypeError:
        raise Unsupported("columns that do not compare") from None


@_pair_check("expect_column_pair_values_to_be_in_set", {"value_pairs_set"})
def _pair_in_set(a, b, expectation, kwargs):
    import pandas as pd

    pairs = kwargs.get("value_pairs_set")
    if pairs is None:
        return [True] * len(a)
    allowed = {(x, y) for x, y in pairs}
    return [
        (None if pd.isnull(x) else x, None if pd.isnull(y) else y) in allowed
        for x, y in zip(a.tolist(), b.tolist(), strict=False)
    ]


_MULTI_IGNORE = ("all_values_are_missing", "any_value_is_missing", "never")


def _multi_check(type_: str, kwargs: Iterable[str]) -> Callable[..., Check]:
    """Register ``ok(frame, expectation, kwargs)`` as a multicolumn map check."""

    def register(ok: Callable[..., Any]) -> Check:
        def check(df, expectation, kwargs, sample_size):
            import numpy as np

            columns = kwargs.get("column_list")
            if not isinstance(columns, (list, tuple)) or not all(
                isinstance(c, str) for c in columns
            ):
                raise SuiteError(f"{expectation.type}: 'column_list' must be column names")
            missing = [c for c in columns if c not in df.columns]
            if missing:
                return _missing_column(expectation, missing[0])
            ignore = _ignore_row_if(expectation, kwargs, "all_values_are_missing", _MULTI_IGNORE)
            frame = _columns_view(df, columns)
            kept = _rows_kept(df, columns, ignore)
            domain = frame if kept.all() else frame[kept]
            bad = ~np.asarray(ok(domain, expectation, kwargs), dtype=bool)
            rows = [
                {k: _python(v) for k, v in row.items()}
                for row in domain.iloc[_first(bad, sample_size)].to_dict("records")
            ]
            return _multi_outcome(expectation, int(bad.sum()), rows, len(domain), len(frame))

        register_fast_check(type_, {"column_list", "mostly", "ignore_row_if", *kwargs})(check)
        return check

    return register


def _columns_view(df: Any, columns: list[str]) -> Any:
    """``df[columns]`` without copying the data (one block per column, shared with ``df``)."""
    import pandas as pd

    if len(set(columns)) < len(columns):
        return df[list(columns)]  # a repeated name: pandas' own selection semantics
    return pd.DataFrame({name: df[name] for name in columns}, copy=False)


@_multi_check("expect_multicolumn_sum_to_equal", {"sum_total"})
def _multicolumn_sum(frame, expectation, kwargs):
    import numpy as np

    if not all(_is_plain_numeric(frame[c]) for c in frame.columns):
        raise Unsupported("sum of non-numeric columns")
    dtypes = {frame[c].dtype for c in frame.columns}
    if len(dtypes) == 1 and next(iter(dtypes)).kind in "if":
        # One dtype: pandas adds the columns left to right, as here, without a 2-D copy.
        total = frame[frame.columns[0]].to_numpy().copy()
        for column in frame.columns[1:]:
            np.add(total, frame[column].to_numpy(), out=total)
        return total == kwargs.get("sum_total")
    return (frame.sum(axis=1, skipna=False) == kwargs.get("sum_total")).to_numpy()


@_multi_check("expect_multicolumn_values_to_be_equal", ())
def _multicolumn_equal(frame, expectation, kwargs):
    return (frame.nunique(axis=1, dropna=False) == 1).to_numpy()


@_multi_check("expect_select_column_values_to_be_unique_within_record", ())
def _unique_within_record(frame, expectation, kwargs):
    return (frame.nunique(axis=1, dropna=False) == len(frame.columns)).to_numpy()


# -- the table ----------------------------------------------------------------------------------


@register_fast_check("expect_table_row_count_to_equal", {"value"})
def _row_count_equal(df, expectation, kwargs, sample_size):
    return _outcome(expectation, success=len(df) == kwargs.get("value"), observed_value=len(df))


@register_fast_check(
    "expect_table_column_count_to_be_between", {"min_value", "max_value"}, row_condition=False
)
def _column_count_between(df, expectation, kwargs, sample_size):
    return _metric_between(expectation, kwargs, len(df.columns))


@register_fast_check("expect_table_column_count_to_equal", {"value"}, row_condition=False)
def _column_count_equal(df, expectation, kwargs, sample_size):
    count = len(df.columns)
    return _outcome(expectation, success=count == kwargs.get("value"), observed_value=count)


@register_fast_check(
    "expect_table_columns_to_match_ordered_list", {"column_list"}, row_condition=False
)
def _columns_ordered(df, expectation, kwargs, sample_size):
    import itertools

    expected = kwargs.get("column_list")
    actual = list(df.columns)
    if expected is None or actual == list(expected):
        return _outcome(expectation, success=True, observed_value=actual)
    mismatched = [
        {"Expected Column Position": i, "Expected": want, "Found": found}
        for i, want, found in itertools.zip_longest(
            range(max(len(expected), len(actual))), list(expected), actual
        )
        if want != found
    ]
    return _outcome(
        expectation, success=False, observed_value=actual, details={"mismatched": mismatched}
    )


@register_fast_check(
    "expect_table_columns_to_match_set", {"column_set", "exact_match"}, row_condition=False
)
def _columns_set(df, expectation, kwargs, sample_size):
    expected = set(kwargs.get("column_set") or [])
    actual = set(df.columns)
    exact = kwargs.get("exact_match", True)
    observed = sorted(map(str, actual))
    unexpected, missing = sorted(map(str, actual - expected)), sorted(map(str, expected - actual))
    if not (unexpected or missing):
        return _outcome(expectation, success=True, observed_value=observed)
    mismatched = {"unexpected": unexpected, "missing": missing}
    return _outcome(
        expectation,
        success=not exact and not missing,
        observed_value=observed,
        details={"mismatched": {key: value for key, value in mismatched.items() if value}},
    )


# -- SQL only ------------------------------------------------------------------------------------

#: Core types GE 1.24 registers but cannot run on a pandas batch (SQL LIKE patterns, queries,
#: other tables). They fail the way GE reports them on pandas, without importing GE.
SQL_ONLY = frozenset(
    {
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_query_results_to_match_comparison",
        "expect_table_row_count_to_equal_other_table",
    }
)


def _sql_only(df, expectation, kwargs, sample_size):
    return _outcome(
        expectation,
        success=False,
        exception_message=(
            f"{expectation.type} runs only on SQL data sources, not on a pandas DataFrame"
        ),
    )


for _type in sorted(SQL_ONLY):
    register_fast_check(_type, (), needs_column=False)(_sql_only)
