"""The checks an updated project must pass before it counts as ``updated-clean``.

Lint (ruff), the project's tests (pytest), and a valid pipeline: ``dvc status`` reads dvc.yaml
with real DVC, and :func:`missing_params` finds the parameters a stage depends on that its params
file lacks (what ``dvc repro`` would stop on: ``Parameters 'evaluate' are missing from
'params.yaml'``). ``dvc repro --dry`` cannot serve here: on a fresh clone the pipeline's data are
absent and it stops at the first stage whose input is produced by an earlier one.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_common.fleet._git import GIT_ENV

__all__ = ["PIPELINE_CHECK", "default_check_commands", "missing_params", "run_checks"]

# Stands for the in-process params check in a list of check commands.
PIPELINE_CHECK = ["mlops-pipeline-params"]


def default_check_commands() -> list[list[str]]:
    """ruff over the project, its pytest suite, ``dvc status`` and the params check."""
    return [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
        # Not --quiet: with it DVC exits 1 whenever a stage is not up to date (a fresh clone).
        [sys.executable, "-m", "dvc", "status"],
        PIPELINE_CHECK,
    ]


def _has(data: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def missing_params(project_dir: Path) -> list[str]:
    """``file:key`` for every stage parameter of dvc.yaml that its params file does not have.

    >>> missing_params(Path("clients/churn-model"))  # doctest: +SKIP
    ['params.yaml:evaluate']
    """
    import yaml

    try:
        pipeline = yaml.safe_load((project_dir / "dvc.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    stages = pipeline.get("stages") if isinstance(pipeline, dict) else None
    loaded: dict[str, Any] = {}
    missing: list[str] = []
    for stage in (stages or {}).values():
        entries = stage.get("params", []) if isinstance(stage, dict) else []
        for entry in entries:
            pairs = (
                [(file, keys) for file, keys in entry.items()]
                if isinstance(entry, dict)
                else [("params.yaml", [entry])]
            )
            for file, keys in pairs:
                if file not in loaded:
                    try:
                        text = (project_dir / file).read_text(encoding="utf-8")
                        loaded[file] = yaml.safe_load(text) or {}
                    except (OSError, yaml.YAMLError):
                        loaded[file] = None
                for key in keys or []:
                    if loaded[file] is None or not _has(loaded[file], str(key)):
                        label = f"{file}:{key}"
                        if label not in missing:
                            missing.append(label)
    return missing


def run_checks(cwd: Path, commands: Sequence[Sequence[str]], timeout: float) -> tuple[bool, str]:
    """Run each command in ``cwd`` until one fails; ``(passed, what failed and its tail)``."""
    env = {**os.environ, **GIT_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd / "src"), env.get("PYTHONPATH")]))
    env.pop("VIRTUAL_ENV", None)
    for argv in commands:
        if list(argv) == PIPELINE_CHECK:
            missing = missing_params(cwd)
            if missing:
                names = ", ".join(missing)
                return False, f"pipeline: parameters missing from the params file: {names}"
            continue
        label = shlex.join(argv)
        try:
            done = subprocess.run(
                list(argv),
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return False, f"{label}: timed out after {timeout:.0f} s"
        except OSError as exc:
            return False, f"{label}: {exc}"
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
            return False, f"{label}: exit {done.returncode}\n" + "\n".join(tail)
    return True, ""
