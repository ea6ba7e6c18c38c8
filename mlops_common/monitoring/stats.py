"""The statistics behind drift detection, as pure functions over numpy arrays and counts.

:func:`~mlops_common.monitoring.detect_drift` chooses columns and applies thresholds; everything
it measures is computed here, so it can be read, tested and reused on its own. numpy and scipy
are imported inside the functions.

Definitions:

* **Missing** means NaN/None, and for numeric columns also ``+inf``/``-inf``
  (:func:`sorted_finite`). Missing values are dropped before PSI, KS and chi-square.
* **Numeric bins** (:func:`quantile_bins`) come from the reference quantiles
  ``np.quantile(reference, linspace(0, 1, bins + 1))``, de-duplicated (ties collapse bins); the
  inner edges cut the line into left-closed bins ``[a, b)`` and the outer bins are open, so
  current values beyond the reference range count in the first/last bin. When fewer than 3
  distinct edges remain (a constant or two-valued reference), each distinct value gets its own bin
  plus the open intervals around it (``< v``, ``= v``, ``> v``), so a shift away from a constant
  still shows.
* **Categorical bins** (:func:`category_bins`) are one bin per reference category plus one
  ``<unseen>`` bin for every current value the reference never had.
* **PSI** (:func:`psi_from_counts`) is ``sum((c - r) * ln(c / r))`` over bin shares, where a zero
  share is replaced by ``epsilon`` (1e-4 by default) so empty bins neither divide by zero nor
  take a log of zero.
* **KS** (:func:`ks_2samp_sorted`): statistic and p-value as :func:`scipy.stats.ks_2samp`
  (two-sided, same ``auto`` rule: exact when both samples have at most 10,000 values, asymptotic
  otherwise). The statistic is computed on the sorted samples (one stable merge, no per-value
  binary search); in exact mode scipy itself is called, which is cheap at those sizes. The
  asymptotic p-value is scipy's own ``kstwo.sf(D, round(n1 * n2 / (n1 + n2)))``: when
  ``2.2 <= n * D**2 < 370`` (mild drift in large samples) scipy evaluates it as an exact O(n)
  sum, about 0.5 s at n = 500,000, the same cost ``ks_2samp`` pays.
* **Chi-square** (:func:`chi2_from_counts`): :func:`scipy.stats.chi2_contingency` on the 2 x K
  table of reference and current counts per category (``correction=False``), i.e. a test that
  both samples come from the same distribution. A goodness-of-fit test against reference shares
  (``chisquare``) would divide by zero on unseen categories, which this table handles as an
  ordinary column.
* **Effect sizes**, the measures that do not shrink to "significant" as samples grow:
  :func:`wasserstein_sorted` (earth mover's distance, as :func:`scipy.stats.wasserstein_distance`;
  divided by the reference standard deviation it is Evidently's "normed" Wasserstein),
  :func:`jensenshannon_from_counts` (Jensen-Shannon distance of two category shares, natural log,
  as :func:`scipy.spatial.distance.jensenshannon`).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "KS_CHUNK",
    "KS_MAX_AUTO_N",
    "UNSEEN",
    "Cut",
    "bin_counts",
    "category_bins",
    "category_counts",
    "chi2_from_counts",
    "jensenshannon_from_counts",
    "ks_2samp_sorted",
    "ks_p_value",
    "ks_statistic_sorted",
    "pool_sparse_categories",
    "psi_from_counts",
    "quantile_bins",
    "shares",
    "sorted_finite",
    "wasserstein_sorted",
]

#: The label of the bin of current categories the reference never had.
UNSEEN = "<unseen>"
#: ``scipy.stats.ks_2samp``: ``method="auto"`` is exact up to this sample size.
KS_MAX_AUTO_N = 10_000
# Values gathered at once while marking distinct values in the KS merge (bounds extra memory).
KS_CHUNK = 1 << 18

#: A cut point: a value and the ``numpy.searchsorted`` side that places it.
Cut = tuple[float, str]


def sorted_finite(values: Any) -> tuple[np.ndarray, int]:
    """The sorted finite values of ``values`` (a Series or array) and how many were missing.

    One sort; NaN, ``None`` and ``+-inf`` are cut off its ends. The input is never modified.

    >>> import numpy as np
    >>> finite, missing = sorted_finite(np.array([3.0, np.nan, 1.0, np.inf]))
    >>> finite.tolist(), missing
    ([1.0, 3.0], 2)
    """
    import numpy as np

    if hasattr(values, "to_numpy"):
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=np.float64)
    ordered = np.sort(array)  # a copy: the caller's data is never touched
    low = int(np.searchsorted(ordered, -np.inf, side="right"))
    high = int(np.searchsorted(ordered, np.inf, side="left"))  # NaN sorts after +inf
    finite = ordered[low:high]
    return finite, array.size - finite.size


def quantile_bins(reference: np.ndarray, bins: int) -> tuple[list[Cut], list[str]]:
    """Cut points from the quantiles of ``reference`` (finite values), and the bin labels.

    There is one label more than there are cuts: the bins are the gaps between the cuts and the
    open intervals on either side.

    >>> import numpy as np
    >>> cuts, labels = quantile_bins(np.arange(10.0), 2)
    >>> cuts, labels
    ([(4.5, 'left')], ['< 4.5', '>= 4.5'])
    >>> " | ".join(quantile_bins(np.zeros(5), 10)[1])  # a constant: the value and each side
    '< 0 | = 0 | > 0'
    """
    import numpy as np

    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)))
    values = [float(v) for v in edges]
    if len(values) >= 3:
        inner = values[1:-1]
        cuts = [(v, "left") for v in inner]
        labels = [f"< {inner[0]:.4g}"]
        labels += [f"[{a:.4g}, {b:.4g})" for a, b in pairwise(inner)]
        labels.append(f">= {inner[-1]:.4g}")
        return cuts, labels
    # A constant or two-valued reference: each value is a bin, and so is each gap around it.
    cuts, labels = [], [f"< {values[0]:.4g}"]
    for i, v in enumerate(values):
        cuts += [(v, "left"), (v, "right")]
        labels.append(f"= {v:.4g}")
        if i + 1 < len(values):
            labels.append(f"({v:.4g}, {values[i + 1]:.4g})")
    labels.append(f"> {values[-1]:.4g}")
    return cuts, labels


def bin_counts(sorted_values: np.ndarray, cuts: list[Cut]) -> np.ndarray:
    """How many of ``sorted_values`` fall in each bin that ``cuts`` delimit (one binary search
    per cut, no pass over the data).

    >>> import numpy as np
    >>> bin_counts(np.array([1.0, 2.0, 5.0, 7.0]), [(4.5, "left")]).tolist()
    [2, 2]
    """
    import numpy as np

    positions = [int(np.searchsorted(sorted_values, v, side=side)) for v, side in cuts]
    return np.diff(np.array([0, *positions, sorted_values.size], dtype=np.int64))


def category_counts(series: Any) -> dict[str, int]:
    """Non-missing values of a pandas Series counted by their ``str()``.

    A float that is a whole number counts as that integer: ``1.0`` (a code column that also
    holds a NaN) and ``1`` are the same category.

    >>> import pandas as pd
    >>> category_counts(pd.Series([1.0, 1, None, "a"], dtype=object))
    {'1': 2, 'a': 1}
    """
    counts: dict[str, int] = {}
    for key, count in series.value_counts(dropna=True, sort=False).items():
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        label = str(key)
        counts[label] = counts.get(label, 0) + int(count)
    return counts


def category_bins(
    reference: Mapping[str, int], current: Mapping[str, int]
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Bins of two category counts: ``(categories, unseen, reference_counts, current_counts)``.

    ``categories`` are the reference's, most frequent first; ``unseen`` the current values the
    reference never had, most frequent first. The counts follow ``categories``, plus one last
    ``<unseen>`` bin holding every unseen value when there is any.

    >>> cats, unseen, ref, cur = category_bins({"a": 3, "b": 1}, {"a": 1, "z": 2})
    >>> cats, unseen, ref.tolist(), cur.tolist()
    (['a', 'b'], ['z'], [3, 1, 0], [1, 0, 2])
    """
    import numpy as np

    categories = sorted(reference, key=lambda key: (-reference[key], key))
    unseen = sorted((k for k in current if k not in reference), key=lambda k: (-current[k], k))
    ref_counts = [reference[k] for k in categories]
    cur_counts = [current.get(k, 0) for k in categories]
    if unseen:
        ref_counts.append(0)
        cur_counts.append(sum(current[k] for k in unseen))
    return (
        categories,
        unseen,
        np.array(ref_counts, dtype=np.int64),
        np.array(cur_counts, dtype=np.int64),
    )


