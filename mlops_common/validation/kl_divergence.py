"""``expect_column_kl_divergence_to_be_less_than`` as Great Expectations 1.24 computes it on pandas.

GE compares the column's observed distribution with an expected *partition object*: either
continuous (``bins`` edges, ``weights`` per bin, optional ``tail_weights`` for the mass below the
first and above the last edge) or categorical (``values`` and their ``weights``). Without a
partition object GE builds one from the column itself ("auto" bins, or value counts when
``bucketize_data`` is false), which always passes. ``tail_weight_holdout`` and
``internal_weight_holdout`` reserve expected mass for values outside the partition or for empty
bins. The divergence is ``scipy.stats.entropy(observed, expected)``, computed here with numpy so
that scipy is not imported; an infinite or undefined divergence is reported as ``None``.

:func:`kl_divergence` is pure: a column of non-null values in, ``(divergence, details)`` out.
It raises :class:`PartitionError` with GE's own message where GE's check raises.

>>> import pandas as pd
>>> value, details = kl_divergence(
...     pd.Series([1.0, 1.5, 3.0, 3.5]), {"bins": [0, 2, 4], "weights": [0.5, 0.5]})
>>> value, details["observed_partition"]["weights"]
(0.0, [0.5, 0.5])
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "PartitionError",
    "auto_bins",
    "entropy",
    "is_categorical",
    "is_continuous",
    "is_valid_partition",
    "kl_divergence",
]


class PartitionError(ValueError):
    """The partition object or holdouts are invalid; the message is GE's."""


def _close_to_one(weights: Any) -> bool:
    import numpy as np

    return bool(np.allclose(np.sum(weights), 1))


def is_categorical(partition: Any) -> bool:
    """GE's is_valid_categorical_partition_object."""
    if partition is None or "weights" not in partition or "values" not in partition:
        return False
    return len(partition["values"]) == len(partition["weights"]) and _close_to_one(
        partition["weights"]
    )


def is_continuous(partition: Any) -> bool:
    """GE's is_valid_continuous_partition_object."""
    import numpy as np

    if partition is None or "weights" not in partition or "bins" not in partition:
        return False
    if "tail_weights" in partition:
        if len(partition["tail_weights"]) != 2:
            return False
        weights = list(partition["tail_weights"]) + list(partition["weights"])
    else:
        weights = partition["weights"]
    return (
        len(partition["bins"]) == len(partition["weights"]) + 1
        and bool(np.all(np.diff(partition["bins"]) > 0))
        and _close_to_one(weights)
    )


def is_valid_partition(partition: Any) -> bool:
    """Whether GE accepts ``partition`` as a continuous or categorical partition object."""
    return is_continuous(partition) or is_categorical(partition)


