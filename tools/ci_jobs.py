"""Run a rendered project's CI jobs as written, on this machine, for tests.

The jobs' own install steps are left out (the test environment already holds the library and the
project's dependencies, and `uv sync` there would re-sync the test environment itself), and `nox`
runs the project's real noxfile sessions without creating virtualenvs. pre-commit is left out
too: it fetches every hook repository before running any hook, which needs the network; the
hooks are checked statically by the template tests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["INSTALL_MARKERS", "is_install_step", "nox_shim_dir", "without_installs"]

# A script line containing one of these installs something or needs the network.
INSTALL_MARKERS = ("pip install", "uv sync", "pre-commit run", "apt-get")

NOX_WITHOUT_INSTALLS = (
    "import sys, nox.sessions; "
    "nox.sessions.Session.install = lambda self, *args, **kwargs: None; "
    "nox.sessions.Session.run_install = lambda self, *args, **kwargs: None; "
    "from nox.__main__ import main; sys.exit(main())"
)


def is_install_step(script: str) -> bool:
    return any(marker in script for marker in INSTALL_MARKERS)


def nox_shim_dir(folder: Path) -> Path:
    """A folder holding a `nox` that runs this interpreter's nox with installs switched off and
    --no-venv; put it first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "nox"
    shim.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "{NOX_WITHOUT_INSTALLS}" --no-venv "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return folder


def without_installs(gitlab_ci: dict[str, Any]) -> dict[str, Any]:
    """A copy of a parsed .gitlab-ci.yml whose before_script/script lists drop install lines."""
    emulated: dict[str, Any] = {}
    for name, job in gitlab_ci.items():
        if isinstance(job, dict):
            job = dict(job)
            for key in ("before_script", "script"):
                if isinstance(job.get(key), list):
                    job[key] = [line for line in job[key] if not is_install_step(str(line))]
        emulated[name] = job
    return emulated
