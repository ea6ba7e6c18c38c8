"""Regex and set membership on pyarrow-backed text columns, as pandas computes them, minus its
extra passes.

pandas 3 runs ``Series.str.contains`` on pyarrow strings with RE2 unless the pattern or the
data needs Python's ``re`` (lookarounds, ``\\s``; ``\\d``, ``\\w`` or ``\\b`` on non-ASCII text;
``$`` on text holding a newline). Deciding the data part costs pandas two passes over the
column (``string_is_ascii``, then a substring search for ``"\\n"``) that took 25 ms of a 73 ms
match on 1M codes, and turning the result into numpy another 10 ms. Here one look at the raw
UTF-8 bytes answers both data questions, and a pattern that passes pandas' pattern rules (plus
a few stricter ones) runs on RE2 directly. Anything else goes to pandas as before, so the
result is always the one pandas gives, and therefore the one Great Expectations sees
(``column.astype(str).str.contains(regex)``).

>>> import pandas as pd
>>> codes = pd.Series(["K0-1234", "K0-12x4", None], dtype="str")
>>> contains(codes, r"^K\\d-\\d{4}$").tolist()
[True, False, False]
>>> isin(codes, ["K0-1234"]).tolist()
[True, False, False]
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["contains", "is_pyarrow_text", "isin"]

# A ``\\u``, ``\\U`` or ``\\N{`` escape (preceded by an even number of backslashes): RE2 lacks them.
_UNICODE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\(?:[uU]|N\{)")


def is_pyarrow_text(values: Any) -> bool:
    """Whether ``values`` is a pandas string column stored in pyarrow."""
    import pandas as pd

    dtype = values.dtype
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _arrow_column(values: Any) -> Any:
    """The pyarrow ChunkedArray behind a pandas string column (zero-copy), or None."""
    return values.array.__arrow_array__() if is_pyarrow_text(values) else None


def _chunks(array: Any) -> list[Any]:
    return array.chunks if hasattr(array, "chunks") else [array]


def _plain_ascii(column: Any) -> bool:
    """Whether every value is ASCII without a newline, read from the UTF-8 bytes themselves."""
    import numpy as np
    import pyarrow as pa

    for chunk in _chunks(column):
        if not len(chunk):
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        _, offsets, data = chunk.buffers()
        ends = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        if data is None:
            continue  # only empty strings or nulls
        text = np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]]
        # Null slots may hold bytes too: counting them can only send a column to pandas.
        if text.size and (int(text.max()) >= 0x80 or bool(np.any(text == 0x0A))):
            return False
    return True


@lru_cache(maxsize=256)  # a suite asks about the same few patterns column after column
def _re2_safe(pattern: str) -> bool:
    """Whether pandas runs ``pattern`` on RE2 for ASCII text without newlines, and RE2 gives
    what Python's ``re`` gives there: pandas' own pattern rules, and stricter ones besides
    (inline flags, atomic groups, possessive repeats and ``\\Z``, which pandas rewrites, stay
    with pandas)."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:  # any parse problem is pandas' to report
        return False
    if _UNICODE_ESCAPE.search(pattern) or parsed.state.flags & ~re.UNICODE:
        return False
    refused_ops = {
        _parser.ASSERT,
        _parser.ASSERT_NOT,
        _parser.GROUPREF,
        _parser.GROUPREF_EXISTS,
        _parser.ATOMIC_GROUP,
        _parser.POSSESSIVE_REPEAT,
    }
    refused_args = {_parser.CATEGORY_SPACE, _parser.CATEGORY_NOT_SPACE, _parser.AT_END_STRING}

    def inner(op: Any, argument: Any) -> list[Any]:
        """The token lists nested in one token (groups, branches, repeats, classes)."""
        if op == _parser.SUBPATTERN:
            return [argument[3]]
        if op == _parser.BRANCH:
            return list(argument[1])
        if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
            return [argument[2]]
        return [argument] if op == _parser.IN else []

    def safe(tokens: Any) -> bool:
        for op, argument in tokens:
            if op in refused_ops:
                return False
            if op in (_parser.CATEGORY, _parser.AT) and argument in refused_args:
                return False
            if op == _parser.SUBPATTERN and (argument[1] or argument[2]):
                return False  # (?i:...) and other scoped flags
            if not all(safe(nested) for nested in inner(op, argument)):
                return False
        return True

    return safe(parsed)