def entropy(pk: Any, qk: Any) -> float:
    """``scipy.stats.entropy(pk, qk)``: both normalised, then the sum of relative entropies."""
    import numpy as np

    pk = np.asarray(pk, dtype=float)
    qk = np.asarray(qk, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pk = 1.0 * pk / np.sum(pk)
        qk = qk / np.sum(qk)
        # scipy.special.rel_entr: x log(x/y) for x, y > 0; 0 for x == 0, y >= 0; else inf.
        terms = np.where(
            (pk > 0) & (qk > 0),
            pk * np.log(pk / qk),
            np.where((pk == 0) & (qk >= 0), 0.0, np.inf),
        )
        terms = np.where(np.isnan(pk) | np.isnan(qk), np.nan, terms)
    return float(np.sum(terms))


def auto_bins(values: Any) -> list[float]:
    """GE's ``column.partition`` with ``bins="auto"`` (numpy's Sturges/Freedman-Diaconis rule
    on nearest-rank quantiles) for a non-empty numeric column of non-null values."""
    import numpy as np

    count = len(values)
    sturges = np.log2(1.0 * count + 1.0)
    low, q25, q75, high = values.quantile((0.0, 0.25, 0.75, 1.0), interpolation="nearest")
    iqr = q75 - q25
    if iqr < 1.0e-10:
        n_bins = int(np.ceil(sturges))
    else:
        width = (2 * float(iqr)) / (count ** (1.0 / 3.0))
        n_bins = max(int(np.ceil(sturges)), int(np.ceil(float(high - low) / width)))
    return np.linspace(start=float(low), stop=float(high), num=n_bins + 1).tolist()


def kl_divergence(
    values: Any,
    partition: dict[str, Any] | None,
    *,
    tail_weight_holdout: float = 0,
    internal_weight_holdout: float = 0,
    bucketize_data: bool = True,
) -> tuple[float, dict[str, Any]]:
    """``(divergence, details)`` of the non-null ``values`` (a pandas Series) against
    ``partition``; ``details`` holds GE's observed and expected partitions."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return _kl_divergence(
            values, partition, tail_weight_holdout, internal_weight_holdout, bucketize_data
        )


def _kl_divergence(
    values: Any,
    partition: dict[str, Any] | None,
    tail_weight_holdout: float,
    internal_weight_holdout: float,
    bucketize_data: bool,
) -> tuple[float, dict[str, Any]]:
    import numpy as np

    count = len(values)
    if partition is None:
        if bucketize_data:
            bins = auto_bins(values)
            weights = list(np.histogram(values, bins, density=False)[0] / count)
            tail = (1 - sum(weights)) / 2
            partition = {"bins": bins, "weights": weights, "tail_weights": [tail, tail]}
        else:
            counts = _value_counts(values)
            partition = {
                "values": list(counts.index),
                "weights": list(np.array(counts) / count),
            }
    if not is_valid_partition(partition):
        raise PartitionError("Invalid partition object.")
    for name, holdout in (
        ("tail_weight_holdout", tail_weight_holdout),
        ("internal_weight_holdout", internal_weight_holdout),
    ):
        if not isinstance(holdout, (int, float)) or not 0 <= holdout <= 1:
            raise PartitionError(f"{name} must be between zero and one.")
    if tail_weight_holdout != 0 and "tail_weights" in partition:
        raise PartitionError(
            "tail_weight_holdout must be 0 when using tail_weights in partition object"
        )
    if is_categorical(partition):
        return _categorical(values, partition, tail_weight_holdout, internal_weight_holdout)
    if not bucketize_data:
        raise PartitionError(
            "KL Divergence cannot be computed with a continuous partition object and the "
            "bucketize_data parameter set to false."
        )
    return _continuous(values, partition, tail_weight_holdout, internal_weight_holdout)


def _value_counts(values: Any) -> Any:
    """GE's ``column.value_counts`` sorted by value (as text when values do not compare)."""
    counts = values.value_counts()
    try:
        counts = counts.sort_index()
    except TypeError:
        if values.dtype == object:
            counts.index = counts.index.astype(str)
            counts = counts.sort_index()
    counts.name = "count"
    counts.index.name = "value"
    return counts


def _categorical(
    values: Any, partition: dict[str, Any], tail_weight_holdout: float, internal: float
) -> tuple[float, dict[str, Any]]:
    import pandas as pd

    if internal > 0:
        raise PartitionError("Internal weight holdout cannot be used for discrete data.")
    observed = _value_counts(values) / len(values)
    expected = pd.Series(partition["weights"], index=partition["values"], name="expected")
    table = pd.concat([expected, observed], axis=1)
    na_counts = table.isnull().sum()
    pk = table["count"].fillna(0)
    if na_counts["expected"] > 0:
        table["expected"] *= 1 - tail_weight_holdout
        qk = table["expected"].fillna(tail_weight_holdout / na_counts["expected"])
    else:
        qk = table["expected"]
    index = table.index.tolist()
    return entropy(pk, qk), {
        "observed_partition": {"values": index, "weights": pk.tolist()},
        "expected_partition": {"values": index, "weights": qk.tolist()},
    }


def _continuous(
    values: Any, partition: dict[str, Any], tail_holdout: float, internal_holdout: float
) -> tuple[float, dict[str, Any]]:
    import numpy as np

    count = len(values)
    bins = partition["bins"]
    hist = np.histogram(values, bins, density=False)[0]
    # numpy scalars: an all-null column gives NaN shares (as in GE), not ZeroDivisionError.
    below = np.int64((values < bins[0]).sum())
    above = np.int64((values > bins[-1]).sum())
    observed = hist / count
    expected = np.array(partition["weights"]) * (1 - tail_holdout - internal_holdout)
    if internal_holdout > 0:
        zero_count = len(expected) - np.count_nonzero(expected)
        if zero_count > 0:
            expected[expected == 0] = internal_holdout / zero_count
    no_tails = "There can be no tail weights for partitions with one or both endpoints at infinity"
    if bins[0] == -np.inf and bins[-1] == np.inf:
        if tail_holdout > 0:
            raise PartitionError(
                "tail_weight_holdout cannot be used for partitions with infinite endpoints."
            )
        if "tail_weights" in partition:
            raise PartitionError(no_tails)
        edges = bins[1:-1]
        all_expected, all_observed = expected, observed
        expected_tails = np.array([expected[0], expected[-1]])
        observed_tails = np.array([observed[0], observed[-1]])
        expected, observed = expected[1:-1], observed[1:-1]
    elif bins[0] == -np.inf:
        if "tail_weights" in partition:
            raise PartitionError(no_tails)
        edges = bins[1:]
        all_expected = np.concatenate((expected, [tail_holdout]))
        expected_tails = np.array([expected[0], tail_holdout])
        all_observed = np.concatenate((observed, [above / count]))
        observed_tails = np.array([observed[0], above / count])
        expected, observed = expected[1:], observed[1:]
    elif bins[-1] == np.inf:
        if "tail_weights" in partition:
            raise PartitionError(no_tails)
        edges = bins[:-1]
        all_expected = np.concatenate(([tail_holdout], expected))
        expected_tails = np.array([tail_holdout, expected[-1]])
        all_observed = np.concatenate(([below / count], observed))
        observed_tails = np.array([below / count, observed[-1]])
        expected, observed = expected[:-1], observed[:-1]
    else:
        edges = bins
        if "tail_weights" in partition:
            tails = partition["tail_weights"]
            all_expected = np.concatenate(([tails[0]], expected, [tails[1]]))
            expected_tails = np.array(tails)
        else:
            all_expected = np.concatenate(([tail_holdout / 2], expected, [tail_holdout / 2]))
            expected_tails = np.array([tail_holdout / 2, tail_holdout / 2])
        all_observed = np.concatenate(([below / count], observed, [above / count]))
        observed_tails = np.array([below, above]) / count
    return entropy(all_observed, all_expected), {
        "observed_partition": {
            "bins": edges,
            "weights": observed.tolist(),
            "tail_weights": observed_tails.tolist(),
        },
        "expected_partition": {
            "bins": edges,
            "weights": expected.tolist(),
            "tail_weights": expected_tails.tolist(),
        },
    }
