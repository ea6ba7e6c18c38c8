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
            None,
            envvar="MLOPS_MODEL_URI",  # set by the cloud deploy adapters on their endpoints
            help="Serve this model URI instead of an alias.",
        ),
        # SageMaker starts the image as `<image> serve` with no other argument, so the aws
        # adapter passes host and port in the environment; Vertex AI sets AIP_HTTP_PORT.
        host: str = typer.Option("127.0.0.1", envvar="MLOPS_HOST", help="Interface to listen on."),
        port: int = typer.Option(
            8000, envvar=["MLOPS_PORT", "AIP_HTTP_PORT"], help="Port to listen on."
        ),
        prediction_log: Path | None = typer.Option(
            None, help="JSON-lines sink for inputs and predictions."
        ),
        tracking_uri: str | None = typer.Option(None, help="MLflow tracking URI."),
    ) -> None:
        """Serve predictions over HTTP (POST /predict, GET /health, /ready, /metadata).

        SageMaker's POST /invocations and GET /ping, and Vertex AI's AIP_PREDICT_ROUTE and
        AIP_HEALTH_ROUTE, are answered by the same handlers.
        """
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
