"""Validation speed: mlops_common.validation vs Great Expectations 1.x, same suite, same data.

    python benchmarks/bench_validation.py            # 1M rows x 20 columns, ~60 expectations
    python benchmarks/bench_validation.py --rows 50000
    python benchmarks/bench_validation.py --process --rows 100000   # whole processes, mixed types

``--process`` times what a pipeline stage pays: a whole ``mlops validate SUITE DATA`` process
against a whole plain-GE script (import, read the CSV, validate), with the suite above plus
less common core types (value lengths, distinct values, unique proportions, quantiles, table
columns, regex lists, column pairs, multicolumn sums).

Times are wall-clock medians of in-process runs (GE's import is reported separately). Peak
extra memory is tracemalloc's peak during one run, taken in a separate run because tracing
slows Python code: it counts Python objects and numpy buffers, not Arrow buffers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlops_common.validation import validate

FLOATS = [f"f{i}" for i in range(8)]
INTS = [f"n{i}" for i in range(4)]
CATEGORIES = [f"c{i}" for i in range(4)]
CODES = ["code0", "code1"]
LEVELS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    data: dict[str, Any] = {"id": np.arange(rows, dtype="int64")}
    for name in FLOATS:
        values = rng.normal(100.0, 15.0, rows)
        values[rng.random(rows) < 0.01] = np.nan
        data[name] = values
    for name in INTS:
        data[name] = rng.integers(0, 1000, rows)
    for name in CATEGORIES:
        data[name] = pd.Series(rng.choice(LEVELS, rows), dtype="str")
    for index, name in enumerate(CODES):
        data[name] = pd.Series(
            np.char.add(f"K{index}-", rng.integers(1000, 9999, rows).astype(str)), dtype="str"
        )
    data["flag"] = rng.random(rows) > 0.5
    return pd.DataFrame(data)


def make_suite(rows: int) -> dict[str, Any]:
    def exp(kind: str, **kwargs: Any) -> dict[str, Any]:
        return {"type": kind, "kwargs": kwargs}

    expectations = [
        exp("expect_table_row_count_to_be_between", min_value=1, max_value=rows * 2),
        exp("expect_column_values_to_be_unique", column="id"),
        exp("expect_column_values_to_not_be_null", column="id"),
        exp("expect_column_values_to_be_of_type", column="flag", type_="bool"),
        exp("expect_compound_columns_to_be_unique", column_list=["id", "c0"]),
    ]
    for name in FLOATS:
        expectations += [
            exp("expect_column_values_to_not_be_null", column=name, mostly=0.95),
            exp("expect_column_values_to_be_between", column=name, min_value=0, max_value=250),
            exp("expect_column_values_to_be_of_type", column=name, type_="float64"),
            exp("expect_column_mean_to_be_between", column=name, min_value=90, max_value=110),
        ]
    for name in FLOATS[:4]:
        expectations.append(
            exp("expect_column_stdev_to_be_between", column=name, min_value=10, max_value=20)
        )
        expectations.append(
            exp("expect_column_median_to_be_between", column=name, min_value=90, max_value=110)
        )
    for name in INTS:
        expectations += [
            exp("expect_column_values_to_be_between", column=name, min_value=0, max_value=999),
            exp("expect_column_values_to_be_of_type", column=name, type_="int64"),
        ]
    for name in CATEGORIES:
        expectations += [
            exp("expect_column_values_to_be_in_set", column=name, value_set=LEVELS),
            exp("expect_column_values_to_not_be_null", column=name),
        ]
    for name in CODES:
        expectations += [
            exp("expect_column_values_to_match_regex", column=name, regex=r"^K\d-\d{4}$"),
            exp("expect_column_values_to_not_be_null", column=name),
        ]
    return {"name": "bench", "expectations": expectations}


def mixed_suite(rows: int) -> dict[str, Any]:
    """The common suite plus one of each less common core type a profiler or a person adds."""

    def exp(kind: str, **kwargs: Any) -> dict[str, Any]:
        return {"type": kind, "kwargs": kwargs}

    suite = make_suite(rows)
    suite["expectations"] = suite["expectations"] + [
        exp("expect_column_value_lengths_to_be_between", column="code0", min_value=7, max_value=7),
        exp("expect_column_distinct_values_to_be_in_set", column="c0", value_set=LEVELS),
        exp("expect_column_distinct_values_to_equal_set", column="c1", value_set=LEVELS),
        exp("expect_column_proportion_of_unique_values_to_be_between", column="id", min_value=1),
        exp("expect_column_unique_value_count_to_be_between", column="c2", max_value=5),
        exp(
            "expect_column_quantile_values_to_be_between",
            column="f0",
            quantile_ranges={
                "quantiles": [0.05, 0.5, 0.95],
                "value_ranges": [[60, 90], [95, 105], [110, 140]],
            },
        ),
        exp("expect_table_columns_to_match_set", column_set=list(make_frame(1).columns)),
        exp(
            "expect_column_values_to_match_regex_list", column="code1", regex_list=[r"^K1", r"\d$"]
        ),
        exp(
            "expect_column_pair_values_a_to_be_greater_than_b",
            column_A="n0",
            column_B="n1",
            mostly=0.4,
        ),
        exp("expect_multicolumn_sum_to_equal", column_list=["n0", "n1"], sum_total=999, mostly=0.0),
        exp(
            "expect_column_most_common_value_to_be_in_set",
            column="c3",
            value_set=LEVELS,
            ties_okay=True,
        ),
        exp("expect_column_values_to_not_be_outliers", column="f1", mostly=0.9),
    ]
    return suite


GE_SCRIPT = """
import json, sys
import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

