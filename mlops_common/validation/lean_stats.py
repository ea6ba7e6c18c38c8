"""Column statistics as pandas computes them, with a fraction of the memory.

pandas' skipna reductions copy the whole column first (a float column with nulls is copied to
fill them; an integer column is cast to float64 for a standard deviation), and ``is_unique`` /
``nunique`` build a hash table several times the column's size. On a 1M-row frame those
copies, not the data, set the peak memory of a validation run. Here sums, means and standard
deviations run block by block (pandas' own two-pass algorithm, so results agree to rounding),
a median partitions one copy of the non-null values in place, and uniqueness is decided from
the column's order or one sorted copy.

Every function takes a 1-D numpy array of a numeric dtype (numpy int, uint or float64) and
returns what the pandas call named in its docstring returns.

>>> import numpy as np
>>> values = np.array([1.0, np.nan, 2.0, 4.0])
>>> reduce(values, "mean"), median(values), is_unique(values[~np.isnan(values)])
(2.3333333333333335, 2.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

__all__ = ["BLOCK", "distinct_count", "is_unique", "median", "reduce", "supported"]

#: Rows per block of the blockwise reductions (tests lower it to cross block edges).
BLOCK = 1 << 16


def supported(values: Any) -> bool:
    """Whether these functions reproduce pandas on ``values``: integers or float64."""
    return values.ndim == 1 and (values.dtype.kind in "iu" or values.dtype.name == "float64")


def _blocks(values: Any) -> Iterator[Any]:
    for start in range(0, len(values), BLOCK):
        yield values[start : start + BLOCK]


def reduce(values: Any, metric: str) -> float:
    """``Series.sum()``, ``.mean()`` or ``.std()`` (ddof 1) with nulls skipped, blockwise.

    pandas sums and averages integers without a copy (and sums them as integers): use this for
    those two on float64 columns, for the standard deviation on both.
    """
    import numpy as np

    floating = values.dtype.kind == "f"
    count, total = 0, 0.0
    for block in _blocks(values):
        if floating:
            nulls = np.isnan(block)
            count += block.size - int(np.count_nonzero(nulls))
            total += float(np.where(nulls, 0.0, block).sum())
        else:
            count += block.size
            total += float(block.sum(dtype=np.float64))
    if metric == "sum":
        return total
    if metric == "mean":
        return total / count if count else math.nan
    if metric != "std":
        raise ValueError(f"unknown metric {metric!r}")
    if count <= 1:
        return math.nan
    mean = total / count
    squares = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for block in _blocks(values):
            deviation = mean - block.astype(np.float64)
            deviation *= deviation
            if floating:
                deviation[np.isnan(block)] = 0.0  # only nulls: inf - inf stays NaN, as in pandas
            squares += float(deviation.sum())
    return math.sqrt(squares / (count - 1))


#: Values a median samples to bracket its middle; below a few times this, it partitions them all.
MEDIAN_SAMPLE = 1 << 13


def median(values: Any) -> float:
    """``Series.median()``: the middle order statistics, selected from a narrow band of values.

    A strided sample brackets the middle; one pass counts the values below the band and one
    copies the band (a few percent of the column), where a partition finds the middle ones.
    The answer is exact whatever the sample: when the band misses the middle (ordered or
    adversarial data), every non-null value is partitioned instead, as numpy's median does.
    """
    import numpy as np

    floating = values.dtype.kind == "f"
    count = values.size - int(np.count_nonzero(np.isnan(values))) if floating else values.size
    if not count:
        return math.nan
    ranks = [(count - 1) // 2, count // 2]  # numpy averages these two (the same one when odd)
    if count >= 4 * MEDIAN_SAMPLE:
        middle = _middle_from_band(values, ranks)
        if middle is not None:
            return middle
    kept = values[~np.isnan(values)] if floating else values.astype(np.float64)
    return float(np.median(kept, overwrite_input=True))


def _middle_from_band(values: Any, ranks: list[int]) -> float | None:
    """The median from the values between two sample quantiles, or None when they miss it."""
    import numpy as np

    sample = values[:: values.size // MEDIAN_SAMPLE].astype(np.float64)
    sample = np.sort(sample[~np.isnan(sample)])
    if sample.size < MEDIAN_SAMPLE // 2:
        return None  # mostly nulls: the band would be too wide to help
    # +-5 standard deviations of the sample median's rank: the band misses it once in ~10**6.
    spread = int(5 * math.sqrt(sample.size) / 2) + 1
    low = sample[max(sample.size // 2 - spread, 0)]
    high = sample[min(sample.size // 2 + spread, sample.size - 1)]
    below = int(np.count_nonzero(values < low))
    band = values[(values >= low) & (values <= high)]
    first, last = ranks[0] - below, ranks[1] - below
    if first < 0 or last >= band.size:
        return None
    band = band.astype(np.float64, copy=False)  # the band is a copy already: sort it in place
    band.partition([first, last] if last != first else first)
    # numpy's median: the mean of the two middle values, computed as (a + b) / 2 in float64.
    return float(band[first]) if first == last else float((band[first] + band[last]) / 2)


def is_unique(values: Any) -> bool:
    """``Series.is_unique`` for values without nulls: an ordered column answers without a copy,
    any other needs one sorted copy (no hash table)."""
    import numpy as np

    if values.size < 2:
        return True
    if values[1] != values[0]:
        ascending = bool(values[1] > values[0])
        for start in range(0, len(values) - 1, BLOCK):
            block = values[start : start + BLOCK + 1]
            after, before = block[1:], block[:-1]
            if not bool(np.all(after > before if ascending else after < before)):
                break
        else:
            return True  # strictly monotonic: no value can repeat
    ordered = np.sort(values)
    return not bool(np.any(ordered[1:] == ordered[:-1]))


def distinct_count(values: Any) -> int:
    """``Series.nunique()`` (nulls not counted) from one sorted copy of the non-null values."""
    import numpy as np

    kept = values[~np.isnan(values)] if values.dtype.kind == "f" else values.copy()
    if not kept.size:
        return 0
    kept.sort()
    return 1 + int(np.count_nonzero(kept[1:] != kept[:-1]))
