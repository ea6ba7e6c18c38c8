"""The ``local`` target: ``mlops serve`` as a background process on this machine.

State lives in ``<project>/.mlops/deploy.json``: the running deployment (pid, port, model version)
and the history of every version deployed, so ``rollback`` can serve the one before. The server's
output goes to ``<project>/.mlops/serve.log``.

Before it signals anything, ``stop`` (``mlops deploy down``) checks that the recorded pid is still
the server it started: the same start time and command line as recorded at launch. A pid that
the system has since reused for another program is left alone (the state is cleared and the
status says so).

>>> target = LocalTarget(model_name="churn-model-model", port=8123)  # doctest: +SKIP
>>> target.deploy(alias="champion").endpoint  # doctest: +SKIP
'http://127.0.0.1:8123'
>>> target.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common.deploy.base import DeployResult, DeployStatus, DeployTarget, ModelRef
from mlops_common.errors import DeployError

__all__ = ["LocalTarget"]

# Runs the `mlops` CLI with this very interpreter, whatever is (or is not) on PATH.
_MLOPS = "import sys; from mlops_common.cli import main; sys.argv[0] = 'mlops'; main()"


class LocalTarget(DeployTarget):
    """Serve the model on ``host:port`` from a background ``mlops serve`` process."""

    name = "local"

    def __init__(
        self,
        *,
        project_root: Path | str = ".",
        model_name: str = "model",
        tracking_uri: str | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
        startup_timeout: float = 90.0,
        state_dir: Path | str | None = None,
    ) -> None:
        super().__init__(
            project_root=Path(project_root).resolve(),
            model_name=model_name,
            tracking_uri=tracking_uri,
        )
        self.host = host
        self.port = int(port)
        self.startup_timeout = float(startup_timeout)
        self.state_dir = Path(state_dir) if state_dir else self.project_root / ".mlops"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "deploy.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "serve.log"

    # ---- the interface ---------------------------------------------------------------------

    def deploy(self, *, alias: str = "champion", version: str | None = None) -> DeployResult:
        return self._run(self._resolve(alias, version), action="deploy", alias=alias)

    def status(self) -> DeployStatus:
        current = self._load_state().get("current")
        if not current:
            return self._not_deployed("run `mlops deploy up --target local`")
        endpoint = current["url"]
        common = {
            "target": self.name,
            "endpoint": endpoint,
            "model_name": current["model_name"],
            "model_version": current["version"],
        }
        if not _is_our_server(current):
            return DeployStatus(
                healthy=False,
                state="stopped",
                detail=f"process {current['pid']} is gone; see {self.log_file}",
                **common,
            )
        answer = _get(f"{endpoint}/health")
        if answer is None:
            return DeployStatus(
                healthy=False,
                state="unresponsive",
                detail=f"GET {endpoint}/health did not answer 200",
                **common,
            )
        return DeployStatus(healthy=True, state="running", detail=f"pid {current['pid']}", **common)

    def rollback(self) -> DeployResult:
        state = self._load_state()
        current = state.get("current") or (state.get("history") or [None])[-1]
        if current is None:
            raise DeployError(f"{self.state_file}: nothing was deployed; nothing to roll back")
        earlier = [
            entry
            for entry in state.get("history", [])
            if entry["model_name"] == current["model_name"]
            and entry["version"] != current["version"]
        ]
        if not earlier:
            raise DeployError(
                f"{self.state_file}: only v{current['version']} was ever deployed; "
                "there is no earlier version to roll back to"
            )
        previous = earlier[-1]
        model = ModelRef(name=previous["model_name"], version=previous["version"])
        return self._run(model, action="rollback", alias=None)

    # ---- local only ------------------------------------------------------------------------

    def stop(self) -> DeployStatus:
        """Stop the running server (if any) and keep the history for later rollbacks."""
        self._stop_current(self._load_state())
        return self.status()

    # ---- internals -------------------------------------------------------------------------

    def _run(self, model: ModelRef, *, action: str, alias: str | None) -> DeployResult:
        state = self._load_state()
        current = self._stop_current(state)
        previous_version = current["version"] if current else None
        if _port_in_use(self.host, self.port):
            raise DeployError(
                f"port {self.port} on {self.host} is already in use by another program; "
                "pass another port (`[tool.mlops.deploy.local] port = ...`) or stop it"
            )
        process = self._start(model)
        url = f"http://{self.host}:{self.port}"
        self._wait_ready(process, url)
        entry = {
            "model_name": model.name,
            "version": model.version,
            "model_uri": model.uri,
            "alias": alias,
            "pid": process.pid,
            "process": _identity(process.pid),
            "url": url,
            "port": self.port,
            "action": action,
            "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        state["current"] = entry
        state.setdefault("history", []).append(entry)
        self._save_state(state)
        return self._result(
            action,
            model,
            endpoint=url,
            state="running",
            previous_version=previous_version,
            details={"pid": process.pid, "log": str(self.log_file), "state": str(self.state_file)},
        )

    def _stop_current(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """Stop the running server, if any, and record that; returns what was running."""
        current = state.get("current")
        if current:
            if _is_our_server(current):
                _terminate(current["pid"])
            state["current"] = None
            self._save_state(state)
        return current

    def _start(self, model: ModelRef) -> subprocess.Popen[bytes]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-c", _MLOPS, "serve", "--model-uri", model.uri]
        command += ["--host", self.host, "--port", str(self.port)]
        env = dict(os.environ)
        if self.tracking_uri:
            command += ["--tracking-uri", self.tracking_uri]
            env["MLFLOW_TRACKING_URI"] = self.tracking_uri
        with self.log_file.open("ab") as log:
            # A new session: the server outlives the `mlops deploy` command that started it.
            return subprocess.Popen(
                command,
                cwd=self.project_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self, process: subprocess.Popen[bytes], url: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DeployError(
                    f"`mlops serve` exited with code {process.returncode} before answering: "
                    f"{_last_line(self.log_file)} (full log: {self.log_file})"
                )
            if _get(f"{url}/health") is not None:
                return
            time.sleep(0.2)
        _terminate(process.pid)
        raise DeployError(
            f"`mlops serve` did not answer {url}/health within {self.startup_timeout:.0f} s; "
            f"see {self.log_file} or raise startup_timeout"
        )

    def _load_state(self) -> dict[str, Any]:
        if not self.state_file.is_file():
            return {"current": None, "history": []}
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DeployError(
                f"{self.state_file}: unreadable deploy state ({exc}); delete it and deploy again"
            ) from exc

    def _save_state(self, state: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        temporary.replace(self.state_file)


def _get(url: str, timeout: float = 2.0) -> bytes | None:
    """The body of a 200 answer, else None (refused, timed out, or another status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read() if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    # A zombie child of this very process still answers signal 0; reap it if it has exited.
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: signal 0 said it lives
        return True
    return finished == 0


def _identity(pid: int) -> dict[str, Any] | None:
    """What tells this process apart from a later one that reuses its pid."""
    import psutil

    try:
        process = psutil.Process(pid)
        return {"create_time": process.create_time(), "cmdline": process.cmdline()}
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _is_our_server(entry: dict[str, Any]) -> bool:
    """Whether ``entry``'s pid is alive and still the ``mlops serve`` this target started.

    State written before identities were recorded has none: then the command line must at
    least be an ``mlops serve`` of this interpreter on the recorded port.
    """
    pid = entry.get("pid")
    if not isinstance(pid, int) or pid <= 1 or not _alive(pid):
        return False
    now = _identity(pid)
    if now is None:
        return False
    recorded = entry.get("process")
    if isinstance(recorded, dict):
        same_start = abs(float(recorded.get("create_time", 0)) - now["create_time"]) < 0.5
        return same_start and recorded.get("cmdline") == now["cmdline"]
    cmdline = now["cmdline"]
    return _MLOPS in cmdline and "serve" in cmdline and str(entry.get("port")) in cmdline


def _terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it if it has not exited after ``grace``."""
    if not _alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while _alive(pid) and time.monotonic() < deadline + 5:
        time.sleep(0.05)


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _last_line(path: Path) -> str:
    if not path.is_file():
        return "no output"
    lines = [
        line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line
    ]
    return lines[-1] if lines else "no output"
