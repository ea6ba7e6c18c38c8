"""``mlops suite init``: write a first expectation suite from a data file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson
from mlops_common.cli._render import emit

__all__ = ["app", "init"]

app = typer.Typer(name="suite", help="Expectation suites: profile data into a first suite.")


@app.command()
def init(
    data: Annotated[
        str,
        typer.Argument(
            help="CSV, Parquet or JSON-lines file: a path or an s3://, gs://, az:// URI."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Suite name, e.g. raw or prepared.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            help="Where to write the suite (default: expectations/NAME.json).",
        ),
    ] = None,
    margin: Annotated[
        float, typer.Option(help="Share of each numeric column's span added to its range.")
    ] = 0.1,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing suite.")] = False,
    as_json: AsJson = False,
) -> None:
    """Profile DATA into a Great Expectations 1.x suite that it passes; review, then commit.

    Prints where the suite went and what kinds of checks it holds; on a terminal, large inputs
    show progress while they are read and profiled.
    """
    from mlops_common.cli._progress import is_large_input, progress_display, wants_progress
    from mlops_common.errors import InputError
    from mlops_common.validation.profile import ProfiledSuite, profile_suite, write_suite

    target = output or Path("expectations") / f"{name}.json"
    if target.exists() and not force:
        raise InputError(f"{target}: a suite is already there; pass --force to replace it")
    shown_progress = wants_progress(as_json=as_json) and is_large_input(data)
    with progress_display(shown_progress) as progress:
        suite = profile_suite(data, name, margin=margin, progress=progress)
    written = write_suite(suite, target)
    emit(ProfiledSuite.of(suite, written, data), as_json=as_json)