def _bool_numpy(result: Any, length: int) -> Any:
    """A pyarrow boolean result as a numpy bool array, nulls False (no pandas round trip)."""
    import numpy as np

    parts = []
    for chunk in _chunks(result):
        validity, bits = chunk.buffers()
        count = chunk.offset + len(chunk)
        values = np.unpackbits(np.frombuffer(bits, np.uint8), count=count, bitorder="little")
        if validity is not None and chunk.null_count:
            values &= np.unpackbits(
                np.frombuffer(validity, np.uint8), count=count, bitorder="little"
            )
        parts.append(values[chunk.offset :].view(bool))
    return _joined(parts, length)


def _joined(parts: list[Any], length: int) -> Any:
    """Per-chunk numpy bool arrays as one array of ``length`` (no copy for a single chunk)."""
    import numpy as np

    if not parts:
        return np.zeros(length, dtype=bool)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def contains(text: Any, pattern: str) -> Any:
    """``text.str.contains(pattern)`` as a numpy bool array, nulls False."""
    column = _arrow_column(text)
    if column is None:
        return text.str.contains(pattern).to_numpy(dtype=bool, na_value=False)

    def match(values: Any) -> Any:
        if _re2_safe(pattern) and _plain_ascii(values):
            import pyarrow.compute as pc

            return _bool_numpy(pc.match_substring_regex(values, pattern), len(values))
        # pandas on the values themselves: its data-dependent choices read the same values.
        import pandas as pd

        own = text if values is column else pd.Series(pd.array(values, dtype=text.dtype))
        return own.str.contains(pattern).to_numpy(dtype=bool, na_value=False)

    return _per_distinct(column, match)


#: Rows a column's cardinality is judged from; at most this share distinct goes per distinct.
CARDINALITY_PROBE, FEW_DISTINCT = 1 << 14, 0.5


def _per_distinct(column: Any, answer: Any) -> Any:
    """``answer(values)`` (a numpy bool per value) over ``column``, nulls False; asked once per
    distinct value when a strided probe finds few of them (codes, categories: a 1M-row column
    of 9,000 codes matches a regex in half the time), else over the column as it is."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(column) < 4 * CARDINALITY_PROBE:
        return answer(column)
    step = len(column) // CARDINALITY_PROBE
    probe = column.take(pa.array(np.arange(0, len(column), step)))
    if len(pc.unique(probe)) > FEW_DISTINCT * len(probe):
        return answer(column)
    parts = []
    for chunk in column.chunks:
        encoded = pc.dictionary_encode(chunk)
        if not len(encoded.dictionary):  # nothing but nulls
            parts.append(np.zeros(len(chunk), dtype=bool))
            continue
        per_value = answer(encoded.dictionary)
        found = per_value[pc.fill_null(encoded.indices, 0).to_numpy()]
        if chunk.null_count:
            found &= chunk.is_valid().to_numpy(zero_copy_only=False)
        parts.append(found)
    return _joined(parts, len(column))


def isin(values: Any, value_set: list[Any]) -> Any:
    """``values.isin(value_set)`` as a numpy bool array (nulls False, as in pandas, unless the
    set holds a null)."""
    column = _arrow_column(values)
    if column is not None and value_set and all(isinstance(item, str) for item in value_set):
        import pyarrow as pa
        import pyarrow.compute as pc

        members = pa.array(value_set, type=column.type)
        return _bool_numpy(pc.is_in(column, value_set=members), len(values))
    return values.isin(value_set).to_numpy(dtype=bool)
