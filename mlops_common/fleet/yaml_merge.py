"""New template keys into a client-owned YAML file, keeping every client value and comment.

>>> client = "train:\\n  seed: 7  # ours\\n"
>>> new = "train:\\n  seed: 42\\n  folds: 5\\nevaluate:\\n  # read by dvc.yaml\\n  k: 3\\n"
>>> text, added = merge_new_keys(client, new, ["train.folds", "evaluate"])
>>> print(text, end="")
train:
  seed: 7  # ours
  folds: 5
evaluate:
  # read by dvc.yaml
  k: 3
>>> added
['train.folds', 'evaluate']
"""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence

__all__ = ["merge_new_keys"]


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def merge_new_keys(client_text: str, new_text: str, keys: Sequence[str]) -> tuple[str, list[str]]:
    """Add each dotted ``keys`` path from ``new_text`` to ``client_text`` where the client lacks it.

    A key the client already has keeps the client's value; a path whose parent the client turned
    into a non-mapping is left alone. Returns the merged text and the paths actually added.
    """
    yaml = _yaml()
    client = yaml.load(client_text)
    new = yaml.load(new_text)
    if client is None:
        client = type(new)() if new is not None else {}
    added: list[str] = []
    for path in keys:
        parts = path.split(".")
        source, target = new, client
        ok = True
        for part in parts[:-1]:
            source = source.get(part) if hasattr(source, "get") else None
            if not hasattr(target, "get") or source is None:
                ok = False
                break
            if part not in target:
                target[part] = type(source)()
            target = target[part]
        last = parts[-1]
        if not ok or not hasattr(target, "get") or not hasattr(source, "get"):
            continue
        if last in target or last not in source:
            continue
        target[last] = copy.deepcopy(source[last])
        _copy_comment(source, target, last)
        added.append(path)
    if not added:
        return client_text, []
    out = io.StringIO()
    yaml.dump(client, out)
    return out.getvalue(), added


def _copy_comment(source, target, key) -> None:
    """Carry the comment lines that precede ``key`` in the template over to the client file."""
    try:
        comment = source.ca.items.get(key)
        if comment is not None:
            target.ca.items[key] = copy.deepcopy(comment)
    except AttributeError:  # plain dicts carry no comments
        pass
