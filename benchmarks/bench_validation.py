"""Validation speed: mlops_common.validation vs Great Expectations 1.x, same suite, same data.

    python benchmarks/bench_validation.py            # 1M rows x 20 columns, ~60 expectations
    python benchmarks/bench_validation.py --rows 50000
    python benchmarks/bench_validation.py --process --rows 100000   # whole processes, mixed types

``--process`` times what a pipeline stage pays: a whole ``mlops validate SUITE DATA`` process
against a whole plain-GE script (import, read the CSV, validate), with the suite above plus
less common core types (value lengths, distinct values, unique proportions, quantiles, table
columns, regex lists, column pairs, multicolumn sums, KL divergence). Both run from compiled
bytecode (mlops_common is compiled first, as GE's site-packages are), and each process's wall
time, CPU time (user + system) and peak RSS are reported: on a shared machine the CPU ratio is
the steadier figure, so both ratios are printed with the load average.

In-process times are wall-clock medians after one untimed warm-up run per engine (GE's import
is reported separately). Peak extra memory is measured twice per engine, each in a run of its
own: the peak resident set (Linux VmHWM, reset before the run, with freed heap returned to the
system first) minus the resident set before it, which counts numpy and Arrow buffers; and
tracemalloc's peak, which counts Python objects and numpy buffers but not Arrow's.
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
        exp(
            "expect_column_kl_divergence_to_be_less_than",
            column="f2",
            partition_object={
                "bins": [-1e9, 85, 100, 115, 1e9],
                "weights": [0.16, 0.34, 0.34, 0.16],
            },
            threshold=0.05,
        ),
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


def _timed(command: list[str]) -> tuple[float, float, float, int]:
    """``(wall s, CPU s, peak RSS MB, exit code)`` of one process (os.wait4 reports its own
    resource use, not that of earlier children)."""
    import os
    import subprocess

    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed: {errors.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def _load() -> str:
    import os

    return "load average " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


def whole_processes(rows: int, repeat: int) -> None:
    import compileall
    import json
    import shutil
    import tempfile
    from pathlib import Path

    import mlops_common

    compileall.compile_dir(Path(mlops_common.__file__).parent, quiet=1)
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
        f"whole processes: {rows:,} rows CSV ({data.stat().st_size / 1e6:.0f} MB), "
        f"{len(suite['expectations'])} expectations (mixed core types), median of {repeat} "
        f"runs each, alternating; {_load()}"
    )
    runs: dict[str, list[tuple[float, float, float, int]]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, command in commands.items():
            runs[label].append(_timed(command))
    medians = {}
    print(f"{'':<20}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>13}{'exit':>6}")
    for label, measured in runs.items():
        wall, cpu, rss = (statistics.median(m[i] for m in measured) for i in range(3))
        medians[label] = wall, cpu
        print(f"{label:<20}{wall:>8.2f}{cpu:>8.2f}{rss:>13.0f}{measured[-1][3]:>6}")
    (ours_wall, ours_cpu), (ge_wall, ge_cpu) = medians["mlops validate"], medians["plain GE script"]
    print(
        f"ratio: a whole mlops validate is {ge_wall / ours_wall:.1f}x faster than a whole GE "
        f"process by wall time, {ge_cpu / ours_cpu:.1f}x by CPU time; {_load()}"
    )
    shutil.rmtree(folder)


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds (all threads) of ``repeat`` calls after one untimed warm-up
    call (first-call imports and allocator growth), and the last result."""
    fn()
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def peak_memory(fn: Callable[[], Any]) -> float:
    """tracemalloc's peak during ``fn()``, in MB: Python objects and numpy buffers."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def _resident() -> dict[str, int]:
    with open("/proc/self/status") as status:
        return {
            line.split(":")[0]: int(line.split()[1]) * 1024
            for line in status
            if line.startswith(("VmHWM", "VmRSS"))
        }


def peak_rss(fn: Callable[[], Any]) -> float | None:
    """Peak resident memory added by ``fn()``, in MB (Linux); None where it cannot be read.

    Freed heap is returned to the system and the high-water mark reset first, so memory that
    an earlier run freed but kept cannot hide this run's peak.
    """
    import ctypes
    import gc

    try:
        with open("/proc/self/clear_refs", "w") as clear:
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            clear.write("5")  # reset VmHWM to the current resident set
    except OSError:
        return None
    base = _resident()["VmRSS"]
    fn()
    return (_resident()["VmHWM"] - base) / 1e6


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
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--process", action="store_true", help="time whole processes instead")
    args = parser.parse_args()
    if args.process:
        from importlib.metadata import version

        print(
            f"pandas {pd.__version__}, numpy {np.__version__}, great_expectations "
            f"{version('great_expectations')}, python {sys.version.split()[0]}"
        )
        whole_processes(args.rows, args.repeat)
        return

    df = make_frame(args.rows)
    suite = make_suite(args.rows)
    size_mb = df.memory_usage(deep=True).sum() / 1e6
    print(f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(
        f"data: {args.rows:,} rows x {df.shape[1]} columns ({size_mb:.0f} MB), "
        f"{len(suite['expectations'])} expectations, median of {args.repeat} runs; {_load()}"
    )

    ours_time, ours_cpu, ours = median_time(lambda: validate(df, suite, engine="fast"), args.repeat)
    ours_rss = peak_rss(lambda: validate(df, suite, engine="fast"))
    ours_mem = peak_memory(lambda: validate(df, suite, engine="fast"))

    start = time.perf_counter()
    import great_expectations as gx

    ge_import = time.perf_counter() - start
    runs = [("GE " + gx.__version__, None)]
    if int(pd.__version__.split(".")[0]) < 3:
        runs.append(("GE " + gx.__version__ + " copy_on_write", True))

    rows = [("mlops_common (fast)", ours_time, ours_cpu, ours_rss, ours_mem, ours.success)]
    for label, cow in runs:
        if cow:
            pd.options.mode.copy_on_write = True
        run = ge_runner(df, suite)
        ge_time, ge_cpu, ge_result = median_time(run, args.repeat)
        ge_rss = peak_rss(run)
        ge_mem = peak_memory(run)
        rows.append((label, ge_time, ge_cpu, ge_rss, ge_mem, ge_result.success))
        if cow:
            pd.options.mode.copy_on_write = False

    def share(mb: float | None) -> str:
        return "n/a" if mb is None else f"{mb:.0f} ({mb / size_mb:.2f}x)"

    print(f"GE import: {ge_import:.2f} s (paid once per process, not in the times below)")
    print(
        f"{'engine':<24}{'wall s':>8}{'CPU s':>8}{'peak extra RSS MB':>19}{'tracemalloc MB':>16}"
        f"{'verdict':>9}{'GE/ours':>9}"
    )
    for label, seconds, cpu, rss, mem, success in rows:
        print(
            f"{label:<24}{seconds:>8.3f}{cpu:>8.3f}{share(rss):>19}{share(mem):>16}"
            f"{success!s:>9}{seconds / ours_time:>8.1f}x"
        )
    label, ge_time, ge_cpu = rows[-1][:3]
    print(
        f"ratio: ours is {ge_time / ours_time:.1f}x faster than {label} by wall time "
        f"({ge_cpu / ours_cpu:.1f}x by CPU time) on the run alone, "
        f"{(ge_time + ge_import) / ours_time:.1f}x counting GE's import; peak extra memory "
        f"{share(ours_rss)} resident, {share(ours_mem)} traced, of {size_mb:.0f} MB of data; "
        f"{_load()}"
    )


if __name__ == "__main__":
    main()
