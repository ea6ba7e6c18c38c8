"""How the CLI shows results: a rich table on a terminal, plain lines otherwise, JSON on request.

Library code returns typed results with ``to_dict()``; only this module decides how they look.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

__all__ = ["emit", "emit_json", "emit_table", "is_tty"]


def is_tty() -> bool:
    return sys.stdout.isatty()


def emit_json(payload: Any) -> None:
    """Write ``payload`` (a dict, or anything with ``to_dict()``) as indented JSON on stdout."""
    data = payload.to_dict() if hasattr(payload, "to_dict") else payload
    typer.echo(json.dumps(data, indent=2, default=str))


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines with a header when piped."""
    if is_tty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
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


def emit(result: Any, *, as_json: bool = False, output: Path | None = None) -> None:
    """Show a result the one way every command does, then exit with its ``exit_code``.

    ``--json`` prints ``to_dict()`` as JSON instead of ``summary()``; ``--output PATH`` also
    writes it: ``.html`` through ``write_html`` where the result has one, JSON otherwise.
    """
    if output is not None:
        if output.suffix.lower() in {".html", ".htm"} and hasattr(result, "write_html"):
            written = result.write_html(output)
        else:
            written = result.to_json(output)
        if not as_json:
            typer.echo(f"wrote {written}", err=True)
    if as_json:
        emit_json(result)
    else:
        typer.echo(result.summary())
    raise typer.Exit(getattr(result, "exit_code", 0))
