"""`mlops deploy up|status|rollback|down` through the real `mlops` script on the local target:
--json on stdout, --output files, the positional VERSION and the exit-code rule.

Each `up` starts a server (5-60 s on a loaded machine), so this test starts two; a successful
rollback is covered by test_deploy_local.py through the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cloud_helpers import Registry, write_project

from tools.processes import free_port

MLOPS = Path(sys.executable).parent / "mlops"


def test_deploy_commands_print_json_write_output_and_follow_the_exit_codes(
    local_registry: Registry, tmp_path: Path
):
    project = tmp_path / "project"
    write_project(
        project,
        local_registry.model_name,
        extra=f"\n[tool.mlops.deploy.local]\nport = {free_port()}\nstartup_timeout = 300\n",
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": local_registry.tracking_uri}

    def deploy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MLOPS), "deploy", *args],
            capture_output=True,
            text=True,
            cwd=project,
            env=env,
            timeout=600,
        )

    def written(name: str) -> dict:
        return json.loads((tmp_path / name).read_text(encoding="utf-8"))

    try:
        nothing = deploy("status", "--json", "--output", str(tmp_path / "status0.json"))
        assert nothing.returncode == 1, nothing.stderr  # not healthy: a negative verdict
        assert json.loads(nothing.stdout)["healthy"] is False
        assert written("status0.json") == json.loads(nothing.stdout)

        refused = deploy("rollback")
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().startswith("error: ") and "nothing was deployed" in (
            refused.stderr
        )

        old_style = deploy("up", "--version", "1", "--json", "-o", str(tmp_path / "up1.json"))
        assert old_style.returncode == 0, old_style.stderr
        assert old_style.stderr.strip().splitlines() == [
            "warning: --version is deprecated; pass the version as an argument: `mlops deploy up 1`"
        ]
        assert json.loads(old_style.stdout)["model_version"] == "1"
        assert written("up1.json")["model_version"] == "1"

        positional = deploy("up", "2", "--json")
        assert positional.returncode == 0, positional.stderr
        assert (json.loads(positional.stdout)["model_version"], positional.stderr) == ("2", "")

        healthy = deploy("status", "-o", str(tmp_path / "status.json"))
        assert healthy.returncode == 0, healthy.stderr
        assert "is healthy" in healthy.stdout
        assert written("status.json")["model_version"] == "2"
    finally:
        down = deploy("down", "--json", "--output", str(tmp_path / "down.json"))
    assert down.returncode == 0, down.stderr  # stopped is what `down` was asked for
    assert json.loads(down.stdout)["healthy"] is False
    assert written("down.json")["state"] == json.loads(down.stdout)["state"]
