"""The FastAPI app and ``serve``: the endpoints around a loaded model.

``POST /predict`` (and SageMaker's ``/invocations``), ``GET /health``, ``GET /ready`` (and
SageMaker's ``/ping``), ``GET /metadata``, ``GET /metrics`` (Prometheus,
:mod:`mlops_common.serving.metrics`); Vertex AI's ``AIP_PREDICT_ROUTE`` and
``AIP_HEALTH_ROUTE`` add the same handlers at the paths it sets.

>>> app = create_app(model_name="churn-model", alias="champion")  # doctest: +SKIP
>>> serve(model_name="churn-model", port=8000)  # doctest: +SKIP
"""

import json
import os
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mlops_common.errors import ConfigError, InputError
from mlops_common.feature_store import FeatureStoreSettings
from mlops_common.serving.access import AccessSettings, install_access
from mlops_common.serving.batching import MicroBatcher
from mlops_common.serving.capture import PredictionLog
from mlops_common.serving.metrics import MetricsMiddleware, ServiceMetrics
from mlops_common.serving.model import ServedModel, load_served_model
from mlops_common.serving.request import (
    BATCH_KEYS,
    MAX_RECORDS,
    describe_errors,
    record_reader,
    record_schema,
    request_model,
)

__all__ = ["create_app", "freeze_startup_heap", "serve"]

# Batches up to this size are predicted on the event loop, together with the other requests
# waiting there (serving/batching.py) up to this many records per model call: a thread hop
# costs ~0.2 ms of CPU and doubles a 100-row request's latency under load, while 1000 records
# keep the loop busy ~3 ms. Larger ones go to the thread pool so /health keeps answering.
_INLINE_MAX_RECORDS = 1000
# Paths every service answers; the AIP_* routes are added only when they name another path.
_PREDICT_PATHS = ("/predict", "/invocations")
_READY_PATHS = ("/ready", "/ping")
_NOT_LOADED = {503: {"description": "The model is not loaded yet"}}


