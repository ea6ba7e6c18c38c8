"""Drift detection: mlops_common.monitoring against Evidently and scipy, side by side.

    python benchmarks/bench_drift.py                # 1M rows x 20 numeric columns
    python benchmarks/bench_drift.py --rows 200000  # smaller
    python benchmarks/bench_drift.py --skip-evidently

Evidently 0.7.23 does not import with pandas 3, so its part runs in a separate virtualenv
(``.bench-envs/evidently``, pinned to ``pandas<3``; created here with uv when missing) through a
subprocess that runs this same file with ``--evidently-worker``. Both processes generate the same
data from the same seed and print a checksum of it.

What is compared: with a million-row window, ``detect_drift`` (library defaults) decides each
numeric column by its normed Wasserstein distance (> 0.1), as Evidently's default does above
1,000 rows, and reports beside it PSI, the KS statistic (no p-value: a window this large makes
any shift "significant") and the missing-share change, in one call. Evidently runs three times:
``DataDriftPreset()`` with its defaults (the like-for-like run: normed Wasserstein, 0.1), and
configured for PSI (0.2) and for KS (p-value 0.05). KS p-values themselves are compared apart:
ours (one sort per side and a merge) against ``scipy.stats.ks_2samp`` and Evidently's KS run.

Wall time excludes imports (both sides import before timing) and includes building the inputs
(``Dataset.from_pandas`` for Evidently). Then the same comparison as whole processes, which is
what a scheduled job pays: the two frames are written to Parquet once, and ``mlops drift REF CUR
--json`` runs against a Python process (in the Evidently environment) that imports Evidently,
reads the same two files and runs ``DataDriftPreset()``; each is timed from start to exit
(interpreter start, imports, file reads and the result included), with its CPU time and peak
resident size from ``os.wait4``. Peak extra memory is the process's peak resident size
during the call (``VmHWM`` after resetting it through ``/proc/self/clear_refs``) minus the
resident size just before it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVIDENTLY_ENV = ROOT / ".bench-envs" / "evidently"
EVIDENTLY_PIN = ["evidently==0.7.23", "pandas<3", "numpy", "scipy", "pyarrow"]
BIN_DIR = Path(sys.executable).parent
STRONG, MILD = 5, 2  # current's first columns are shifted by 0.1 and 0.02 standard deviations


def make_data(rows: int, columns: int, seed: int):
    """Reference and current frames, the same bytes in any process with the same numpy."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = [f"f{i:02d}" for i in range(columns)]
    reference = pd.DataFrame({name: rng.standard_normal(rows) for name in names})
    # Strong shifts, mild shifts (KS p-values in scipy's slow exact-sum zone), and no shift.
    shift = [0.1] * STRONG + [0.02] * MILD
    current = pd.DataFrame(
        {
            name: rng.standard_normal(rows) + (shift[i] if i < len(shift) else 0.0)
            for i, name in enumerate(names)
        }
    )
    checksum = float(reference.to_numpy().sum() + current.to_numpy().sum())
    return reference, current, checksum


def _rss_kib() -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def measure(fn):
    """(wall seconds, peak extra MiB, result, CPU seconds) of one call of ``fn``.

    CPU time (all threads) is printed too: on a shared machine it moves far less with the load
    of other processes than wall time does.
    """
    import gc

    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        can_reset = True
    except OSError:
        can_reset = False
    before = _rss_kib()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    hwm = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    extra = (hwm - before) / 1024 if can_reset else float("nan")
    return elapsed, extra, result, cpu


# --- the Evidently side (runs inside .bench-envs/evidently) ----------------------------------


