"""What an update must protect and add, decided from three file trees (pure: no git, no Copier).

The trees are plain ``{relative path: bytes}`` maps: ``old`` is a pristine render of the version
the project is on (same answers), ``new`` a pristine render of the target version, ``client`` the
project as committed on its default branch. Comparing ``client`` with ``old`` tells what the
client changed; comparing ``old`` with ``new`` tells what the release changes.

>>> old = {"tests/test_data.py": b"a", "params.yaml": b"train: {}\\n"}
>>> new = {"tests/test_suites.py": b"a", "params.yaml": b"train: {}\\nevaluate: {}\\n"}
>>> client = {"tests/test_data.py": b"a + client test", "params.yaml": b"train: {}\\n"}
>>> plan = plan_update(old, new, client, client_owned_yaml=["params.yaml"])
>>> [(kept.path, kept.renamed_to) for kept in plan.kept]
[('tests/test_data.py', 'tests/test_suites.py')]
>>> plan.new_keys
{'params.yaml': ['evaluate']}
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KeptFile",
    "UpdatePlan",
    "new_keys",
    "owned_yaml_files",
    "plan_update",
    "versions_behind",
]

Tree = Mapping[str, bytes]
# Below this similarity a deleted file and an added one are unrelated, not a rename.
_RENAME_SIMILARITY = 0.5


@dataclass(frozen=True)
class KeptFile:
    """A client-modified file the new release deletes (or renames to ``renamed_to``)."""

    path: str
    renamed_to: str | None = None

    def describe(self, target: str) -> str:
        change = f"renames it to {self.renamed_to}" if self.renamed_to else "deletes it"
        return f"{self.path}: changed by the client and {target} {change}; client version kept"


@dataclass
class UpdatePlan:
    """``kept``: files to restore after Copier; ``new_keys``: per client-owned YAML file, the
    dotted key paths the new release adds (present in ``new``, absent from ``old``)."""

    kept: list[KeptFile] = field(default_factory=list)
    new_keys: dict[str, list[str]] = field(default_factory=dict)


def _similarity(a: bytes, b: bytes) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _renamed_to(content: bytes, added: Mapping[str, bytes]) -> str | None:
    scored = [(_similarity(content, data), path) for path, data in added.items()]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= _RENAME_SIMILARITY else None


def _key_paths(data: Any, prefix: str = "") -> list[str]:
    if not isinstance(data, Mapping):
        return []
    paths = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.append(path)
        paths += _key_paths(value, path + ".")
    return paths


def new_keys(old: Any, new: Any) -> list[str]:
    """Dotted key paths in ``new`` and not in ``old``; a new section counts once, not per leaf.

    >>> new_keys({"train": {"seed": 1}}, {"train": {"seed": 1, "folds": 5}, "evaluate": {"k": 1}})
    ['train.folds', 'evaluate']
    """
    before = set(_key_paths(old))
    added = [path for path in _key_paths(new) if path not in before]
    return [p for p in added if not any(p.startswith(q + ".") for q in added if q != p)]


def owned_yaml_files(skip_if_exists: Iterable[str], paths: Iterable[str]) -> list[str]:
    """The YAML files among ``paths`` that ``_skip_if_exists`` makes client-owned."""
    patterns = list(skip_if_exists)
    return sorted(
        path
        for path in paths
        if path.endswith((".yaml", ".yml")) and any(fnmatch.fnmatch(path, p) for p in patterns)
    )


def plan_update(
    old: Tree,
    new: Tree,
    client: Tree,
    *,
    client_owned_yaml: Sequence[str] = (),
    load_yaml=None,
) -> UpdatePlan:
    """Decide what the update keeps and which new keys client-owned YAML files receive.

    A file is *client-modified* when the client's content differs from ``old``. When the new
    release no longer has it, Copier would delete it (even when edited, without a conflict): the
    plan keeps it and names the file it was probably renamed to. ``load_yaml`` parses YAML bytes
    (default: ``yaml.safe_load``); it is a parameter so the core stays free of I/O choices.
    """
    if load_yaml is None:
        import yaml

        load_yaml = yaml.safe_load
    plan = UpdatePlan()
    added = {path: data for path, data in new.items() if path not in old}
    for path in sorted(old):
        if path in new or path not in client or client[path] == old[path]:
            continue
        plan.kept.append(KeptFile(path, _renamed_to(old[path], added)))
    for path in client_owned_yaml:
        if path not in old or path not in new or path not in client:
            continue
        keys = new_keys(load_yaml(old[path]) or {}, load_yaml(new[path]) or {})
        if keys:
            plan.new_keys[path] = keys
    return plan


def versions_behind(current: tuple[int, int, int] | None, releases: Sequence[str]) -> int | None:
    """How many release tags are newer than ``current`` (None when it cannot be told)."""
    from mlops_common.fleet._git import parse_release

    if current is None:
        return None
    return sum(1 for tag in releases if (v := parse_release(tag)) is not None and v > current)