def create_app(
    model_uri: str | None = None,
    *,
    model_name: str | None = None,
    alias: str = "champion",
    prediction_log: Path | str | None = None,
    tracking_uri: str | None = None,
    max_records: int = MAX_RECORDS,
    capture: Any = None,
    access: AccessSettings | None = None,
    feature_store: FeatureStoreSettings | None = None,
    _served: ServedModel | None = None,
) -> "Any":
    """Build the FastAPI app; the model is loaded once, when the app starts (lifespan).

    Besides ``/predict`` and ``/ready``, the same handlers answer SageMaker's ``/invocations``
    and ``/ping`` and, when set, Vertex AI's ``AIP_PREDICT_ROUTE`` and ``AIP_HEALTH_ROUTE``
    (a route without a leading ``/`` is a ``ConfigError``). ``capture`` (a destination folder
    or URL, or a :class:`~mlops_common.serving.capture.CaptureWriter`) replaces the local
    prediction log with batched, time-partitioned capture. Every prediction response carries
    an ``X-Request-ID`` header (the caller's, or a new one), also written with each record.
    ``access`` (default: from the environment, :mod:`mlops_common.serving.access`) sets the
    bearer token, the body-size limit and whether ``/docs`` is served. With ``feature_store``
    the predict routes also take ``{"entities": [{key: value}, ...]}`` and fetch each entity's
    features from the Feast online store (:mod:`mlops_common.serving.entities`).

    >>> import uvicorn  # doctest: +SKIP
    >>> app = create_app(model_name="churn-model")  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from pydantic import ValidationError
    from starlette.concurrency import run_in_threadpool

    from mlops_common import __version__

    if prediction_log is None and capture is None:
        from mlops_common.config import load_project_config

        # The project's capture destination ([tool.mlops] capture) when it names one: the
        # place continuous training reads the window back from.
        config = load_project_config()
        capture = config.capture_uri or None
        prediction_log = config.root / config.prediction_log

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        served = _served or await run_in_threadpool(
            load_served_model,
            model_uri,
            model_name=model_name,
            alias=alias,
            tracking_uri=tracking_uri,
        )
        app.state.served = served
        app.state.names = [column.name for column in served.columns]
        app.state.request_model = request_model(served.columns, max_records)
        app.state.read_record = record_reader(served.columns)
        app.state.all_required = all(column.required for column in served.columns)
        # scikit-learn predicts row by row, so waiting requests may share a call; a pyfunc
        # model may look at the whole frame, so it gets each request's rows alone.
        app.state.batcher = (
            MicroBatcher(served.predict, max_records=_INLINE_MAX_RECORDS)
            if served.flavor == "sklearn"
            else None
        )
        if feature_store is not None:  # Feast is imported only for a service that has one
            from mlops_common.serving.entities import EntityLookup

            app.state.entities = await run_in_threadpool(
                EntityLookup.open, feature_store, max_records
            )
        if capture is None:
            app.state.log = PredictionLog(prediction_log)
        elif isinstance(capture, (str, Path)):
            from mlops_common.serving.capture import CaptureWriter

            app.state.log = CaptureWriter(capture)
        else:
            app.state.log = capture
        try:
            yield
        finally:
            app.state.served = app.state.batcher = None
            app.state.log.close()

    access = access if access is not None else AccessSettings.from_env()
    app = FastAPI(
        title="mlops model service",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if access.docs else None,
        redoc_url="/redoc" if access.docs else None,
        summary="Predictions from the model behind a registry alias.",
    )
    app.state.served = None
    app.state.log = None
    app.state.entities = None
    app.state.batcher = None
    metrics = ServiceMetrics(
        sink=lambda: app.state.log,
        served=lambda: app.state.served,
        routes=lambda: [route.path for route in app.routes],
        batcher=lambda: app.state.batcher,
    )
    app.state.metrics = metrics

    def _json(payload: Any, status_code: int = 200) -> Response:
        return Response(
            json.dumps(payload, allow_nan=True), status_code, media_type="application/json"
        )

    @app.get("/health")
    async def health() -> Response:
        """The process is alive (says nothing about the model)."""
        return _json({"status": "ok"})

    async def ready() -> Response:
        """200 once the model is loaded, 503 before (or after shutdown)."""
        served = app.state.served
        if served is None:
            return _json({"status": "loading"}, 503)
        return _json(
            {"status": "ready", "model_name": served.name, "model_version": served.version}
        )

    @app.get("/metadata", responses=_NOT_LOADED)
    async def metadata() -> Response:
        """Model name, version, alias, run id, git commit, data version, lineage, signature."""
        served = app.state.served
        if served is None:
            return _json({"detail": "model not loaded yet"}, 503)
        return _json(
            {
                "model_name": served.name,
                "model_version": served.version,
                "alias": served.alias,
                "model_uri": served.uri,
                "flavor": served.flavor,
                "run_id": served.run_id,
                "git_commit": served.git_commit,
                "data_version": served.data_version,
                "lineage": served.lineage,
                "model_version_tags": served.model_version_tags,
                "integrity": served.integrity,
                "signature": served.signature,
                "columns": [asdict(column) for column in served.columns],
                "max_records": max_records,
                "feature_store": app.state.entities and app.state.entities.describe(),
                "mlops_common_version": __version__,
            }
        )

    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus series: requests by route and status, latency, predictions per model
        version, capture records written and dropped, build and model info."""
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})

    app.add_api_route(
        "/metrics",
        metrics_endpoint,
        methods=["GET"],
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text format (OpenMetrics when the Accept header asks)",
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "application/openmetrics-text": {"schema": {"type": "string"}},
                },
            }
        },
    )

    def _log(
        served: ServedModel,
        rows: list[tuple[Any, ...]],
        predictions: list[Any],
        request_id: str,
        body: bytes,
    ) -> None:
        sink = app.state.log
        # Our sinks may copy plain records from the request's own JSON text (cheaper than
        # printing every number again) when every column is required; a sink of the caller's
        # gets the rows only.
        copy = app.state.all_required and getattr(sink, "takes_request_body", False)
        extra = {"body": body} if copy else {}
        sink.append(
            app.state.names,
            rows,
            predictions,
            model_version=served.version,
            request_id=request_id,
            **extra,
        )

    def _predict_and_log(
        served: ServedModel, rows: list[tuple[Any, ...]], request_id: str, body: bytes
    ) -> list[Any]:
        predictions = served.predict(rows)
        _log(served, rows, predictions, request_id, body)
        return predictions

    async def predict(request: Request) -> Response:
        """Predict a batch: ``{"records": [{feature: value, ...}, ...]}`` (or ``"instances"``;
        ``"entities"`` with a feature store)."""
        served = app.state.served
        if served is None:
            return _json({"detail": "model not loaded yet"}, 503)
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        body = await request.body()
        lookup = app.state.entities
        if lookup is not None and lookup.asks(body):
            # The fetched features become a records body: same validation, model and capture.
            try:
                body, status, refused = await run_in_threadpool(lookup.records_body, body)
            except Exception as exc:  # the online store itself failed: not the caller's fault
                message = f"the online store did not answer: {exc}".splitlines()[0]
                return JSONResponse({"detail": message, "errors": []}, 503)
            if refused is not None:
                return JSONResponse(refused, status)
        try:
            parsed = app.state.request_model.model_validate_json(body)
        except ValidationError as exc:
            errors = describe_errors(exc.errors(include_url=False), app.state.names)
            total = exc.error_count()
            more = f" (and {total - len(errors)} more)" if total > len(errors) else ""
            detail = "; ".join(error["message"] for error in errors[:3]) + more
            return JSONResponse({"detail": detail, "errors": errors}, 422)
        # Values are already checked against the signature: only their order is left.
        rows = list(map(app.state.read_record, parsed.records))
        try:
            if len(rows) > _INLINE_MAX_RECORDS:
                predictions = await run_in_threadpool(
                    _predict_and_log, served, rows, request_id, body
                )
            else:
                batcher = app.state.batcher
                if batcher is not None:
                    predictions = await batcher.predict(rows)
                else:
                    predictions = served.predict(rows)
                _log(served, rows, predictions, request_id, body)
        except (ValueError, TypeError) as exc:
            # Well-typed values the model still refuses (NaN in a model without NaN support,
            # an unseen category): the input's fault, so 422 with the model's own words.
            message = f"the model refused these records: {exc}".splitlines()[0]
            return JSONResponse({"detail": message, "errors": []}, 422)
        metrics.predicted(served.name, served.version, len(rows))
        response = _json(
            {
                "predictions": predictions,
                "model_name": served.name,
                "model_version": served.version,
            }
        )
        response.headers["X-Request-ID"] = request_id
        return response

    batch = {"type": "array", "minItems": 1, "maxItems": max_records, "items": {"type": "object"}}
    keys = (*BATCH_KEYS, "entities") if feature_store is not None else BATCH_KEYS
    entities = {**batch, "items": {"type": "object"}}
    body_schema = {
        "type": "object",
        "oneOf": [{"required": [key]} for key in keys],
        "properties": {**dict.fromkeys(BATCH_KEYS, batch), "entities": entities},
        "additionalProperties": False,
    }
    if feature_store is None:
        del body_schema["properties"]["entities"]
    openapi_body = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    }
    refused = {422: {"description": "Records that do not match the model's signature"}}
    if feature_store is not None:
        refused[404] = {"description": "An entity the online store has no features for"}
    # One handler each, at every path a cloud probes or posts to.
    health_route, predict_route = _cloud_routes()
    ready_paths = list(_READY_PATHS)
    if health_route and health_route not in ("/health", *ready_paths):
        ready_paths.append(health_route)
    predict_paths = list(_PREDICT_PATHS)
    if predict_route and predict_route not in predict_paths:
        predict_paths.append(predict_route)
    for path in ready_paths:
        app.add_api_route(path, ready, methods=["GET"], responses=_NOT_LOADED)
    for path in predict_paths:
        app.add_api_route(
            path,
            predict,
            methods=["POST"],
            openapi_extra=openapi_body,
            responses={**refused, **_NOT_LOADED},
        )
    install_access(
        app, access, open_paths=("/health", *ready_paths), body_paths=tuple(predict_paths)
    )
    # Outermost, so the access middleware's refusals are counted and timed too.
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    _document_records(app, batch, entities)
    return app


