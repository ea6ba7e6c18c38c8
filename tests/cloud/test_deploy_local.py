"""The local target really runs `mlops serve` in the background and answers over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cloud_helpers import Registry

from mlops_common.deploy import get_target
from mlops_common.errors import DeployError
from tools.processes import free_port


def _target(registry: Registry, port: int, state_dir: Path):
    return get_target(
        "local",
        project_root=registry.root,
        tracking_uri=registry.tracking_uri,
        port=port,
        state_dir=state_dir,
        startup_timeout=300,
    )


def _predict(url: str) -> dict:
    body = json.dumps({"records": [{"tenure": 1.5, "charges": -0.2}]}).encode()
    request = urllib.request.Request(
        f"{url}/predict", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_local_deploy_serves_champion_then_rollback_serves_previous_version(
    local_registry: Registry, tmp_path: Path
):
    target = _target(local_registry, free_port(), tmp_path / ".mlops")
    try:
        first = target.deploy(version="1")
        assert first.model_version == "1"
        second = target.deploy(alias="champion")
        assert (second.model_version, second.previous_version) == ("2", "1")
        status = target.status()
        assert status.healthy and status.model_version == "2"
        assert _predict(second.endpoint)["model_version"] == "2"

        rolled = target.rollback()
        assert (rolled.action, rolled.model_version, rolled.previous_version) == (
            "rollback",
            "1",
            "2",
        )
        assert _predict(rolled.endpoint)["model_version"] == "1"
        state = json.loads((tmp_path / ".mlops" / "deploy.json").read_text())
        assert [entry["version"] for entry in state["history"]] == ["1", "2", "1"]
        assert state["current"]["pid"] == rolled.details["pid"]
    finally:
        stopped = target.stop()
    assert not stopped.healthy and stopped.state == "not deployed"


def test_local_status_without_deployment_is_unhealthy_and_says_how_to_deploy(
    local_registry: Registry, tmp_path: Path
):
    status = _target(local_registry, free_port(), tmp_path).status()
    assert (status.healthy, status.state) == (False, "not deployed")
    assert "mlops deploy up" in status.summary()


def test_local_rollback_without_history_raises_deploy_error(
    local_registry: Registry, tmp_path: Path
):
    with pytest.raises(DeployError, match="nothing was deployed"):
        _target(local_registry, free_port(), tmp_path).rollback()


def test_local_deploy_refuses_a_port_another_program_listens_on(
    local_registry: Registry, tmp_path: Path
):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(DeployError, match=f"port {port} on 127.0.0.1 is already in use"):
            _target(local_registry, port, tmp_path).deploy(alias="champion")
    assert not (tmp_path / "deploy.json").exists()


def test_local_deploy_of_unknown_alias_names_model_and_alias(
    local_registry: Registry, tmp_path: Path
):
    with pytest.raises(DeployError, match="'churn-model-model' has no alias 'staging'"):
        _target(local_registry, free_port(), tmp_path).deploy(alias="staging")


def _bystander() -> subprocess.Popen[bytes]:
    """An unrelated program in its own process group, as a reused pid would be."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )


@pytest.mark.parametrize("recorded", ["legacy", "other start time"])
def test_local_stop_leaves_alone_a_pid_that_is_not_the_server_it_started(
    local_registry: Registry, tmp_path: Path, recorded: str
):
    bystander = _bystander()
    try:
        import psutil

        entry = {"model_name": "m", "version": "1", "url": "http://127.0.0.1:9", "port": 9}
        entry["pid"] = bystander.pid
        if recorded == "other start time":
            cmdline = psutil.Process(bystander.pid).cmdline()
            entry["process"] = {"create_time": time.time() - 3600, "cmdline": cmdline}
        state = {"current": entry, "history": [entry]}
        (tmp_path / "deploy.json").write_text(json.dumps(state), encoding="utf-8")
        target = _target(local_registry, free_port(), tmp_path)
        assert target.status().state == "stopped"
        stopped = target.stop()
        assert stopped.state == "not deployed"
        time.sleep(0.5)
        assert bystander.poll() is None, "deploy down signalled a process it did not start"
        saved = json.loads((tmp_path / "deploy.json").read_text(encoding="utf-8"))
        assert saved["current"] is None and saved["history"] == [entry]
    finally:
        bystander.kill()
        bystander.wait(timeout=10)