def shares(counts: np.ndarray) -> np.ndarray:
    """Each count as a share of their total (all zeros when the total is zero).

    >>> import numpy as np
    >>> shares(np.array([1, 3])).tolist(), shares(np.array([0, 0])).tolist()
    ([0.25, 0.75], [0.0, 0.0])
    """
    return counts / max(int(counts.sum()), 1)


def psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray, epsilon: float = 1e-4) -> float:
    """Population stability index of two count vectors over the same bins.

    ``sum((c - r) * ln(c / r))`` over the bin shares, zero shares replaced by ``epsilon``.

    >>> import numpy as np
    >>> psi_from_counts(np.array([50, 50]), np.array([50, 50]))
    0.0
    >>> round(psi_from_counts(np.array([90, 10]), np.array([50, 50])), 4)
    0.8789
    """
    import numpy as np

    ref_share, cur_share = shares(ref_counts), shares(cur_counts)
    ref_share = np.where(ref_share == 0, epsilon, ref_share)
    cur_share = np.where(cur_share == 0, epsilon, cur_share)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def ks_statistic_sorted(ref: np.ndarray, cur: np.ndarray) -> float:
    """Two-sided KS statistic of two sorted samples, equal to ``scipy.stats.ks_2samp``'s.

    scipy evaluates both empirical CDFs at every value by binary search; here one stable merge
    of the two sorted runs (timsort: linear) gives the same integer counts at each distinct
    value, so the differences are the same floating-point numbers.

    >>> import numpy as np
    >>> ks_statistic_sorted(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0]))
    0.5
    """
    import numpy as np

    n1, n2 = ref.size, cur.size
    both = np.concatenate([ref, cur])
    order = np.argsort(both, kind="stable")  # two sorted runs: timsort merges them linearly
    # Mark the last occurrence of each distinct merged value; gathering the merged values in
    # chunks keeps the extra memory near two copies of the data instead of three.
    size = order.size
    last = np.empty(size, dtype=bool)
    last[-1] = True
    for start in range(0, size - 1, KS_CHUNK):
        chunk = both[order[start : min(start + KS_CHUNK + 1, size)]]
        np.not_equal(chunk[1:], chunk[:-1], out=last[start : start + chunk.size - 1])
    del both
    from_ref = order < n1
    del order
    positions = np.flatnonzero(last)
    del last
    count_type = np.int32 if n1 + n2 < 2**31 else np.int64
    ref_counts = np.cumsum(from_ref, dtype=count_type)[positions]  # reference values <= value
    del from_ref
    positions += 1
    positions -= ref_counts  # current values <= value
    # The same float operations as scipy: count / n for each sample, then the difference.
    diffs = ref_counts / n1
    diffs -= positions / n2
    return float(max(min(max(-float(diffs.min()), 0.0), 1.0), float(diffs.max())))


