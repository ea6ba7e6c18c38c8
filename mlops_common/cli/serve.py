"""``mlops serve``: the HTTP service for the model behind an alias."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import ModelName, TrackingUri

__all__ = ["COMMANDS", "serve"]


def serve(
    model: ModelName = None,
    alias: Annotated[str, typer.Option(help="Registry alias to serve.")] = "champion",
    model_uri: Annotated[
        str | None,
        typer.Option(
            envvar="MLOPS_MODEL_URI",  # set by the cloud deploy adapters on their endpoints
            help="Serve this model URI instead of an alias.",
        ),
    ] = None,
    # SageMaker starts the image as `<image> serve` with no other argument, so the aws adapter
    # passes host and port in the environment; Vertex AI sets AIP_HTTP_PORT.
    host: Annotated[
        str, typer.Option(envvar="MLOPS_HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar=["MLOPS_PORT", "AIP_HTTP_PORT"], help="Port to listen on.")
    ] = 8000,
    prediction_log: Annotated[
        Path | None, typer.Option(help="JSON-lines sink for inputs and predictions.")
    ] = None,
    capture: Annotated[
        str | None,
        typer.Option(
            envvar="MLOPS_CAPTURE",
            help="Capture records in batches to DEST/date=.../hour=.../<replica>-<seq>.jsonl.gz "
            "(a folder, or s3://, gs://, az:// through fsspec) instead of the prediction log "
            "(default: [tool.mlops] capture of the project, when set).",
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
    docs: Annotated[
        bool,
        typer.Option(
            "--docs", envvar="MLOPS_DOCS", help="Also serve the interactive /docs and /redoc."
        ),
    ] = False,
) -> None:
    """Serve predictions over HTTP (POST /predict, GET /health, /ready, /metadata).

    SageMaker's POST /invocations and GET /ping, and Vertex AI's AIP_PREDICT_ROUTE and
    AIP_HEALTH_ROUTE, are answered by the same handlers. Runs until stopped.
    """
    from mlops_common.doctor import require_environment
    from mlops_common.serving import serve as run_server

    if docs:  # read by mlops_common.serving.access, like MLOPS_API_TOKEN
        os.environ["MLOPS_DOCS"] = "1"
    require_environment()  # the library inside the project's pin, before loading a model (exit 3)
    if model_uri is None or model_uri.startswith(("models:/", "runs:/")):
        # The model comes from the tracking store: a dead server fails here in seconds, with
        # one line (exit 3), instead of MLflow's minutes of retries inside the service.
        from mlops_common import store

        store.check_tracking_server(store.resolve_tracking_uri(tracking_uri))

    run_server(
        model_name=model,
        alias=alias,
        model_uri=model_uri,
        host=host,
        port=port,
        prediction_log=prediction_log,
        tracking_uri=tracking_uri,
        capture=capture,
    )


COMMANDS = (serve,)
