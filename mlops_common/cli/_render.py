"""How the CLI shows results: a summary (and a table) on a terminal, JSON on request, files.

Library code returns typed results (:class:`mlops_common.results.Result`); only this module
decides how they look, and :func:`emit` is the one way every command ends.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

__all__ = ["Table", "emit", "emit_json", "emit_table", "is_tty"]

_HTML_SUFFIXES = {".html", ".htm"}


@dataclass(frozen=True)
class Table:
    """Rows a command shows above the summary (one per expectation, column, project...)."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


def is_tty() -> bool:
    return sys.stdout.isatty()


def emit_json(payload: Any) -> None:
    """Write ``payload`` (a dict, or anything with ``to_dict()``) as indented JSON on stdout."""
    from mlops_common.results import to_jsonable

    data = payload.to_dict() if hasattr(payload, "to_dict") else payload
    typer.echo(json.dumps(to_jsonable(data), indent=2))


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines with a header when piped."""
    if is_tty():
        from rich.console import Console
        from rich.table import Table as RichTable

        table = RichTable(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        Console().print(table)
        return
    typer.echo(title)
    typer.echo("\t".join(columns))
    for row in rows:
        typer.echo("\t".join(str(cell) for cell in row))


def emit(
    result: Any,
    *,
    as_json: bool = False,
    output: Path | None = None,
    table: Table | None = None,
    exit_code: int | None = None,
) -> None:
    """Show a result the one way every command does, then exit with its ``exit_code``.

    ``--json`` prints ``to_dict()`` as JSON on stdout instead of the table and ``summary()``;
    ``--output PATH`` also writes the result: the HTML page for a ``.html`` path (``write_html``,
    where the result has one), JSON otherwise. Nothing but the JSON goes to stdout with ``--json``.
    ``exit_code`` overrides the result's own, for a command that asks another question of it
    (``mlops deploy down`` succeeds when the status it returns says "stopped").
    """
    if output is not None:
        written = _write(result, output)
        if not as_json:
            typer.echo(f"wrote {written}", err=True)
    if as_json:
        emit_json(result)
    else:
        if table is not None:
            emit_table(table.title, table.columns, table.rows)
        text = _summary(result)
        if text:
            typer.echo(text)
    raise typer.Exit(_exit_code(result) if exit_code is None else exit_code)


def _write(result: Any, output: Path) -> Path:
    from mlops_common.errors import InputError
    from mlops_common.results import Result, to_jsonable

    if output.suffix.lower() in _HTML_SUFFIXES:
        if not hasattr(result, "write_html"):
            raise InputError(f"{output}: this command's result has no HTML page; give a .json path")
        return Path(result.write_html(output))
    if isinstance(result, Result) or _takes_path(getattr(result, "to_json", None)):
        return Path(result.to_json(output))
    # Results not yet on the protocol (issue 11) still have to_dict().
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(to_jsonable(result.to_dict()), indent=2) + "\n", "utf-8")
    return output


def _takes_path(method: Any) -> bool:
    if method is None:
        return False
    import inspect

    return len(inspect.signature(method).parameters) >= 1


def _summary(result: Any) -> str:
    summary = getattr(result, "summary", None)
    if summary is None:
        return ""
    try:
        text = summary()
    except NotImplementedError:
        return ""
    if isinstance(text, dict):  # fleet reports before the result protocol: counts by state
        return ", ".join(f"{name}: {count}" for name, count in text.items())
    return str(text)


# Verdict flags of results that do not carry ``exit_code`` yet (issue 11); each result's own
# ``exit_code`` wins, and this table goes once they all have one.
_VERDICT_FLAGS = (
    ("success", True),
    ("promoted", True),
    ("healthy", True),
    ("in_policy", True),
    ("all_clean", True),
    ("drift_detected", False),
)


def _exit_code(result: Any) -> int:
    from mlops_common.results import EXIT_NEGATIVE, EXIT_OK

    code = getattr(result, "exit_code", None)
    if isinstance(code, int):
        return code
    for flag, good in _VERDICT_FLAGS:
        value = getattr(result, flag, None)
        if isinstance(value, bool):
            return EXIT_OK if value is good else EXIT_NEGATIVE
    return EXIT_OK
