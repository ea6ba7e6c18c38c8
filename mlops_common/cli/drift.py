"""``mlops drift``: compare current data (e.g. logged predictions) with the training baseline."""

from __future__ import annotations

from pathlib import Path

import typer

from mlops_common.cli._render import emit_json, emit_table


def register(app: typer.Typer) -> None:
    @app.command()
    def drift(
        reference: Path = typer.Argument(..., help="Baseline data (the training set)."),
        current: Path = typer.Argument(..., help="Current data (e.g. logs/predictions.jsonl)."),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the JSON report here."
        ),
        html: Path | None = typer.Option(
            None, "--html", help="Write a self-contained HTML report."
        ),
        columns: list[str] | None = typer.Option(
            None, "--column", "-c", help="Only these columns."
        ),
        categorical: list[str] | None = typer.Option(
            None, "--categorical", help="Compare these columns as categories (e.g. int codes)."
        ),
        psi_threshold: float = typer.Option(0.2, help="PSI above this marks a column drifted."),
        p_value: float = typer.Option(0.05, help="KS / chi-square p-value below this marks drift."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Detect drift of CURRENT against REFERENCE; exit 1 when drift is detected."""
        from mlops_common.monitoring import DriftConfig, detect_drift

        config = DriftConfig(psi_threshold=psi_threshold, p_value=p_value)
        report = detect_drift(
            reference, current, columns=columns or None, categorical=categorical, config=config
        )
        if output is not None:
            report.to_json(output)
        if html is not None:
            report.write_html(html)
        if as_json:
            emit_json(report)
        else:
            rows = [
                (
                    "DRIFT" if column.drifted else "ok",
                    column.name,
                    column.kind,
                    "" if column.psi is None else f"{column.psi:.4f}",
                    "" if column.p_value is None else f"{column.p_value:.4g}",
                    f"{column.missing_share_delta:+.3f}",
                    "; ".join(column.reasons),
                )
                for column in report.columns
            ]
            verdict = "drift detected" if report.drift_detected else "no drift"
            emit_table(
                f"drift of {current} against {reference}: {verdict}",
                ["status", "column", "kind", "psi", "p-value", "missing delta", "reasons"],
                rows,
            )
        raise typer.Exit(1 if report.drift_detected else 0)
