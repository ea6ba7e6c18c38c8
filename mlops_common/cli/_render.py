"""How the CLI shows results: the summary on a terminal, JSON on request, files on request.

Library code returns typed results (:class:`mlops_common.results.Result`); only this module
decides how they look, and :func:`emit` is the one way every command ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from mlops_common.results import Result, to_jsonable

__all__ = ["emit", "emit_json"]

_HTML_SUFFIXES = {".html", ".htm"}
_MARKDOWN_SUFFIXES = {".md", ".markdown"}


def emit_json(payload: Any) -> None:
    """Write ``payload`` (a dict, or a result with ``to_dict()``) as indented JSON on stdout."""
    data = payload.to_dict() if hasattr(payload, "to_dict") else payload
    typer.echo(json.dumps(to_jsonable(data), indent=2))


def emit(
    result: Result,
    *,
    as_json: bool = False,
    output: Path | None = None,
    exit_code: int | None = None,
) -> None:
    """Show a result the one way every command does, then exit with its ``exit_code``.

    ``result`` follows :class:`~mlops_common.results.Result`: ``summary()``, ``to_dict()``,
    ``to_json(path)``, ``exit_code``, and ``write_html(path)`` where it has a page.

    ``--json`` prints ``to_dict()`` as JSON on stdout instead of ``summary()``; ``--output PATH``
    also writes the result: the HTML page for a ``.html`` path (``write_html``, where the result
    has one; bad input otherwise), Markdown for a ``.md`` path where the result has
    ``write_markdown`` (a model card), JSON for any other path. With ``--json`` nothing but the JSON
    goes to stdout. ``exit_code`` overrides the result's own, for a command that asks another
    question of it (``mlops deploy down`` succeeds when the status it returns says "stopped").
    """
    if output is not None:
        written = _write(result, output)
        if not as_json:
            typer.echo(f"wrote {written}", err=True)
    if as_json:
        emit_json(result)
    else:
        typer.echo(result.summary())
    raise typer.Exit(result.exit_code if exit_code is None else exit_code)


def _write(result: Result, output: Path) -> Path:
    if output.suffix.lower() in _MARKDOWN_SUFFIXES and hasattr(result, "write_markdown"):
        return Path(result.write_markdown(output))
    if output.suffix.lower() not in _HTML_SUFFIXES:
        return Path(result.to_json(output))
    if not hasattr(result, "write_html"):
        from mlops_common.errors import InputError

        raise InputError(f"{output}: this command's result has no HTML page; give a .json path")
    return Path(result.write_html(output))
