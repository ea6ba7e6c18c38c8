"""`mlops serve` checks the tracking store before anything else: a dead server is one line, fast."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_serve_with_an_unreachable_tracking_server_fails_with_one_line_and_exit_3(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    mlops = Path(sys.executable).parent / "mlops"
    result = subprocess.run(
        [str(mlops), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,  # today's failure mode is a ~250 s hang; the probe answers in seconds
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: MLflow tracking server {uri} did not answer")
