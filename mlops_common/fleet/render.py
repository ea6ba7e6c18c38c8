"""Pristine renders: what a template version renders for a project's answers, with no task run.

Copier runs in a subprocess (it changes the process's working directory, so it cannot run in
threads) with ``--skip-tasks``: a pristine render never executes template code. Renders are
cached per (source, ref, answers) for the length of a run, so a fleet of projects with the same
answers pays for each render once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from mlops_common.fleet._git import GIT_ENV

__all__ = ["CopierFailed", "RenderCache", "read_tree"]

ANSWERS_FILE = ".copier-answers.yml"
_IGNORED_PARTS = {".git"}


class CopierFailed(RuntimeError):
    """Copier exited non-zero; the message is its last line of output."""


def copier(*args: str, cwd: Path | None = None, timeout: float = 600) -> str:
    """Run ``python -m copier ARGS`` non-interactively; raise CopierFailed with its last line."""
    env = {**os.environ, **GIT_ENV}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "copier", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise CopierFailed(f"copier {args[0]} timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise CopierFailed(lines[-1].strip() if lines else f"copier {args[0]} failed")
    return done.stdout


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (not ``.git``, not the answers file) as ``{posix path: bytes}``."""
    tree: dict[str, bytes] = {}
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _IGNORED_PARTS]
        for name in files:
            path = Path(current) / name
            rel = path.relative_to(root).as_posix()
            if rel == ANSWERS_FILE or path.is_symlink():
                continue
            tree[rel] = path.read_bytes()
    return tree


class RenderCache:
    """Pristine renders of (source, ref, answers), each made once per run, thread-safe."""

    def __init__(self, workdir: Path | None = None, timeout: float = 600) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="mlops-fleet-renders-", dir=workdir))
        self._timeout = timeout
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._trees: dict[str, dict[str, bytes]] = {}

    def tree(self, source: str, ref: str, answers: dict[str, Any]) -> dict[str, bytes]:
        """The files ``source`` at ``ref`` renders for ``answers`` (new questions: defaults)."""
        data = {k: v for k, v in answers.items() if not str(k).startswith("_")}
        key = hashlib.sha256(
            json.dumps([source, ref, data], sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._trees:
                self._trees[key] = self._render(source, ref, data, key)
            return self._trees[key]

    def _render(self, source: str, ref: str, data: dict[str, Any], key: str) -> dict[str, bytes]:
        import yaml

        dest = self._dir / key
        answers_file = self._dir / f"{key}.answers.yml"
        answers_file.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
        # --defaults answers new questions as `copier update --defaults` does; --skip-tasks means
        # nothing from the template runs, so no --trust is given.
        copier(
            "copy", "--quiet", "--defaults", "--skip-tasks", "--vcs-ref", ref,
            "--data-file", str(answers_file), source, str(dest),
            timeout=self._timeout,
        )  # fmt: skip
        tree = read_tree(dest)
        shutil.rmtree(dest, ignore_errors=True)
        return tree

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