def evidently_worker(rows: int, columns: int, seed: int) -> None:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current, checksum = make_data(rows, columns, seed)
    data_bytes = reference.memory_usage().sum() + current.memory_usage().sum()
    names = list(reference.columns)
    definition = DataDefinition(numerical_columns=names)
    warm = Dataset.from_pandas(reference.head(500), data_definition=definition)
    Report([DataDriftPreset()]).run(current_data=warm, reference_data=warm)  # lazy imports
    out = {
        "pandas": pd.__version__,
        "checksum": checksum,
        "data_mib": data_bytes / 2**20,
        "runs": {},
    }
    for method, threshold in (("default", None), ("psi", 0.2), ("ks", 0.05)):

        def run(method=method, threshold=threshold):
            preset = (
                DataDriftPreset()
                if threshold is None
                else DataDriftPreset(num_method=method, num_threshold=threshold)
            )
            return Report([preset]).run(
                current_data=Dataset.from_pandas(current, data_definition=definition),
                reference_data=Dataset.from_pandas(reference, data_definition=definition),
            )

        seconds, extra, snapshot, cpu = measure(run)
        values, drifted = {}, None
        for metric in snapshot.dict()["metrics"]:
            config = metric["config"]
            if config.get("type", "").endswith("DriftedColumnsCount"):
                drifted = int(metric["value"]["count"])
            elif "column" in config:
                values[config["column"]] = float(metric["value"])
        out["runs"][method] = {
            "seconds": seconds,
            "cpu": cpu,
            "extra_mib": extra,
            "drifted": drifted,
            "values": values,
        }
    print("EVIDENTLY-RESULT " + json.dumps(out))


def evidently_process(reference_path: str, current_path: str) -> None:
    """The whole-process Evidently job: import, read both files, run the default preset, print
    the drifted-column count (what a scheduled job would act on)."""
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current = pd.read_parquet(reference_path), pd.read_parquet(current_path)
    definition = DataDefinition(numerical_columns=list(reference.columns))
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    for metric in snapshot.dict()["metrics"]:
        if metric["config"].get("type", "").endswith("DriftedColumnsCount"):
            print(json.dumps({"drifted": int(metric["value"]["count"])}))


def ensure_evidently_env() -> Path:
    python = EVIDENTLY_ENV / "bin" / "python"
    if not python.exists():
        print(f"creating {EVIDENTLY_ENV} ({' '.join(EVIDENTLY_PIN)}) with uv ...", flush=True)
        subprocess.run(["uv", "venv", str(EVIDENTLY_ENV), "-p", "3.11"], check=True)
    # A no-op once satisfied; adds a pin an older environment lacks. Precompiled, as ours is:
    # without bytecode every import recompiles (FIELD-NOTES), which would bill Evidently for it.
    install = ["uv", "pip", "install", "-q", "--compile-bytecode", "-p", str(python)]
    subprocess.run([*install, *EVIDENTLY_PIN], check=True)
    return python


def bytecode(python: str | Path) -> str:
    """Whether ``python``'s pandas has its bytecode: "precompiled" or "NOT precompiled"."""
    probe = (
        "import importlib.util, os, pandas; "
        "print(os.path.exists(importlib.util.cache_from_source(pandas.__file__)))"
    )
    found = subprocess.run([str(python), "-c", probe], capture_output=True, text=True).stdout
    return "precompiled" if found.strip() == "True" else "NOT precompiled"


def timed_process(command: list[str], cwd: Path) -> dict:
    """Run ``command`` to its exit: wall seconds, CPU seconds, peak resident MiB, exit code and
    stdout (from a file, so a large output cannot block the child)."""
    out_path = cwd / "stdout.txt"
    with out_path.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "exit": process.returncode,
        "stdout": out_path.read_text(),
    }


