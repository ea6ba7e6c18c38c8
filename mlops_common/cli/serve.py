"""``mlops serve``: the HTTP service for the model behind an alias."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        model: str | None = typer.Option(None, "--model", help="Registered model name."),
        alias: str = typer.Option("champion", help="Registry alias to serve."),
        model_uri: str | None = typer.Option(
            None, help="Serve this model URI instead of an alias."
        ),
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        prediction_log: Path | None = typer.Option(
            None, help="JSON-lines sink for inputs and predictions."
        ),
        tracking_uri: str | None = typer.Option(None, help="MLflow tracking URI."),
    ) -> None:
        """Serve predictions over HTTP (POST /predict, GET /health, /ready, /metadata)."""
        from mlops_common.serving import serve as run_server

        run_server(
            model_name=model,
            alias=alias,
            model_uri=model_uri,
            host=host,
            port=port,
            prediction_log=prediction_log,
            tracking_uri=tracking_uri,
        )
