"""The ``mlops`` Typer app: every command module's commands, added in one place.

Built when something asks for :data:`mlops_common.cli.app` (``mlops --help``, any command
that is not on the direct path of :mod:`mlops_common.cli._direct`, tests, the docs).
"""

from __future__ import annotations

from typing import Annotated

import typer

from mlops_common.cli import (
    EXIT_CODES,
    deploy,
    doctor,
    drift,
    export,
    fleet,
    monitor,
    registry,
    serve,
    suite,
    validate,
)
from mlops_common.results import EXIT_OK

__all__ = ["EPILOG", "app"]

EPILOG = "\n\n".join(
    ["Exit codes, the same for every command:"]
    + [f"{code}  {meaning}" for code, meaning in EXIT_CODES.items()]
)

app = typer.Typer(
    name="mlops",
    help="Validate data, track and promote models, serve them, watch drift, run the fleet.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from mlops_common import __version__

        typer.echo(__version__)
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed mlops-common version and exit.",
        ),
    ] = False,
) -> None:
    """Validate data, track and promote models, serve them, watch drift, run the fleet."""


def version() -> None:
    """Print the installed mlops-common version (same as `mlops --version`)."""
    _print_version(True)


app.command()(version)
for _concern in (validate, suite, drift, monitor, registry, serve, deploy, fleet, export, doctor):
    if hasattr(_concern, "COMMANDS"):
        for _command in _concern.COMMANDS:
            app.command()(_command)
    elif hasattr(_concern, "app"):
        app.add_typer(_concern.app)
    else:  # a concern still on the older `register(app)` convention
        _concern.register(app)