def whole_processes(reference, current, repeat: int, skip_evidently: bool) -> None:
    """``mlops drift`` and an Evidently process on the same Parquet files, start to exit."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ref_path, cur_path = root / "reference.parquet", root / "current.parquet"
        reference.to_parquet(ref_path)
        current.to_parquet(cur_path)
        size = (ref_path.stat().st_size + cur_path.stat().st_size) / 2**20
        ours_cmd = [str(BIN_DIR / "mlops"), "drift", str(ref_path), str(cur_path), "--json"]
        runs = [timed_process(ours_cmd, root) for _ in range(repeat)]
        if runs[-1]["exit"] not in (0, 1):
            raise SystemExit(f"mlops drift exited {runs[-1]['exit']}: {runs[-1]['stdout'][-500:]}")
        drifted = json.loads(runs[-1]["stdout"])["drifted_columns"]
        ours = {key: statistics.median(run[key] for run in runs) for key in ("seconds", "cpu")} | {
            "peak_mib": max(run["peak_mib"] for run in runs)
        }
        print(
            f"whole processes, Parquet files ({size:,.0f} MiB), interpreter start to exit "
            f"(bytecode: ours {bytecode(sys.executable)}"
            + ("" if skip_evidently else f", Evidently's {bytecode(ensure_evidently_env())}")
            + "):\n"
            f"  mlops drift REF CUR --json:          {ours['seconds']:6.2f} s wall, "
            f"{ours['cpu']:6.2f} s CPU, {ours['peak_mib']:,.0f} MiB peak RSS "
            f"-> {len(drifted)} drifted columns (median of {repeat})"
        )
        if skip_evidently:
            return
        python = ensure_evidently_env()
        theirs = timed_process(
            [str(python), __file__, "--evidently-process", str(ref_path), str(cur_path)], root
        )
        if theirs["exit"] != 0:
            raise SystemExit(f"Evidently process exited {theirs['exit']}")
        print(
            f"  python: Evidently DataDriftPreset(): {theirs['seconds']:6.2f} s wall, "
            f"{theirs['cpu']:6.2f} s CPU, {theirs['peak_mib']:,.0f} MiB peak RSS "
            f"-> {json.loads(theirs['stdout'])['drifted']} drifted columns\n"
            f"  -> Evidently / mlops drift: {theirs['seconds'] / ours['seconds']:.1f}x wall, "
            f"{theirs['cpu'] / ours['cpu']:.1f}x CPU, "
            f"{theirs['peak_mib'] / ours['peak_mib']:.1f}x peak memory"
        )


def run_evidently(rows: int, columns: int, seed: int) -> dict:
    python = ensure_evidently_env()
    cmd = [str(python), __file__, "--evidently-worker", "--rows", str(rows)]
    cmd += ["--columns", str(columns), "--seed", str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("EVIDENTLY-RESULT "):
            return json.loads(line.removeprefix("EVIDENTLY-RESULT "))
    raise SystemExit(f"Evidently worker failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


# --- our side --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (median)")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--evidently-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--evidently-process", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--whole-process-only",
        action="store_true",
        help="only the whole-process comparison (mlops drift vs an Evidently process)",
    )
    args = parser.parse_args()
    if args.evidently_process:
        evidently_process(*args.evidently_process)
        return
    if args.evidently_worker:
        evidently_worker(args.rows, args.columns, args.seed)
        return

    import numpy as np
    import pandas as pd
    import scipy
    from scipy import stats

    from mlops_common.monitoring import DriftConfig, detect_drift
    from mlops_common.monitoring.stats import ks_2samp_sorted, sorted_finite

    reference, current, checksum = make_data(args.rows, args.columns, args.seed)
    data_mib = (reference.memory_usage().sum() + current.memory_usage().sum()) / 2**20
    names = list(reference.columns)
    print(
        f"drift benchmark: {args.rows:,} rows x {args.columns} numeric columns "
        f"(reference + current = {data_mib:,.0f} MiB), seed {args.seed}, "
        f"{STRONG} + {MILD} columns shifted (0.1 / 0.02 sd), {os.cpu_count()} CPUs"
    )
    print(
        f"ours:      pandas {pd.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"data checksum {checksum:.6f}"
    )
    if args.whole_process_only:
        whole_processes(reference, current, args.repeat, args.skip_evidently)
        return
    detect_drift(reference.head(1000), current.head(1000))  # warm up lazy imports

    def ours(n_jobs):
        runs = [
            measure(lambda: detect_drift(reference, current, config=DriftConfig(n_jobs=n_jobs)))
            for _ in range(args.repeat)
        ]
        return {
            "seconds": statistics.median(r[0] for r in runs),
            "cpu": statistics.median(r[3] for r in runs),
            "extra_mib": max(r[1] for r in runs),
            "report": runs[-1][2],
        }

    mine = {"1 thread": ours(1), "default threads": ours(None)}
    report = mine["1 thread"]["report"]
    for label, run in mine.items():
        print(
            f"  detect_drift (Wasserstein decides; PSI, KS statistic, missing share), {label}: "
            f"{run['seconds']:6.2f} s wall, "
            f"{run['cpu']:6.2f} s CPU, +{run['extra_mib']:,.0f} MiB peak "
            f"-> {len(run['report'].drifted_columns)} drifted columns"
        )

    # KS alone: ours (one sort per side + merge) against scipy.stats.ks_2samp, per column.
    arrays = [(reference[n].to_numpy(), current[n].to_numpy()) for n in names]

    def ours_ks():
        return [
            ks_2samp_sorted(sorted_finite(reference[n])[0], sorted_finite(current[n])[0])
            for n in names
        ]

    def scipy_ks():
        return [stats.ks_2samp(a, b) for a, b in arrays]

    ks_ours_s, ks_ours_mib, ks_ours, ks_ours_cpu = measure(ours_ks)
    ks_scipy_s, ks_scipy_mib, ks_scipy, ks_scipy_cpu = measure(scipy_ks)
    same = all(
        (s, p) == (float(r.statistic), float(r.pvalue))
        for (s, p), r in zip(ks_ours, ks_scipy, strict=True)
    )
    print(
        f"  KS only, ours:           {ks_ours_s:6.2f} s wall, {ks_ours_cpu:6.2f} s CPU, "
        f"+{ks_ours_mib:,.0f} MiB peak\n"
        f"  KS only, scipy ks_2samp: {ks_scipy_s:6.2f} s wall, {ks_scipy_cpu:6.2f} s CPU, "
        f"+{ks_scipy_mib:,.0f} MiB peak\n"
        f"  -> scipy / ours: {ks_scipy_s / ks_ours_s:.1f}x wall, {ks_scipy_cpu / ks_ours_cpu:.1f}x "
        f"CPU; identical statistic and p-value on every column: {same}"
    )
    if args.skip_evidently:
        whole_processes(reference, current, args.repeat, skip_evidently=True)
        return

    ev = run_evidently(args.rows, args.columns, args.seed)
    print(
        f"evidently: 0.7.23, pandas {ev['pandas']}, data checksum {ev['checksum']:.6f} "
        f"({'same data' if abs(ev['checksum'] - checksum) < 1e-6 else 'DIFFERENT DATA'})"
    )
    for method, run in ev["runs"].items():
        print(
            f"  DataDriftPreset(num_method={method!r}): {run['seconds']:6.2f} s wall, "
            f"{run['cpu']:6.2f} s CPU, +{run['extra_mib']:,.0f} MiB peak "
            f"-> {run['drifted']} drifted columns"
        )
    ks_values = ev["runs"]["ks"]["values"]
    worst = max(abs(ks_values[name] - p) for name, (_, p) in zip(names, ks_ours, strict=True))
    print(f"  KS p-values, Evidently's KS run vs ours: max abs difference {worst:.3g}")
    default_drifted = ev["runs"]["default"]["drifted"]
    print(
        f"  drifted columns: ours {len(report.drifted_columns)}, Evidently default "
        f"{default_drifted} (same rule: normed Wasserstein > 0.1)"
    )
    print("ratios, Evidently / ours (ours reports PSI, KS statistic and missing share as well):")
    for key in ("seconds", "cpu"):
        both = sum(run[key] for run in ev["runs"].values())
        for label, run in mine.items():
            print(
                f"  {'wall' if key == 'seconds' else 'CPU '} ours {label:15s}: "
                f"vs default preset {ev['runs']['default'][key] / run[key]:6.1f}x, "
                f"vs PSI preset {ev['runs']['psi'][key] / run[key]:6.1f}x, "
                f"vs KS preset {ev['runs']['ks'][key] / run[key]:6.1f}x, "
                f"vs all three {both / run[key]:6.1f}x"
            )
    ev_mib = max(r["extra_mib"] for r in ev["runs"].values())
    print(
        f"peak extra memory: ours {mine['1 thread']['extra_mib']:,.0f} MiB (1 thread) / "
        f"{mine['default threads']['extra_mib']:,.0f} MiB (default threads), "
        f"Evidently {ev_mib:,.0f} MiB; data {data_mib:,.0f} MiB"
    )
    whole_processes(reference, current, args.repeat, skip_evidently=False)


if __name__ == "__main__":
    main()
