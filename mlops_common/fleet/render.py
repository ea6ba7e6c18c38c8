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

    def trees(
        self, source: str, refs: list[str], answers: dict[str, Any]
    ) -> list[dict[str, bytes]]:
        """The files ``source`` renders at each of ``refs`` for ``answers`` (new questions take
        their defaults, as ``copier update --defaults`` answers them). The renders still missing
        are made by one Copier process, with tasks skipped: no template code runs."""
        data = {k: v for k, v in answers.items() if not str(k).startswith("_")}
        keys = [
            hashlib.sha256(
                json.dumps([source, ref, data], sort_keys=True, default=str).encode()
            ).hexdigest()[:16]
            for ref in refs
        ]
        with self._lock:
            locks = [self._locks.setdefault(key, threading.Lock()) for key in sorted(set(keys))]
        for lock in locks:
            lock.acquire()
        try:
            missing = [(ref, key) for ref, key in zip(refs, keys, strict=True)]
            missing = [(ref, key) for ref, key in dict(missing).items() if key not in self._trees]
            if missing:
                self._render(source, missing, data)
            return [self._trees[key] for key in keys]
        finally:
            for lock in locks:
                lock.release()

    def _render(self, source: str, wanted: list[tuple[str, str]], data: dict[str, Any]) -> None:
        import yaml

        answers_file = self._dir / f"{wanted[0][1]}.answers.yml"
        answers_file.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
        jobs = [f"{ref}={self._dir / key}" for ref, key in wanted]
        env = {**os.environ, **GIT_ENV}
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mlops_common.fleet.render",
                    source,
                    str(answers_file),
                    *jobs,
                ],
                capture_output=True,
                text=True,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=self._timeout,
            )
        except subprocess.TimeoutExpired:
            raise CopierFailed(f"pristine render timed out after {self._timeout:.0f} s") from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            raise CopierFailed(lines[-1].strip() if lines else "pristine render failed")
        for _, key in wanted:
            dest = self._dir / key
            self._trees[key] = read_tree(dest)
            shutil.rmtree(dest, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _render_main(argv: list[str]) -> None:
    """``python -m mlops_common.fleet.render SRC ANSWERS REF=DEST...``: one process, many renders.

    ``skip_tasks`` means nothing from the template runs, so ``unsafe`` stays off; ``defaults``
    answers new questions as ``copier update --defaults`` does.
    """
    import copier as copier_api
    import yaml

    source, answers_file, *jobs = argv
    data = yaml.safe_load(Path(answers_file).read_text(encoding="utf-8")) or {}
    for job in jobs:
        ref, _, dest = job.partition("=")
        copier_api.run_copy(
            source, dest, data=data, defaults=True, quiet=True, skip_tasks=True, vcs_ref=ref
        )


if __name__ == "__main__":
    _render_main(sys.argv[1:])
