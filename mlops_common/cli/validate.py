"""``mlops validate``: run an expectation suite against a data file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson, Output
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "validate"]


def validate(
    suite: Annotated[Path, typer.Argument(help="Great Expectations suite JSON.")],
    data: Annotated[
        str,
        typer.Argument(
            help="CSV, Parquet or JSON-lines file: a path or an s3://, gs://, az:// URI."
        ),
    ],
    output: Output = None,
    as_json: AsJson = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every expectation, not only failures.")
    ] = False,
) -> None:
    """Validate DATA against SUITE; exit 1 when any expectation fails.

    Prints one verdict line and one line per failure (observed against expected, a sample of
    offending values); --verbose adds the passing expectations, --json prints every field.
    """
    from mlops_common.validation import validate as run_validation

    result = run_validation(data, suite)
    shown = result.shown(verbose=verbose, terminal=sys.stdout.isatty())
    emit(shown, as_json=as_json, output=output)


COMMANDS = (validate,)
