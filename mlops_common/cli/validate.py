"""``mlops validate``: run an expectation suite against a data file."""

from __future__ import annotations

from pathlib import Path

import typer

from mlops_common.cli._render import emit_json, emit_table


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        suite: Path = typer.Argument(..., help="Great Expectations suite JSON."),
        data: Path = typer.Argument(..., help="CSV, Parquet or JSON-lines data file."),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the result JSON here."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Validate DATA against SUITE; exit 1 when any expectation fails."""
        from mlops_common.validation import validate as run_validation

        result = run_validation(data, suite)
        if output is not None:
            result.to_json(output)
        if as_json:
            emit_json(result)
        else:
            rows = [
                (
                    "ok" if outcome.success else "FAIL",
                    outcome.expectation_type,
                    outcome.column or "",
                    outcome.unexpected_count if outcome.unexpected_count is not None else "",
                    outcome.engine,
                )
                for outcome in result.results
            ]
            verdict = "passed" if result.success else "FAILED"
            emit_table(
                f"suite {result.suite_name} on {data}: {verdict}",
                ["status", "expectation", "column", "unexpected", "engine"],
                rows,
            )
        raise typer.Exit(0 if result.success else 1)
