"""The servers this repository's tasks start: a free port, waiting until one answers, stopping it.

Shared by ``benchmarks/``, ``tests/`` (the fixtures' emulators, ``mlflow server``,
``mlops serve``) and ``nox -s demo`` (through :mod:`tools.project_workflow`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "answers",
    "dummy_aws_env",
    "free_port",
    "running",
    "running_moto",
    "serve_in_thread",
    "stop",
    "stop_process_group",
    "wait_ready",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM ``process``; SIGKILL it when it has not exited after ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group started with ``start_new_session=True``, SIGKILL what is left
    after 10 s, then sweep the group: server workers may outlive their parent."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def answers(url: str) -> bool:
    """Whether a server answers ``url`` at all (any HTTP status counts: it is up)."""
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextlib.contextmanager
def running(
    command: list[str], *, url: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``, wait until ``url`` answers, and always stop its process group."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not answers(url):
            if process.poll() is not None:
                raise RuntimeError(
                    f"{command[0]} exited with {process.returncode}: {log.read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not answer {url} within 30 s")
            time.sleep(0.1)
        yield process
    finally:
        stop_process_group(process)


def dummy_aws_env(home: Path) -> dict[str, str]:
    """Dummy AWS credentials for the emulators: no shared config under ``home`` (which need not
    exist) and no instance-metadata probes."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }


@contextlib.contextmanager
def running_moto(bin_dir: Path, log: Path, env: dict[str, str]) -> Iterator[str]:
    """``moto_server`` (S3, SageMaker, ...) from ``bin_dir`` on a free port of 127.0.0.1, with
    ``env`` (:func:`dummy_aws_env`); yields its URL once it answers, always stops it."""
    url = f"http://127.0.0.1:{free_port()}"
    command = [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]]
    with running(command, url=f"{url}/moto-api/", log=log, env=env):
        yield url


def wait_ready(url: str, alive: Callable[[], bool], timeout: float = 240.0) -> None:
    """Poll ``url``/ready until it answers 200; fail once ``alive()`` is false, or on timeout."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise AssertionError(f"service at {url} stopped before it was ready")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"service at {url} was not ready after {timeout} s")


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run the ASGI ``app`` with uvicorn in a thread on 127.0.0.1; its URL once it is ready.

    The server always stops when the block ends.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_ready(url, thread.is_alive)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
