"""The ``mlops`` command: one Typer app, one file per concern.

Each ``cli/<concern>.py`` declares its commands in ``register(app)`` and imports the library
module (and through it mlflow, pandas, ...) only inside the command body, so ``mlops --help``
stays instant.
"""

from __future__ import annotations

import sys

import typer

from mlops_common.cli import deploy, drift, fleet, registry, serve, validate
from mlops_common.errors import MlopsError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mlops",
    help="Validate data, track and promote models, serve them, watch drift, run the fleet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the installed mlops-common version."""
    from mlops_common import __version__

    typer.echo(__version__)


for _concern in (validate, drift, registry, serve, deploy, fleet):
    _concern.register(app)


def main() -> None:
    """Entry point of the ``mlops`` script: user errors become one line and exit code 2."""
    try:
        app()
    except MlopsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
