"""Stopping the servers that fixtures start (emulators, `mlflow server`, `mlops serve`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


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
