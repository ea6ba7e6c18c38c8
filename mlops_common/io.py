"""Read the table a check runs on (a DataFrame, or a CSV, Parquet or JSON-lines file, on disk
or at an object-store URI), or a JSON object file (metrics, a validation report).

Validation, drift detection and performance monitoring read their inputs here, so they accept
the same files and fail the same way: an ``InputError`` naming the input and the fix, in one
line. pandas is imported only when a table is read.

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

__all__ = ["MESSAGES", "READERS", "is_uri", "read_json_object", "read_params_section", "read_table"]

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
    """``(DataFrame, source)`` from a DataFrame or a CSV/Parquet/JSON-lines path, or such a
    file at an object-store URI (``s3://``, ``gs://``, ``az://``/``abfs://``... via fsspec,
    streamed rather than downloaded first; credentials and endpoints come from the usual
    environment variables of each cloud; a missing fsspec backend is an ``EnvironmentProblem``).

    ``source`` is the path or URI as a string (or ``"<role> DataFrame"``); the caller's DataFrame is
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
    elif isinstance(data, str) and is_uri(data):
        frame, source = _read_uri(data, role), data
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


def is_uri(text: str) -> bool:
    """``s3://bucket/key`` and the like, not a local path (``C:\\data`` has a one-letter scheme).

    >>> is_uri("s3://bucket/labels.csv"), is_uri("data/labels.csv")
    (True, False)
    """
    scheme, sep, _ = text.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").isalnum()


def _read_uri(uri: str, role: str) -> Any:
    from pathlib import PurePosixPath

    import pandas as pd

    from mlops_common.errors import EnvironmentProblem

    where = f"{role} {uri}"
    suffix = PurePosixPath(uri.split("?", 1)[0]).suffix.lower()
    kind = READERS.get(suffix)
    if kind is None:
        raise InputError(f"{where}: unknown file type {suffix!r}; use .csv, .parquet or .jsonl")
    try:
        import fsspec

        opened = fsspec.open(uri, "rb")
    except ImportError as exc:
        raise EnvironmentProblem(
            f"{where}: reading {uri.partition(':')[0]}:// needs {exc.name or 'fsspec'}; "
            "install the cloud extra (e.g. pip install 'mlops-common[aws]')"
        ) from exc
    except ValueError as exc:  # unknown protocol
        raise InputError(f"{where}: {exc}") from exc
    try:
        with opened as stream:
            if kind == "csv":
                return pd.read_csv(stream)
            if kind == "parquet":
                return pd.read_parquet(stream)
            return pd.read_json(stream, lines=True)
    except FileNotFoundError as exc:
        raise InputError(f"{where}: not found; check the bucket and key") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{where}: the file is empty") from exc
    except PermissionError as exc:
        raise EnvironmentProblem(f"{where}: access denied ({exc}); check credentials") from exc
    except Exception as exc:  # parser, encoding, arrow and JSON errors all mean "unreadable"
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError(f"{where}: cannot read it as {kind} ({detail})") from exc


def read_params_section(path: str | os.PathLike[str], section: str) -> dict[str, Any]:
    """The ``section:`` mapping of a params file (say params.yaml's ``drift:``); ``{}`` when the
    file has no such section. A missing or malformed file is an ``InputError``, a section that is
    not a mapping a ``ConfigError``.

    >>> read_params_section("params.yaml", "monitor")  # doctest: +SKIP
    {'labels': '', 'tolerance': 0.02, 'min_rows': 100}
    """
    import yaml

    from mlops_common.errors import ConfigError

    source = Path(path)
    try:
        loaded = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(f"{source}: params file not found; pass an existing file") from None
    except yaml.YAMLError as error:
        raise InputError(f"{source}: not valid YAML ({error}); fix the file") from None
    if not isinstance(loaded, dict):
        raise InputError(f"{source}: expected a mapping with a `{section}:` section")
    found = loaded.get(section) or {}
    if not isinstance(found, dict):
        raise ConfigError(f"{source}: `{section}:` must be a mapping of settings")
    return dict(found)


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
