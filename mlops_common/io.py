"""Read the table a check runs on (a DataFrame, or a CSV, Parquet or JSON-lines file), or a
JSON object file (metrics, a validation report).

Validation and drift detection both read their inputs here, so they accept the same files and
fail the same way: an ``InputError`` naming the input and the fix, in one line. pandas is
imported only when a table is read.

>>> frame, source = read_table("data/raw/orders.csv", role="current")  # doctest: +SKIP
>>> source, len(frame)  # doctest: +SKIP
('data/raw/orders.csv', 1000)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_common.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MESSAGES", "READERS", "read_json_object", "read_table"]

#: File suffix -> format; ``.json`` is read as JSON lines (one record per line).
READERS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

#: What :func:`read_table` says, by case; ``messages=`` rewords any of them. The fields are
#: ``role``, ``path``, ``where`` (``"<role> <path>"``), ``suffix``, ``kind`` (the format),
#: ``detail`` (the reader's error, one line), ``type`` and ``source``.
MESSAGES = {
    "frame": "{role} DataFrame",  # the source of a DataFrame: it has no path
    "not_a_table": "{role}: expected a DataFrame or a file path, got {type}",
    "not_found": "{where}: file not found; check the path (or `dvc pull`)",
    "unsupported": (
        "{where}: unsupported file type {suffix!r}; use .csv, .parquet or .jsonl (JSON lines)"
    ),
    "empty_file": "{where}: file is empty; it needs a header and rows",
    "unreadable": (
        "{where}: cannot read it as {kind} ({detail}); check the file is complete and of that "
        "format"
    ),
    "no_rows": "{source}: no rows; check that the {role} was produced",
}


def read_table(
    data: Any, *, role: str = "data", messages: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, str]:
    """``(DataFrame, source)`` from a DataFrame or a CSV/Parquet/JSON-lines path.

    ``source`` is the path as a string (or ``"<role> DataFrame"``); the caller's DataFrame is
    returned as it is, never copied or modified. ``role`` names the input in messages
    ("reference", "current"). Raises ``InputError`` for another type, a missing file, an unknown
    suffix, an empty or unreadable file, and a table without rows or columns.

    >>> import pandas as pd
    >>> read_table(pd.DataFrame({"x": [1]}), role="current")[1]
    'current DataFrame'
    """
    import pandas as pd

    wording = {**MESSAGES, **(messages or {})}

    def fail(case: str, **fields: Any) -> InputError:
        return InputError(wording[case].format(role=role, **fields))

    if isinstance(data, pd.DataFrame):
        frame, source = data, wording["frame"].format(role=role)
    elif isinstance(data, (str, os.PathLike)):
        path = Path(data)
        source = str(path)
        where = f"{role} {path}"
        if not path.is_file():
            raise fail("not_found", path=path, where=where)
        kind = READERS.get(path.suffix.lower())
        if kind is None:
            raise fail("unsupported", path=path, where=where, suffix=path.suffix)
        try:
            if kind == "csv":
                frame = pd.read_csv(path)
            elif kind == "parquet":
                frame = pd.read_parquet(path)
            else:
                frame = pd.read_json(path, lines=True)
        except pd.errors.EmptyDataError as exc:
            raise fail("empty_file", path=path, where=where) from exc
        except Exception as exc:  # parser, encoding, arrow and JSON errors all mean "unreadable"
            raise fail(
                "unreadable", path=path, where=where, kind=kind, detail=_detail(exc)
            ) from exc
    else:
        raise fail("not_a_table", type=type(data).__name__)
    if len(frame.columns) == 0 or len(frame) == 0:
        raise fail("no_rows", source=source)
    return frame, source


def read_json_object(path: Path | str) -> dict[str, Any]:
    """The JSON object in the file at ``path``; an ``InputError`` when it is missing or not one.

    >>> read_json_object("metrics.json")  # doctest: +SKIP
    {'accuracy': 0.93}
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: file not found; check the path") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def _detail(exc: Exception) -> str:
    """The reader's error as one short line (its first line, white space folded)."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__