def _document_records(app: Any, batch: dict[str, Any], entities: dict[str, Any]) -> None:
    """Once the model is loaded, ``/openapi.json`` types each record from its signature (and
    each entity from the feature store's keys)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        served = app.state.served
        if served is not None:
            batch["items"] = record_schema(served.columns)  # shared by every predict route
            if app.state.entities is not None:
                entities["items"] = app.state.entities.row_schema()
            app.openapi_schema = None
            schema = build()
        return schema

    app.openapi = openapi


def _cloud_routes() -> tuple[str | None, str | None]:
    """Vertex AI's ``AIP_HEALTH_ROUTE`` and ``AIP_PREDICT_ROUTE`` (None when unset)."""
    routes = []
    for variable in ("AIP_HEALTH_ROUTE", "AIP_PREDICT_ROUTE"):
        value = os.environ.get(variable, "").strip() or None
        if value is not None and not value.startswith("/"):
            raise ConfigError(
                f"{variable}={value!r}: a route must start with '/'; fix the model's "
                "container_spec (health_route / predict_route)"
            )
        routes.append(value)
    return routes[0], routes[1]


def serve(
    *,
    model_name: str | None = None,
    alias: str = "champion",
    model_uri: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    prediction_log: Path | str | None = None,
    tracking_uri: str | None = None,
    access_log: bool = False,
    capture: str | None = None,
) -> None:
    """Load the model, then run the service with uvicorn until interrupted.

    The model is loaded before the socket opens, so a missing model or signature fails here
    with ``RegistryError``/``ConfigError`` instead of a server that never becomes ready. A
    project that names a feature store in ``[tool.mlops]`` serves entity-keyed requests too;
    its repository and service are checked here as well.

    >>> serve(model_name="churn-model", port=8000)  # doctest: +SKIP
    """
    import uvicorn

    from mlops_common.config import load_project_config

    if not 0 <= port <= 65535:
        raise InputError(f"port {port}: must be between 0 and 65535")
    feature_store = FeatureStoreSettings.from_config(load_project_config())
    if feature_store is not None:
        from mlops_common.feature_store import FeatureSet

        FeatureSet.from_settings(feature_store)  # a wrong repo or service: one line, exit 2/3
    served = load_served_model(
        model_uri, model_name=model_name, alias=alias, tracking_uri=tracking_uri
    )
    app = create_app(
        served.uri,
        model_name=served.name,
        alias=alias,
        prediction_log=prediction_log,
        tracking_uri=served.tracking_uri,
        capture=capture,
        feature_store=feature_store,
        _served=served,
    )
    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info")


def freeze_startup_heap() -> None:
    """Collect once, then hide every object alive now (MLflow, scikit-learn, the model: some
    400,000) from the cyclic garbage collector: a full collection over them takes ~0.3 s of
    CPU, stalling every request in flight, and they live as long as the process anyway.

    >>> freeze_startup_heap()  # doctest: +SKIP
    """
    import gc

    gc.collect()
    gc.freeze()
