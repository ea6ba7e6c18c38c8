"""Where the fleet's projects are: arguments, a YAML inventory, or a scanned folder."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from mlops_common.errors import FleetError
from mlops_common.fleet._git import GitFailed, expand_shortcut, git, is_remote_url

ANSWERS_FILE = ".copier-answers.yml"
# Folders a scan never descends into: they hold environments and caches, not projects.
_PRUNE = {".git", ".venv", "venv", ".nox", ".tox", "node_modules", "__pycache__", ".dvc"}


@dataclass(frozen=True)
class Project:
    """One client project of the fleet.

    ``path`` is where it is on this machine (a shallow clone in the cache for git URLs);
    ``error`` says why it cannot be used (clone failed), in which case status and update
    report it as unreachable instead of stopping the run.
    """

    name: str
    source: str
    path: Path | None
    error: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path) if self.path else None
        return data


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops" / "fleet"


def _name_from(location: str) -> str:
    tail = re.split(r"[/:]", location.rstrip("/"))[-1]
    return tail.removesuffix(".git") or location


def _clone(url: str, cache_dir: Path) -> Path:
    """Shallow-clone ``url`` into the cache once; later runs fetch the newest commit."""
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    target = cache_dir / f"{_name_from(url)}-{key}"
    if (target / ".git").is_dir():
        git(target, "fetch", "--depth", "1", "origin", timeout=300)
        git(target, "reset", "--hard", "FETCH_HEAD")
    else:
        cache_dir.mkdir(parents=True, exist_ok=True)
        git(None, "clone", "--depth", "1", "--quiet", url, str(target), timeout=300)
    return target


def _resolve(location: str, name: str | None, cache_dir: Path, base: Path) -> Project:
    expanded = expand_shortcut(location)
    if is_remote_url(expanded):
        label = name or _name_from(expanded)
        try:
            return Project(label, location, _clone(expanded, cache_dir))
        except (GitFailed, OSError) as exc:
            return Project(label, location, None, f"unreachable: {exc}")
    path = (base / Path(location).expanduser()).resolve()
    return Project(name or path.name, location, path)


def _read_inventory(inventory: Path) -> list[tuple[str, str | None]]:
    import yaml

    try:
        data = yaml.safe_load(Path(inventory).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise FleetError(
            f"{inventory}: inventory file not found; pass an existing YAML file"
        ) from None
    except yaml.YAMLError as exc:
        raise FleetError(
            f"{inventory}: not valid YAML ({exc.__class__.__name__}); fix the file"
        ) from None
    entries = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FleetError(f"{inventory}: expected a top-level 'projects:' list of {{path, name}}")
    result = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            result.append((entry, None))
        elif isinstance(entry, dict) and (entry.get("path") or entry.get("url")):
            result.append((str(entry.get("path") or entry.get("url")), entry.get("name")))
        else:
            raise FleetError(f"{inventory}: projects[{index}] needs a 'path' (or 'url') key")
    return result


def inventory_templates(inventory: str | Path) -> list[str]:
    """The ``templates:`` list of an inventory: the sources ``fleet update`` may apply.

    Relative paths are made absolute against the inventory's folder.
    """
    import yaml

    path = Path(inventory)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []  # _read_inventory reports the file's problem
    entries = data.get("templates") if isinstance(data, dict) else None
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise FleetError(f"{inventory}: 'templates:' must be a list of template sources")
    base = path.resolve().parent
    return [
        entry
        if is_remote_url(expand_shortcut(entry))
        else str((base / Path(entry).expanduser()).resolve())
        for entry in entries
    ]


def scan_for_projects(root: Path) -> list[Path]:
    """Folders under ``root`` that hold a ``.copier-answers.yml`` (not descending into them)."""
    found = []
    for current, dirs, files in os.walk(root):
        if ANSWERS_FILE in files:
            found.append(Path(current).resolve())
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in _PRUNE)
    return sorted(found)


def collect_projects(
    paths: Iterable[str | Path] = (),
    *,
    inventory: str | Path | None = None,
    scan: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> list[Project]:
    """The fleet from arguments, an inventory file and/or a scanned folder, without duplicates.

    Git URLs are cloned shallowly into ``cache_dir`` (default ``~/.cache/mlops/fleet``); a clone
    that fails becomes a project with ``error`` set rather than an exception.

    >>> collect_projects([], scan="clients/")  # doctest: +SKIP
    [Project(name='churn-model', source='/srv/clients/churn-model', path=...), ...]
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    wanted: list[tuple[str, str | None, Path]] = [(str(p), None, Path.cwd()) for p in paths]
    if inventory is not None:
        base = Path(inventory).resolve().parent
        wanted += [(loc, name, base) for loc, name in _read_inventory(Path(inventory))]
    if scan is not None:
        if not Path(scan).is_dir():
            raise FleetError(f"{scan}: scan folder not found; pass a folder that holds projects")
        wanted += [(str(p), None, Path.cwd()) for p in scan_for_projects(Path(scan))]
    projects: list[Project] = []
    seen: set[str] = set()
    for location, name, base in wanted:
        project = _resolve(location, name, cache, base)
        key = str(project.path) if project.path else project.source
        if key not in seen:
            seen.add(key)
            projects.append(project)
    return projects