def ks_2samp_sorted(ref: np.ndarray, cur: np.ndarray, method: str = "auto") -> tuple[float, float]:
    """KS statistic and p-value of two sorted samples, as ``scipy.stats.ks_2samp(ref, cur)``.

    ``method`` is scipy's: ``"auto"``, ``"exact"`` or ``"asymp"``.

    >>> import numpy as np
    >>> statistic, p_value = ks_2samp_sorted(np.arange(100.0), np.arange(50.0, 150.0))
    >>> statistic, p_value < 0.001
    (0.5, True)
    """
    from scipy import stats

    n1, n2 = ref.size, cur.size
    if method == "exact" or (method == "auto" and max(n1, n2) <= KS_MAX_AUTO_N):
        # Exact p-values need scipy's path counting; at these sizes scipy is fast.
        result = stats.ks_2samp(ref, cur, method=method)
        return float(result.statistic), float(result.pvalue)
    statistic = ks_statistic_sorted(ref, cur)
    return statistic, ks_p_value(statistic, n1, n2)


def ks_p_value(statistic: float, n1: int, n2: int) -> float:
    """The asymptotic two-sided KS p-value of ``scipy.stats.ks_2samp`` for samples of ``n1`` and
    ``n2`` values: ``kstwo.sf(D, round(n1 * n2 / (n1 + n2)))``. Used on its own when one sample
    is represented by its quantiles (a reference profile).

    >>> round(ks_p_value(0.1, 1_000_000, 500), 4)
    0.0001
    """
    import numpy as np
    from scipy import stats

    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(statistic, np.round(en)), 0, 1))


