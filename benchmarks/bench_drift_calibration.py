"""Calibration of the drift verdict: false alarms on unshifted windows, detection of shifts.

    python -m benchmarks.bench_drift_calibration                 # n = 100, 1k, 10k, 100k
    python -m benchmarks.bench_drift_calibration --reps 50 --sizes 100 1000

A reference of 100,000 rows (10 numeric columns of different shapes, 4 categorical ones with 3 to
20 categories) is compared, with the library's default :class:`DriftConfig`, with many windows
drawn from the same distribution (every alarm is a false alarm) and with windows whose numeric
columns are shifted by 0.25 and 0.5 of their standard deviation (categorical columns unshifted).
It prints, per window size: the dataset verdict's false-alarm and detection rates (what triggers a
retrain), the per-column rates apart, and the test that decided. It exits 1 when the dataset
false-alarm rate on unshifted windows exceeds 5% at any size: the calibration is held, not only
shown. Rates, not timings: the figures do not depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

MAX_FALSE_ALARM = 0.05
SHIFTS = (0.25, 0.5)


def population(n: int, rng, shift: float = 0.0):
    """``n`` rows; numeric columns moved by ``shift`` of their population standard deviation."""
    import numpy as np
    import pandas as pd

    columns = {
        "normal_a": (rng.normal(50, 10, n), 10.0),
        "normal_b": (rng.normal(0, 1, n), 1.0),
        "lognormal": (rng.lognormal(3, 0.6, n), float(np.sqrt((np.exp(0.36) - 1) * np.exp(6.36)))),
        "exponential": (rng.exponential(2.0, n), 2.0),
        "uniform": (rng.uniform(0, 1, n), float(np.sqrt(1 / 12))),
        "bimodal": (
            np.where(rng.random(n) < 0.4, rng.normal(-2, 0.5, n), rng.normal(2, 0.5, n)),
            float(np.sqrt(0.25 + 0.4 * 0.6 * 16)),
        ),
        "poisson": (rng.poisson(4, n).astype(float), 2.0),
        "counts_wide": (rng.poisson(40, n).astype(float), float(np.sqrt(40))),
        "gamma": (rng.gamma(2.0, 3.0, n), float(np.sqrt(2.0) * 3.0)),
        "student_t": (rng.standard_t(5, n), float(np.sqrt(5 / 3))),
    }
    data = {name: values + shift * sd for name, (values, sd) in columns.items()}
    for name, k in (("plan", 3), ("region", 5), ("channel", 10), ("segment", 20)):
        weights = np.arange(k, 0, -1, dtype=float)
        data[name] = rng.choice([f"{name}{i}" for i in range(k)], n, p=weights / weights.sum())
    return pd.DataFrame(data)


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from mlops_common.monitoring import DriftConfig, detect_drift

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000, 100_000])
    parser.add_argument("--reps", type=int, default=200, help="windows per size and shift")
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    reference = population(args.reference_rows, rng)
    config = DriftConfig(n_jobs=1)
    print(
        f"reference {len(reference):,} rows x {reference.shape[1]} columns "
        f"(10 numeric, 4 categorical); {args.reps} windows per size and shift; "
        f"defaults: min_rows {config.min_rows}, large_sample {config.large_sample}, "
        f"p_value {config.p_value}, wasserstein {config.wasserstein_threshold}, "
        f"jensenshannon {config.jensenshannon_threshold}, drift_share {config.drift_share}"
    )
    header = (
        f"{'n':>7}  {'shift':>5}  {'dataset alarms':>14}  {'numeric col':>11}  "
        f"{'categ. col':>10}  tests"
    )
    print(header)
    failed = []
    for n in args.sizes:
        for shift in (0.0, *SHIFTS):
            dataset = numeric = categorical = 0
            tests: Counter[str] = Counter()
            for _ in range(args.reps):
                report = detect_drift(reference, population(n, rng, shift), config=config)
                dataset += report.drift_detected
                for column in report.columns:
                    tests[column.test or "-"] += 1
                    if column.kind == "numeric":
                        numeric += column.drifted
                    else:
                        categorical += column.drifted
            rate = dataset / args.reps
            print(
                f"{n:>7,}  {shift:>5}  {rate:>14.1%}  {numeric / (10 * args.reps):>11.1%}  "
                f"{categorical / (4 * args.reps):>10.1%}  "
                + ", ".join(f"{t} {c // args.reps}" for t, c in sorted(tests.items())),
                flush=True,
            )
            if shift == 0.0 and rate > MAX_FALSE_ALARM:
                failed.append(f"n={n}: dataset false-alarm rate {rate:.1%} > {MAX_FALSE_ALARM:.0%}")
    print(
        "shift 0: every alarm is false (dataset verdict = what triggers a retrain); "
        "shift 0.25/0.5: numeric columns moved by that share of their standard deviation, "
        "categorical columns unshifted (their column rate stays a false-alarm rate)."
    )
    for line in failed:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
