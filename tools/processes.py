"""The servers this repository's tasks start: a free port for one, and stopping it.

Shared by ``benchmarks/``, ``tests/`` (the fixtures' emulators, ``mlflow server``,
``mlops serve``) and ``nox -s demo`` (through :mod:`tools.project_workflow`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess

__all__ = ["free_port", "stop", "stop_process_group"]


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
