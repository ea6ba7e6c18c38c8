"""How validation and drift cost grows with rows: pandas vs Spark local[2] vs DuckDB in place.

    python -m benchmarks.bench_scaling                         # 1M and 10M rows
    python -m benchmarks.bench_scaling --rows 100000,1000000 --engines pandas,duckdb

One data set (tools.engine_comparison: ints, floats with NaN, text with nulls, booleans,
timestamps, some bad values), written once per size as a folder of Parquet files and as a DuckDB
table. Each engine then runs in a process of its own, timed from its start to its result:

* pandas: read the Parquet folder, ``mlops_common.validation.validate`` (the fast path);
* spark: start a ``local[2]`` session (reported apart), read the folder, the pushdown engine;
* duckdb: ``mlops_common.validation.sql.validate`` on the table (the rows never leave DuckDB).

The suite is the engine-comparison suite (45 expectations of 30 kinds). Drift (reference profile
of 100,000 rows against the whole data set) is timed for pandas, Spark and DuckDB (in place,
``mlops_common.monitoring.sql``). Peak memory is the highest resident set of the engine's
process and its children (the Spark JVM), sampled every 50 ms. Every engine must reach the same
verdicts and unexpected counts; the table says where they differ. Spark parallelism here is two
cores shared with the rest of the machine: a cluster scales out, which one machine cannot show.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

FILES = 8  # Parquet files per data set: Spark reads them in parallel


def write_data(rows: int, folder: Path) -> tuple[Path, Path, Path]:
    """The Parquet folder, the DuckDB file and the reference profile for ``rows`` rows."""
    import duckdb
    import numpy as np

    from mlops_common.monitoring.profile import build_profile
    from tools.engine_comparison import sample_frame

    data = folder / "parquet"
    data.mkdir(parents=True)
    step = 1_000_000
    for start in range(0, rows, step):
        chunk = sample_frame(rows=min(step, rows - start), seed=start // step)
        chunk["id"] += start  # one key column across chunks
        for index, part in enumerate(np.array_split(np.arange(len(chunk)), FILES)):
            chunk.iloc[part].to_parquet(data / f"part-{start // step:03d}-{index}.parquet")
    database = folder / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"CREATE TABLE orders AS SELECT * FROM read_parquet('{data}/*.parquet')")
    reference = sample_frame(rows=100_000, seed=99).drop(columns="ts")
    profile = build_profile(reference).to_json(folder / "reference_profile.json")
    return data, database, profile


def run_engine(engine: str, data: Path, database: Path, profile: Path) -> dict[str, Any]:
    """In this process: one engine's validation and drift, timed; the outcomes to compare."""
    from tools.engine_comparison import DIFFERENTIAL_SUITE

    timings: dict[str, float] = {}
    start = time.perf_counter()
    if engine == "pandas":
        import pandas as pd

        from mlops_common.monitoring import detect_drift
        from mlops_common.validation import validate

        frame = pd.read_parquet(data)
        timings["read"] = time.perf_counter() - start
        result = validate(frame, DIFFERENTIAL_SUITE)
        timings["validate"] = time.perf_counter() - start
        begin = time.perf_counter()
        report = detect_drift(profile, frame.drop(columns="ts"))
        timings["drift"] = time.perf_counter() - begin
    elif engine == "spark":
        from pyspark.sql import SparkSession

        from mlops_common.monitoring.spark import detect_drift
        from mlops_common.validation import spark

        session = (
            SparkSession.builder.master("local[2]")
            .config("spark.driver.memory", "4g")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        timings["session"] = time.perf_counter() - start
        begin = time.perf_counter()
        df, _ = spark.read_dataset(str(data), session)
        result = spark.validate(df, DIFFERENTIAL_SUITE)
        timings["validate"] = time.perf_counter() - begin
        begin = time.perf_counter()
        report = detect_drift(profile, df.drop("ts"))
        timings["drift"] = time.perf_counter() - begin
        session.stop()
    else:
        from mlops_common.monitoring.sql import detect_drift
        from mlops_common.validation import sql

        result = sql.validate(f"duckdb:///{database}", "orders", DIFFERENTIAL_SUITE)
        timings["validate"] = time.perf_counter() - start
        begin = time.perf_counter()
        # The table's timestamp column is left out by type, as pandas drops it here.
        report = detect_drift(profile, f"duckdb:///{database}", "orders")
        timings["drift"] = time.perf_counter() - begin
    outcomes = [(o.success, o.unexpected_count) for o in result.results]
    drift = None if report is None else (report.verdict, sorted(report.drifted_columns))
    return {"timings": timings, "rows": result.row_count, "outcomes": outcomes, "drift": drift}


def measure(engine: str, data: Path, database: Path, profile: Path) -> dict[str, Any]:
    """Run one engine in a child process; its result and the peak RSS of its process tree."""
    import psutil

    command = [sys.executable, "-m", "benchmarks.bench_scaling", "--child", engine]
    command += [str(data), str(database), str(profile)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "wall": wall, "peak_mb": peak / 2**20}


def _report(rows: int, engine: str, result: dict[str, Any], base: dict[str, Any] | None) -> bool:
    """Print one engine's line; whether it reached the pandas verdicts."""
    timings = result["timings"]
    same = base is None or (
        result["outcomes"] == base["outcomes"]
        and (result["drift"] is None or result["drift"] == base["drift"])
    )
    ratio = timings["validate"] / base["timings"]["validate"] if base else float("nan")
    drift = f"{timings['drift']:8.2f}" if "drift" in timings else f"{'-':>8}"
    setup = timings.get("session", timings.get("read"))
    setup_text = f"{setup:8.2f}" if setup is not None else f"{'-':>8}"
    print(
        f"{rows:>11,} {engine:<7} {timings['validate']:10.2f} {ratio:8.2f}x {drift} "
        f"{setup_text} {result['wall']:7.1f} {result['peak_mb']:8.0f}  "
        f"{'same as pandas' if same else 'DIFFERENT from pandas'}",
        flush=True,
    )
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated sizes")
    parser.add_argument(
        "--engines", default="pandas,duckdb,spark", help="pandas first: the others' baseline"
    )
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "DATA", "DB", "PROFILE"))
    args = parser.parse_args(argv)
    if args.child:
        engine, data, database, profile = args.child
        print(json.dumps(run_engine(engine, Path(data), Path(database), Path(profile))))
        return 0

    import pandas as pd
    import pyspark

    engines = [e for e in args.engines.split(",") if e]
    print(f"pandas {pd.__version__}, pyspark {pyspark.__version__}, ", end="")
    import duckdb

    print(f"duckdb {duckdb.__version__}; 2 cores shared with other work on this machine")
    header = (
        f"{'rows':>11} {'engine':<7} {'validate s':>10} {'vs pandas':>9} {'drift s':>8} "
        f"{'setup s':>8} {'wall s':>7} {'peak MB':>8}  verdicts"
    )
    print(header, flush=True)
    failures = 0
    for rows in (int(r) for r in args.rows.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-scaling-") as folder:
            data, database, profile = write_data(rows, Path(folder))
            base = None
            for engine in engines:  # each line as soon as its engine is done
                result = measure(engine, data, database, profile)
                base = base or (result if engine == "pandas" else None)
                failures += not _report(rows, engine, result, base)
    print(
        "validate s: pandas from reading the Parquet folder (setup s: the read alone), spark "
        "after its session (setup s) from reading the folder, duckdb the in-place queries; "
        "peak MB: the engine's process tree"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
