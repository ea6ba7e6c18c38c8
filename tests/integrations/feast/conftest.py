"""A real Feast repository in a temp folder: file offline store over Parquet, SQLite online store,
local registry, applied with the real ``feast apply``.

The feature table holds, per patient, a value observed at ``T0`` and a later one planted at
``T0 + 10 days``; tests put label timestamps on either side of it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

FEAST_BIN = Path(sys.executable).parent / "feast"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
LATER = T0 + timedelta(days=10)

DEFINITIONS = """
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float64

patient = Entity(name="patient", join_keys=["patient_id"], value_type=ValueType.INT64)
source = FileSource(path="../data/features.parquet", timestamp_field="event_timestamp")
measurements = FeatureView(
    name="measurements",
    entities=[patient],
    ttl=timedelta(days=365),
    schema=[{fields}],
    source=source,
)
model_inputs = FeatureService(name="model_inputs", features=[measurements])
"""


@dataclass(frozen=True)
class Repo:
    """A project folder with ``feature_repo/`` and ``data/features.parquet``."""

    root: Path
    t0 = T0
    later = LATER

    @property
    def path(self) -> Path:
        return self.root / "feature_repo"

    def define(self, *fields: str) -> None:
        schema = ", ".join(f'Field(name="{name}", dtype=Float64)' for name in fields)
        (self.path / "definitions.py").write_text(DEFINITIONS.format(fields=schema))

    def add_rows(self, *rows: dict) -> None:
        """Append rows to data/features.parquet, as a late batch landing in the offline store."""
        import pandas as pd

        data = self.root / "data" / "features.parquet"
        write_features(self.root, pd.read_parquet(data).to_dict("records") + list(rows))

    def apply(self) -> str:
        result = subprocess.run(
            [str(FEAST_BIN), "-c", str(self.path), "apply"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def write_features(root: Path, rows: list[dict]) -> None:
    import pandas as pd

    (root / "data").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(root / "data" / "features.parquet", index=False)


def make_repo(root: Path) -> Repo:
    """Two patients, each with a value at T0 and a later one (x = 900 + id) at T0 + 10 days."""
    project = Repo(root)
    project.path.mkdir(parents=True)
    (project.path / "feature_store.yaml").write_text(
        textwrap.dedent(
            """\
            project: lab
            provider: local
            registry: ../data/feast/registry.db
            offline_store:
              type: file
            online_store:
              type: sqlite
              path: ../data/feast/online_store.db
            entity_key_serialization_version: 3
            """
        )
    )
    rows = []
    for patient in (1, 2):
        rows.append({"patient_id": patient, "event_timestamp": T0, "x": float(patient), "y": 0.5})
        rows.append(
            {"patient_id": patient, "event_timestamp": LATER, "x": 900.0 + patient, "y": 9.5}
        )
    write_features(root, rows)
    project.define("x", "y")
    project.apply()
    return project


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """An applied repository shared by a module's tests (one `feast apply`, which costs a Feast
    import, per module); a module that materialises it does so once, in its own fixture."""
    return make_repo(tmp_path_factory.mktemp("feast"))


@pytest.fixture
def fresh_repo(tmp_path: Path) -> Repo:
    """An applied repository of the test's own, to materialise or re-apply."""
    return make_repo(tmp_path)
