"""Drift of current data (e.g. the prediction log) against the training baseline.

Per column, the test chosen by the size of the current window: KS (numeric, as
``scipy.stats.ks_2samp``) or chi-square (categorical) p-values for small windows, the normed
Wasserstein or Jensen-Shannon distance for large ones; PSI over reference-quantile bins is always
reported, and the missing-value share is compared. A dataset verdict (share of drifted columns,
or "insufficient data" below ``min_rows``); a self-contained HTML report.
The statistics are pure functions in :mod:`mlops_common.monitoring.stats`; :mod:`.drift` applies
them to columns and thresholds; :mod:`.report` draws the HTML. numpy, pandas and scipy are
imported only when :func:`detect_drift` runs.

>>> from mlops_common.monitoring import DriftConfig, detect_drift
>>> report = detect_drift(  # doctest: +SKIP
...     "data/train.csv", "logs/predictions.jsonl", config=DriftConfig(psi_threshold=0.2)
... )
>>> report.drift_detected, report.ignored_columns  # doctest: +SKIP
(False, {'prediction': 'only in current', 'timestamp': 'only in current'})
>>> report.write_html("reports/drift.html")  # doctest: +SKIP
"""

from mlops_common.monitoring.drift import ColumnDrift, DriftConfig, DriftReport, detect_drift
from mlops_common.monitoring.report import render_html
from mlops_common.monitoring.stats import (
    chi2_from_counts,
    jensenshannon_from_counts,
    ks_2samp_sorted,
    psi_from_counts,
    quantile_bins,
    wasserstein_sorted,
)

__all__ = [
    "ColumnDrift",
    "DriftConfig",
    "DriftReport",
    "chi2_from_counts",
    "detect_drift",
    "jensenshannon_from_counts",
    "ks_2samp_sorted",
    "psi_from_counts",
    "quantile_bins",
    "render_html",
    "wasserstein_sorted",
]
