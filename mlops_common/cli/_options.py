"""Options every ``mlops`` command spells the same way, declared once.

A command writes ``as_json: AsJson = False`` or ``output: Output = None`` in its signature, so
``--json``, ``--output``/``-o``, ``--model`` and ``--tracking-uri`` read and behave alike in
every command.
A model version is always the positional ``VERSION``; an option that used to carry it stays as a
hidden alias that warns, through :func:`version_from`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "AsJson",
    "ModelName",
    "Output",
    "TrackingUri",
    "deprecated_version_option",
    "model_name",
    "version_argument",
    "version_from",
]

AsJson = Annotated[
    bool,
    typer.Option("--json", help="Print the result as JSON on stdout instead of a summary."),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        dir_okay=False,
        help="Also write the result to this file: JSON, or the HTML page for a .html path "
        "(Markdown for .md) where the result has one.",
    ),
]
ModelName = Annotated[
    str | None,
    typer.Option("--model", help="Registered model name (default: model_name in pyproject.toml)."),
]
TrackingUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, then pyproject.toml).",
    ),
]


def model_name(model: str | None) -> str:
    """The ``--model`` given (:data:`ModelName`), else ``model_name`` in pyproject.toml."""
    if model:
        return model
    from mlops_common.config import load_project_config

    return load_project_config().model_name


def version_argument(help: str) -> Any:
    """The positional ``VERSION`` of a command, described by ``help`` (optional with a default).

    ``version: Annotated[str | None, version_argument("Deploy exactly this version.")] = None``
    """
    return typer.Argument(metavar="VERSION", show_default=False, help=help)


def deprecated_version_option(option: str) -> Any:
    """The hidden ``option`` that used to carry the version; read it with :func:`version_from`."""
    return typer.Option(option, hidden=True, help="Deprecated: pass VERSION as an argument.")


def version_from(
    version: str | None, deprecated: str | None, *, option: str, usage: str
) -> str | None:
    """``VERSION``, or the value of the deprecated ``option`` with one warning line on stderr.

    >>> version_from("3", None, option="--to", usage="mlops rollback")
    '3'
    """
    if deprecated is None:
        return version
    typer.echo(
        f"warning: {option} is deprecated; pass the version as an argument: `{usage} {deprecated}`",
        err=True,
    )
    if version is not None and version != deprecated:
        from mlops_common.errors import InputError

        raise InputError(
            f"two versions given (VERSION {version} and {option} {deprecated}); pass only VERSION"
        )
    return deprecated
