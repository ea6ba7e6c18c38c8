"""Serving: `mlops serve` against `mlflow models serve --env-manager local`, same model, same load.

Three servers serve the same registered scikit-learn model (``models:/<name>@champion`` in a temp
sqlite store) on 127.0.0.1: ``mlops serve --capture DIR`` (``/metrics`` on, records captured to
gzip files), the same service with a sink that keeps nothing (the baseline of capture's cost),
and ``mlflow models serve``. A second process generates the load: N keep-alive connections,
driven by one event loop, each sending its next request when the last answer is in, for a
fixed time at 1 row per request, then at 100 rows (same record, each server's own payload
shape). A fixed time, not a fixed count, so that capture writes several files during every
phase (a file is cut every 10,000 records): its encoding is inside what is measured. The three
servers run side by side and are measured in turn, for several rounds. Reported per server and
batch size, as medians over the rounds: requests/s, p50/p99 latency, server CPU per request and
seconds from process start to the first successful prediction; then the ratios (taken within
each round, their median and range), all from one run, and the records the capture sink wrote
and dropped (from its own ``/metrics``).

    python benchmarks/bench_serving.py [--clients 8] [--seconds 6] [--rounds 3] [--batch-rows 100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.processes import free_port, stop

MODEL_NAME = "bench-model"
FEATURES = [f"feature_{index}" for index in range(8)]
RECORD = {name: 0.5 + index for index, name in enumerate(FEATURES)}
BIN_DIR = Path(sys.executable).parent
STARTUP_TIMEOUT = 300.0
WARMUP_SECONDS = 0.5


def build_store(root: Path) -> str:
    """Train a small classifier on a DataFrame, log it with a signature, alias it champion."""
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    from mlops_common import store

    tracking_uri = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
    client = store.client(tracking_uri)
    experiment = client.create_experiment(
        "bench", artifact_location=(root / "mlartifacts").as_uri()
    )
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(2_000, len(FEATURES))), columns=FEATURES)
    target = (frame.sum(axis=1) > 0).astype(int)
    model = LogisticRegression(max_iter=500).fit(frame, target)
    with store.mlflow_uris(tracking_uri):
        with mlflow.start_run(experiment_id=experiment):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(frame, model.predict(frame)),
                pip_requirements=["scikit-learn", "pandas", "numpy"],
            )
        version = mlflow.register_model(info.model_uri, MODEL_NAME)
    client.set_registered_model_alias(MODEL_NAME, "champion", version.version)
    return tracking_uri


def post(port: int, path: str, body: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, body, HEADERS)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


HEADERS = {"Content-Type": "application/json"}


def start_and_time(
    command: list[str], env: dict[str, str], port: int, path: str, body: bytes, log: Path
):
    """Start a server; return (process, seconds until its first successful prediction)."""
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = started + STARTUP_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{tail}")
        try:
            status, payload = post(port, path, body, timeout=5)
            if status == 200:
                return process, time.perf_counter() - started
            raise RuntimeError(f"{command[:3]}: HTTP {status}: {payload[:300]!r}")
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command[:3]} did not answer within {STARTUP_TIMEOUT} s")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants, from /proc.

    ``mlflow models serve`` runs uvicorn as a child process, so the tree is what counts. CPU
    time per request holds up on a busy machine, where wall-clock figures swing.
    """
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, ..., utime (index 11), stime (index 12).
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _) in stats.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    ticks = sum(stats[member][1] for member in tree if member in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def load(port: int, path: str, body: bytes, clients: int, seconds: float) -> dict[str, float]:
    """N keep-alive connections posting for ``seconds``, driven by one event loop.

    Each connection sends its next request as soon as the last response is in (a closed loop,
    as N client threads would), until the time is up; the answers in flight then are awaited.
    One thread on non-blocking sockets, not N threads on http.client: threads in one process
    take turns on the GIL (5 ms slices), so their own waiting showed up as server latency and,
    at 1 row, capped the throughput measured.
    """
    import selectors
    import socket

    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    failures = 0
    for _ in range(clients):
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.setblocking(False)
        state = {"buffer": b"", "begin": 0.0}
        selector.register(connection, selectors.EVENT_READ, state)

    def send(connection: socket.socket, state: dict) -> None:
        state["begin"] = time.perf_counter()
        connection.sendall(request)  # a few hundred bytes: the socket buffer takes them at once

    begin = time.perf_counter()
    for key in list(selector.get_map().values()):
        send(key.fileobj, key.data)
    open_connections = len(selector.get_map())
    stop_sending = begin + seconds
    while open_connections:
        events = selector.select(timeout=30)
        if not events:
            raise SystemExit("load: the server stopped answering")
        for key, _ in events:
            connection, state = key.fileobj, key.data
            chunk = connection.recv(1 << 16)
            if not chunk:
                raise SystemExit("load: the server closed a keep-alive connection")
            state["buffer"] += chunk
            head, separator, rest = state["buffer"].partition(b"\r\n\r\n")
            if not separator:
                continue
            length = _content_length(head)
            if len(rest) < length:
                continue
            latencies.append(time.perf_counter() - state["begin"])
            failures += not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
            state["buffer"] = rest[length:]
            if time.perf_counter() < stop_sending:
                send(connection, state)
            else:
                selector.unregister(connection)
                connection.close()
                open_connections -= 1
    elapsed = time.perf_counter() - begin
    merged = sorted(latencies)
    return {
        "requests": len(merged),
        "failures": failures,
        "seconds": elapsed,
        "rps": len(merged) / elapsed,
        "p50_ms": statistics.median(merged) * 1000,
        "p99_ms": merged[min(len(merged) - 1, int(len(merged) * 0.99))] * 1000,
    }


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise SystemExit(f"load: a response without Content-Length: {head[:200]!r}")


def run_load_process(port: int, path: str, body: bytes, clients: int, seconds: float) -> dict:
    """The load generator runs in its own process so it does not share the server's GIL; a
    short warm-up run first. Returns the measured run's figures, ``warmup_requests`` added."""
    command = [sys.executable, __file__, "--load", str(port), path, body.decode()]
    warmup = subprocess.run(
        [*command, "4", str(WARMUP_SECONDS)], check=True, capture_output=True, text=True
    )
    result = subprocess.run(
        [*command, str(clients), str(seconds)], check=True, capture_output=True, text=True
    )
    return {**json.loads(result.stdout), "warmup_requests": json.loads(warmup.stdout)["requests"]}


def capture_counters(port: int) -> dict[str, float]:
    """The capture sink's own counters (written, dropped, buffered), from ``GET /metrics``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    counters = {}
    for line in text.splitlines():
        for name in ("written", "dropped", "buffered"):
            if line.startswith(f"mlops_capture_records_{name}") and " " in line:
                counters[name] = float(line.rsplit(" ", 1)[1])
    return counters


class NullSink:
    """A sink that keeps nothing: the no-capture baseline of the capture cost."""

    written = dropped = 0

    def append(self, *args: object, **kwargs: object) -> None:
        pass

    def close(self) -> None:
        pass


def serve_without_capture(port: int) -> None:
    """What `mlops serve` does (load the model, then run uvicorn), with a sink keeping nothing."""
    import uvicorn

    from mlops_common.serving import create_app, load_served_model
    from mlops_common.serving.app import freeze_startup_heap

    served = load_served_model(model_name=MODEL_NAME)
    app = create_app(served.uri, model_name=MODEL_NAME, capture=NullSink(), _served=served)
    freeze_startup_heap()
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="info")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0, help="of load per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each server")
    parser.add_argument("--batch-rows", type=int, default=100)
    args = parser.parse_args()

    import pandas

    sizes = (1, args.batch_rows)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tracking_uri = build_store(root)
        # mlflow models serve execs `uvicorn` from PATH: put this environment's scripts first.
        path = f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": path}
        env.pop("MLFLOW_REGISTRY_URI", None)
        mlops = [str(BIN_DIR / "mlops"), "serve", "--model", MODEL_NAME]
        servers = {
            # metrics are always on; capture batches gzip files into a local folder
            "mlops serve --capture": (
                [*mlops, "--capture", str(root / "capture"), "--port"],
                "/predict",
                "records",
            ),
            "mlops, no capture": (
                [sys.executable, __file__, "--serve-without-capture"],
                "/predict",
                "records",
            ),
            "mlflow models serve": (
                [
                    str(BIN_DIR / "mlflow"),
                    "models",
                    "serve",
                    "-m",
                    f"models:/{MODEL_NAME}@champion",
                    "--env-manager",
                    "local",
                    "-h",
                    "127.0.0.1",
                    "-p",
                ],
                "/invocations",
                "dataframe_records",
            ),
        }
        processes, first_answers = {}, {}
        runs: dict[tuple[str, int], list[dict]] = {}
        try:
            for label, (command, route, key) in servers.items():
                port = free_port()
                probe = json.dumps({key: [RECORD]}).encode()
                processes[label] = (
                    *start_and_time(
                        [*command, str(port)], env, port, route, probe, root / f"{label[:5]}.log"
                    ),
                    port,
                )
            # Rounds, each server in turn: a slow spell of the machine falls on all three alike,
            # and the ratios are taken within a round, then their median.
            for round_number in range(1, args.rounds + 1):
                for rows in sizes:
                    for label, (_, route, key) in servers.items():
                        process, first_answer, port = processes[label]
                        first_answers[label] = first_answer
                        body = json.dumps({key: [RECORD] * rows}).encode()
                        cpu_before = tree_cpu_seconds(process.pid)
                        stats = run_load_process(port, route, body, args.clients, args.seconds)
                        cpu_ms = (tree_cpu_seconds(process.pid) - cpu_before) * 1000
                        # The warm-up requests count too: divide by all of them.
                        stats["cpu_ms"] = cpu_ms / (stats["requests"] + stats["warmup_requests"])
                        runs.setdefault((label, rows), []).append(stats)
                        print(
                            f"  round {round_number}, {label}, {rows} rows/request: "
                            f"{stats['rps']:.0f} req/s",
                            flush=True,
                        )
            counters = capture_counters(processes["mlops serve --capture"][2])
        finally:
            for process, _, _ in processes.values():
                stop(process)
        captured = sum(1 for _ in (root / "capture").rglob("*.jsonl.gz"))

    import mlflow
    import sklearn

    median = statistics.median
    print(
        f"serving benchmark: {args.clients} clients, {args.rounds} rounds of {args.seconds:g} s "
        f"per server at 1 row and at {args.batch_rows} rows per request, 127.0.0.1; "
        f"mlflow {mlflow.__version__}, scikit-learn {sklearn.__version__}, pandas "
        f"{pandas.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        "at the end; medians over the rounds"
    )
    print(
        f"{'server':<24}{'rows':>5}{'req/s':>9}{'rows/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'p99/p50':>9}{'CPU ms/req':>12}{'first answer s':>16}{'fail':>6}"
    )
    for (label, rows), measured in runs.items():
        rps = median(run["rps"] for run in measured)
        print(
            f"{label:<24}{rows:>5}{rps:>9.0f}{rps * rows:>10.0f}"
            f"{median(run['p50_ms'] for run in measured):>9.2f}"
            f"{median(run['p99_ms'] for run in measured):>9.2f}"
            f"{median(run['p99_ms'] / run['p50_ms'] for run in measured):>9.2f}"
            f"{median(run['cpu_ms'] for run in measured):>12.2f}"
            f"{first_answers[label]:>16.2f}{sum(run['failures'] for run in measured):>6}"
        )
    print(
        f"capture: {counters.get('written', 0):.0f} records in {captured} files, "
        f"{counters.get('buffered', 0):.0f} still buffered at the end of the load (written on "
        f"shutdown), {counters.get('dropped', 0):.0f} dropped"
    )

    def paired(rows: int, numerator: str, denominator: str, figure) -> str:
        """The median over rounds of a ratio taken within each round, and its range."""
        ratios = sorted(
            figure(ours) / figure(theirs)
            for ours, theirs in zip(runs[numerator, rows], runs[denominator, rows], strict=True)
        )
        return f"x{median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"

    ours, bare, theirs = servers
    first = first_answers[ours] / first_answers[theirs]
    for rows in sizes:
        cost = sorted(
            1 - with_capture["rps"] / without["rps"]
            for with_capture, without in zip(runs[ours, rows], runs[bare, rows], strict=True)
        )
        print(
            f"{rows} rows/request, mlops (metrics + capture) / mlflow: "
            f"throughput {paired(rows, ours, theirs, lambda run: run['rps'])}, "
            f"p99 {paired(rows, ours, theirs, lambda run: run['p99_ms'])} (lower is better), "
            f"server CPU per request {paired(rows, ours, theirs, lambda run: run['cpu_ms'])}, "
            f"first answer x{first:.2f}; capture costs {median(cost):+.1%} of throughput "
            f"({cost[0]:+.1%} to {cost[-1]:+.1%}), "
            f"CPU per request {paired(rows, ours, bare, lambda run: run['cpu_ms'])}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--load":
        _, _, port_arg, path_arg, body_arg, clients_arg, seconds_arg = sys.argv
        print(
            json.dumps(
                load(
                    int(port_arg), path_arg, body_arg.encode(), int(clients_arg), float(seconds_arg)
                )
            )
        )
    elif len(sys.argv) == 3 and sys.argv[1] == "--serve-without-capture":
        serve_without_capture(int(sys.argv[2]))
    else:
        main()
