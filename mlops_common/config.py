"""Project configuration: the ``[tool.mlops]`` table of a project's ``pyproject.toml``.

A rendered project keeps its template/cloud settings there (model name, experiment, tracking URI,
artifact location, prediction log, capture destination) and its tunable values in
``params.yaml``. Both are found by walking up from the working directory, so every stage and CLI
call sees the same settings.

>>> cfg = load_project_config()  # doctest: +SKIP
>>> cfg.model_name
'churn-model'
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["ProjectConfig", "find_project_root", "load_params", "load_project_config"]


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of one rendered project (``[tool.mlops]`` in its ``pyproject.toml``)."""

    root: Path
    model_name: str = "model"
    experiment: str = "default"
    tracking_uri: str = ""  # empty: the embedded sqlite store under ``root``
    artifact_location: str = ""  # empty: ``root / "mlartifacts"``
    prediction_log: str = "logs/predictions.jsonl"
    # Where `mlops serve` captures traffic and continuous training reads it back (empty: the
    # prediction log instead); a path relative to ``root`` or an s3://, gs://, az:// URL.
    capture: str = ""
    capture_window: str = "7d"  # the window continuous training compares with the champion
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def capture_uri(self) -> str:
        """``capture`` as the service and ``mlops drift`` read it: URLs as given, paths under
        ``root`` (empty when nothing is configured).

        >>> ProjectConfig(root=Path("/p"), capture="logs/capture").capture_uri
        '/p/logs/capture'
        """
        if not self.capture or "://" in self.capture:
            return self.capture
        return (self.root / self.capture).as_posix()

    @property
    def default_tracking_uri(self) -> str:
        """The embedded local store: a sqlite file in the project, no server needed."""
        return f"sqlite:///{(self.root / 'mlflow.db').as_posix()}"

    @property
    def default_artifact_location(self) -> str:
        return (self.root / "mlartifacts").as_uri()


def find_project_root(start: Path | None = None) -> Path | None:
    """Nearest folder at or above ``start`` whose ``pyproject.toml`` has ``[tool.mlops]``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.mlops]" in candidate.read_text(encoding="utf-8"):
            return folder
    return None


def load_project_config(start: Path | None = None) -> ProjectConfig:
    """Read ``[tool.mlops]``; outside a project, defaults rooted at the working directory."""
    root = find_project_root(start)
    if root is None:
        return ProjectConfig(root=(start or Path.cwd()).resolve())
    path = root / "pyproject.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("mlops", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the file and retry") from exc
    known = {name for name in ProjectConfig.__dataclass_fields__ if name not in {"root", "extra"}}
    values = {key: value for key, value in table.items() if key in known}
    extra = {key: value for key, value in table.items() if key not in known}
    return ProjectConfig(root=root, extra=extra, **values)


def load_params(path: Path | str = "params.yaml") -> dict[str, Any]:
    """Load a project's ``params.yaml`` (the values a client tunes) as a dict."""
    import yaml

    params_path = Path(path)
    if not params_path.is_file():
        raise ConfigError(f"{params_path}: params file not found; run from the project root")
    try:
        loaded = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{params_path}: invalid YAML ({exc})") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{params_path}: expected a mapping at the top level")
    return loaded