def chi2_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-square statistic and p-value that two count vectors share one distribution.

    :func:`scipy.stats.chi2_contingency` without continuity correction on the 2 x K table;
    categories empty on both sides are left out.

    >>> import numpy as np
    >>> statistic, p_value = chi2_from_counts(np.array([50, 50, 0]), np.array([50, 50, 0]))
    >>> statistic, p_value
    (0.0, 1.0)
    """
    import numpy as np
    from scipy import stats

    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one category: nothing can differ
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def pool_sparse_categories(
    ref_counts: np.ndarray, cur_counts: np.ndarray, min_expected: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """The two count vectors with every category expected fewer than ``min_expected`` times in
    the current sample (under the pooled table) merged into one: Cochran's rule, without which
    the chi-square p-value of a small window over many rare categories runs below its level.

    >>> import numpy as np
    >>> pool_sparse_categories(np.array([900, 60, 30, 10]), np.array([90, 6, 3, 1]))
    (array([900,  60,  40]), array([90,  6,  4]))
    """
    import numpy as np

    total = ref_counts.sum() + cur_counts.sum()
    if total == 0:
        return ref_counts, cur_counts
    expected = (ref_counts + cur_counts) * cur_counts.sum() / total
    sparse = expected < min_expected
    if sparse.sum() < 2:
        return ref_counts, cur_counts
    keep = ~sparse
    return (
        np.append(ref_counts[keep], ref_counts[sparse].sum()),
        np.append(cur_counts[keep], cur_counts[sparse].sum()),
    )


def wasserstein_sorted(ref: np.ndarray, cur: np.ndarray) -> float:
    """Wasserstein-1 distance of two sorted samples, as ``scipy.stats.wasserstein_distance``.

    The integral of ``|F_ref(x) - F_cur(x)|`` over ``x``: the sorted runs are merged once and
    each empirical CDF is read by binary search at the merged values.

    >>> import numpy as np
    >>> wasserstein_sorted(np.array([0.0, 1.0, 3.0]), np.array([5.0, 6.0, 8.0]))
    5.0
    """
    import numpy as np

    both = np.concatenate([ref, cur])
    both.sort(kind="stable")  # two sorted runs: timsort merges them linearly
    deltas = np.diff(both)
    points = both[:-1]
    ref_cdf = np.searchsorted(ref, points, side="right") / ref.size
    cur_cdf = np.searchsorted(cur, points, side="right") / cur.size
    return float(np.sum(np.abs(ref_cdf - cur_cdf) * deltas))


def jensenshannon_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log, so in ``[0, sqrt(ln 2)]``) of two count vectors.

    Equal to ``scipy.spatial.distance.jensenshannon(ref_counts, cur_counts)``: counts are
    normalised to shares; a bin empty on one side contributes through the mixture only.

    >>> import numpy as np
    >>> jensenshannon_from_counts(np.array([5, 5]), np.array([1, 1]))
    0.0
    >>> round(jensenshannon_from_counts(np.array([1, 0]), np.array([0, 1])), 4)
    0.8326
    """
    import numpy as np

    p, q = shares(ref_counts), shares(cur_counts)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / m[mask])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))