suite_path, data_path = sys.argv[1:3]
raw = json.load(open(suite_path))
df = pd.read_csv(data_path)
context = gx.get_context(mode="ephemeral")
context.variables.progress_bars = ProgressBarsConfig(globally=False)
batch = (
    context.data_sources.add_pandas("p").add_dataframe_asset("a")
    .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": df})
)
suite = gx.ExpectationSuite(name=raw["name"])
for item in raw["expectations"]:
    config = ExpectationConfiguration(type=item["type"], kwargs=item["kwargs"])
    suite.add_expectation_configuration(config)
result = batch.validate(suite, result_format="SUMMARY")
sys.exit(0 if result.success else 1)
"""


def whole_processes(rows: int, repeat: int) -> None:
    import json
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="bench_validation_"))
    data, suite_path = folder / "data.csv", folder / "suite.json"
    make_frame(rows).to_csv(data, index=False)
    suite = mixed_suite(rows)
    suite_path.write_text(json.dumps(suite))
    mlops = shutil.which("mlops") or str(Path(sys.executable).parent / "mlops")
    commands = {
        "mlops validate": [mlops, "validate", str(suite_path), str(data)],
        "plain GE script": [sys.executable, "-c", GE_SCRIPT, str(suite_path), str(data)],
    }
    print(
        f"whole processes: {rows:,} rows CSV, {len(suite['expectations'])} expectations "
        f"(mixed core types), median of {repeat} runs"
    )
    times = {}
    for label, command in commands.items():
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            runs.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{label} failed: {done.stderr[-2000:]}")
        times[label] = statistics.median(runs)
        print(f"{label:<20}{times[label]:>8.2f} s  exit {done.returncode}")
    ours, ge = times["mlops validate"], times["plain GE script"]
    print(f"ratio: a whole mlops validate is {ge / ours:.1f}x faster than a whole GE process")
    shutil.rmtree(folder)


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_memory(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def ge_runner(df: pd.DataFrame, suite: dict[str, Any]) -> Callable[[], Any]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(f"bench{time.monotonic_ns()}")
    definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("all")
    ge_suite = gx.ExpectationSuite(name="bench")
    for item in suite["expectations"]:
        ge_suite.add_expectation_configuration(
            ExpectationConfiguration(type=item["type"], kwargs=item["kwargs"])
        )
    assert len(ge_suite.expectations) == len(suite["expectations"]), "GE merged expectations"

    def run() -> Any:
        batch = definition.get_batch(batch_parameters={"dataframe": df})
        return batch.validate(ge_suite, result_format="SUMMARY")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--process", action="store_true", help="time whole processes instead")
    args = parser.parse_args()
    if args.process:
        print(f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
        whole_processes(args.rows, args.repeat)
        return

    df = make_frame(args.rows)
    suite = make_suite(args.rows)
    size_mb = df.memory_usage(deep=True).sum() / 1e6
    print(f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(
        f"data: {args.rows:,} rows x {df.shape[1]} columns ({size_mb:.0f} MB), "
        f"{len(suite['expectations'])} expectations, median of {args.repeat} runs"
    )

    ours_time, ours = median_time(lambda: validate(df, suite, engine="fast"), args.repeat)
    ours_mem = peak_memory(lambda: validate(df, suite, engine="fast"))

    start = time.perf_counter()
    import great_expectations as gx

    ge_import = time.perf_counter() - start
    runs = [("GE " + gx.__version__, None)]
    if int(pd.__version__.split(".")[0]) < 3:
        runs.append(("GE " + gx.__version__ + " copy_on_write", True))

    rows = [("mlops_common (fast)", ours_time, ours_mem, ours.success)]
    for label, cow in runs:
        if cow:
            pd.options.mode.copy_on_write = True
        run = ge_runner(df, suite)
        ge_time, ge_result = median_time(run, args.repeat)
        ge_mem = peak_memory(run)
        rows.append((label, ge_time, ge_mem, ge_result.success))
        if cow:
            pd.options.mode.copy_on_write = False

    print(f"GE import: {ge_import:.2f} s (paid once per process, not in the times below)")
    print(f"{'engine':<28}{'time s':>10}{'peak extra MB':>16}{'verdict':>10}{'GE/ours':>10}")
    for label, seconds, mem, success in rows:
        ratio = seconds / ours_time
        print(f"{label:<28}{seconds:>10.3f}{mem:>16.0f}{success!s:>10}{ratio:>9.1f}x")
    ge_time = rows[-1][1]
    print(
        f"ratio: ours is {ge_time / ours_time:.1f}x faster than {rows[-1][0]} on the run alone, "
        f"{(ge_time + ge_import) / ours_time:.1f}x counting GE's import; "
        f"peak extra memory {ours_mem:.0f} MB vs data {size_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
