"""``mlops validate``: run an expectation suite against a data file, a Spark dataset or a table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson, Output
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "ENGINES", "validate"]

#: pandas: the file is read on this machine (fast path, GE for the rest); spark: the rows stay in
#: Spark; sql: the rows stay in the database (DATA a SQLAlchemy URL, with --table).
ENGINES = ("pandas", "spark", "sql")


def validate(
    suite: Annotated[Path, typer.Argument(help="Great Expectations suite JSON.")],
    data: Annotated[
        str,
        typer.Argument(
            help="CSV, Parquet or JSON-lines file: a path or an s3://, gs://, az:// URI; with "
            "--engine spark a Parquet file or folder (s3a://, gs://, abfss:// too); with "
            "--table a database URL (postgresql+psycopg2://user@host/db, duckdb:///file.duckdb; "
            "the driver reads the password, e.g. PGPASSWORD)."
        ),
    ],
    engine: Annotated[
        str | None,
        typer.Option(
            help="Where the checks run: pandas (default), spark (aggregates in Spark) or sql "
            "(queries in the database; the default with --table)."
        ),
    ] = None,
    table: Annotated[
        str | None, typer.Option(help="Validate this table of the database at DATA in place.")
    ] = None,
    schema: Annotated[str | None, typer.Option(help="The table's schema (with --table).")] = None,
    output: Output = None,
    as_json: AsJson = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every expectation, not only failures.")
    ] = False,
) -> None:
    """Validate DATA against SUITE; exit 1 when any expectation fails.

    Prints one verdict line and one line per failure (observed against expected, a sample of
    offending values); --verbose adds the passing expectations, --json prints every field. On
    a terminal, large inputs show progress while they are read and checked.
    """
    from mlops_common.errors import InputError

    chosen = engine or ("sql" if table is not None else "pandas")
    if chosen not in ENGINES:
        raise InputError(f"--engine {chosen!r} is not one of {', '.join(ENGINES)}")
    if chosen == "sql":
        from mlops_common.validation import sql

        if table is None:
            raise InputError("--engine sql validates a table: give --table NAME")
        if not sql.is_database_url(data):
            raise InputError(
                f"{data}: not a database URL; give one such as postgresql+psycopg2://user@host/db"
            )
        result = sql.validate(data, table, suite, schema=schema)
    elif table is not None or schema is not None:
        raise InputError("--table and --schema name a database table: use them with --engine sql")
    elif chosen == "spark":
        from mlops_common.validation import spark

        df, source = spark.read_dataset(data)
        result = spark.validate(df, suite, source=source)
    else:
        from mlops_common.cli._progress import is_large_input, progress_display, wants_progress
        from mlops_common.validation import validate as run_validation

        shown_progress = wants_progress(as_json=as_json) and is_large_input(data)
        with progress_display(shown_progress) as progress:
            result = run_validation(data, suite, progress=progress)
    shown = result.shown(verbose=verbose, terminal=sys.stdout.isatty())
    emit(shown, as_json=as_json, output=output)


COMMANDS = (validate,)
