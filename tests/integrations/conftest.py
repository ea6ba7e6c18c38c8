"""Heavy integrations (orchestrators, Spark, Feast, the retrain loop) each run in their own nox
session and environment: ``nox -s <name>`` sets MLOPS_INTEGRATION=<name> and collects only
tests/integrations/<name>/. The core ``nox -s tests`` session collects none of them."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    path = Path(collection_path).resolve()
    if path.parent != HERE or not path.is_dir():
        return None
    return path.name != os.environ.get("MLOPS_INTEGRATION")
