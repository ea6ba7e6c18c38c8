"""How the CLI shows results: the summary on a terminal, JSON on request, files on request.

Library code returns typed results (:class:`mlops_common.results.Result`); only this module
decides how they look, and :func:`emit` is the one way every command ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["emit", "emit_json"]

_HTML_SUFFIXES = {".html", ".htm"}


def emit_json(payload: Any) -> None:
    """Write ``payload`` (a dict, or anything with ``to_dict()``) as indented JSON on stdout."""
    from mlops_common.results import to_jsonable

    data = payload.to_dict() if hasattr(payload, "to_dict") else payload
    typer.echo(json.dumps(to_jsonable(data), indent=2))


def emit(
    result: Any,
    *,
    as_json: bool = False,
    output: Path | None = None,
    exit_code: int | None = None,
) -> None:
    """Show a result the one way every command does, then exit with its ``exit_code``.

    ``--json`` prints ``to_dict()`` as JSON on stdout instead of ``summary()``; ``--output PATH``
    also writes the result: the HTML page for a ``.html`` path (``write_html``, where the result
    has one; bad input otherwise), JSON for any other path. With ``--json`` nothing but the JSON
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
    if isinstance(result, Result):
        return Path(result.to_json(output))
    # A result not yet on the protocol (issue 11): its to_dict(), written the protocol's way.
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(to_jsonable(result.to_dict()), indent=2) + "\n", "utf-8")
    return output


def _summary(result: Any) -> str:
    summary = getattr(result, "summary", None)
    if summary is None:
        return ""
    text = summary()
    if isinstance(text, dict):  # counts by state, from a report not yet on the protocol
        return ", ".join(f"{name}: {count}" for name, count in text.items())
    return str(text)


# Verdict flags of results that do not carry ``exit_code`` yet (issue 11: the gate decision and
# the deploy status); a result's own ``exit_code`` always wins, and this goes once all have one.
_VERDICT_FLAGS = (("promoted", True), ("healthy", True), ("success", True))


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
