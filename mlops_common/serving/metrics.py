"""``GET /metrics``: the service's Prometheus series, through ``prometheus_client``.

:class:`ServiceMetrics` owns one private ``CollectorRegistry`` per app (two apps in a process,
as in tests, never share counters) and :class:`MetricsMiddleware` times every HTTP request.
Series (Prometheus units: seconds, counts):

- ``mlops_http_requests_total{route, method, status}`` and
  ``mlops_http_request_duration_seconds{route}`` (histogram, buckets from 0.5 ms to 10 s).
  ``route`` is the app's own path, or ``unmatched`` for anything else, so a scanner trying
  random paths cannot grow the series without bound.
- ``mlops_predictions_total{model_name, model_version}``: rows predicted (not requests).
- ``mlops_capture_records_written_total``, ``mlops_capture_records_dropped_total``,
  ``mlops_capture_failed_writes_total`` and ``mlops_capture_buffered_records``, read from the
  capture sink when scraped.
- ``mlops_batched_requests_total`` and ``mlops_model_calls_total``: requests predicted through
  micro-batching (:mod:`mlops_common.serving.batching`) and the model calls they took; their
  ratio is the batching achieved (absent for a model that is not batched).
- ``mlops_build_info{version, python}``, ``mlops_model_info{model_name, model_version, alias,
  flavor, run_id}`` and ``mlops_model_ready`` (0 before the model is loaded), plus the standard
  ``process_*`` and ``python_*`` series.

``mlops serve`` runs one process per replica, so each replica's counters are its own and
Prometheus scrapes every replica as its own target; prometheus_client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``) is not used. ``/metrics`` follows the service's access rule:
with ``MLOPS_API_TOKEN`` set a scraper sends the bearer token like any other client
(docs/serving.md shows the Prometheus ``authorization`` block).

>>> metrics = ServiceMetrics(sink=lambda: None, served=lambda: None)  # doctest: +SKIP
>>> metrics.exposition("text/plain")[1]  # doctest: +SKIP
'text/plain; version=0.0.4; charset=utf-8'
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["LATENCY_BUCKETS", "MetricsMiddleware", "ServiceMetrics"]

# Predictions take about a millisecond here; the upper buckets catch a stalled thread pool.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class ServiceMetrics:
    """The service's registry; ``sink()`` and ``served()`` give the capture sink and the loaded
    model (or None) at scrape time, so the capture counters need no copy on the request path."""

    def __init__(
        self,
        *,
        sink: Callable[[], Any],
        served: Callable[[], Any],
        routes: Callable[[], Iterable[str]] = tuple,
        batcher: Callable[[], Any] = lambda: None,
    ) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Histogram,
            gc_collector,
            platform_collector,
            process_collector,
        )

        from mlops_common import __version__

        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "mlops_http_requests",
            "HTTP requests answered, by route, method and status code.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self._latency = Histogram(
            "mlops_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route.",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._predictions = Counter(
            "mlops_predictions",
            "Records predicted (rows, not requests), by model name and version.",
            ("model_name", "model_version"),
            registry=self.registry,
        )
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.registry.register(_StateCollector(sink, served, batcher, __version__))
        self._routes = routes
        self._known: frozenset[str] | None = None
        # labels() takes a lock and builds a key per call: keep the children per label tuple.
        self._request_children: dict[tuple[str, str, int], Any] = {}
        self._latency_children: dict[str, Any] = {}
        self._prediction_children: dict[tuple[str, str], Any] = {}

    def route(self, path: str) -> str:
        if self._known is None:
            self._known = frozenset(self._routes())
        return path if path in self._known else UNMATCHED

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        route = self.route(path)
        method = method if method in _METHODS else "other"
        key = (route, method, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._requests.labels(route, method, str(status))
            self._request_children[key] = counter
        counter.inc()
        histogram = self._latency_children.get(route)
        if histogram is None:
            histogram = self._latency_children[route] = self._latency.labels(route)
        histogram.observe(seconds)

    def predicted(self, model_name: str, model_version: str | None, rows: int) -> None:
        key = (model_name, str(model_version))
        counter = self._prediction_children.get(key)
        if counter is None:
            counter = self._prediction_children[key] = self._predictions.labels(*key)
        counter.inc(rows)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The body and content type for a scrape with this ``Accept`` header (Prometheus asks
        for OpenMetrics; anything else gets the classic text format)."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class _StateCollector:
    """Series read from the service's state at scrape time: build, model, capture sink."""

    def __init__(
        self,
        sink: Callable[[], Any],
        served: Callable[[], Any],
        batcher: Callable[[], Any],
        version: str,
    ) -> None:
        self._sink, self._served, self._batcher, self._version = sink, served, batcher, version

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        build = GaugeMetricFamily(
            "mlops_build_info",
            "The mlops-common version and Python serving this process (always 1).",
            labels=("version", "python"),
        )
        build.add_metric((self._version, platform.python_version()), 1)
        yield build

        served = self._served()
        yield GaugeMetricFamily(
            "mlops_model_ready", "1 once the model is loaded, 0 before.", value=int(bool(served))
        )
        if served is not None:
            info = GaugeMetricFamily(
                "mlops_model_info",
                "The model being served (always 1).",
                labels=("model_name", "model_version", "alias", "flavor", "run_id"),
            )
            values = (served.name, served.version, served.alias, served.flavor, served.run_id)
            info.add_metric(tuple("" if v is None else str(v) for v in values), 1)
            yield info

        batcher = self._batcher()
        if batcher is not None:
            yield CounterMetricFamily(
                "mlops_batched_requests",
                "Requests predicted through micro-batching.",
                value=batcher.requests,
            )
            yield CounterMetricFamily(
                "mlops_model_calls",
                "Model calls those requests took (requests waiting together share one).",
                value=batcher.calls,
            )

        sink = self._sink()
        if sink is None:
            return
        counters = (
            ("written", "mlops_capture_records_written", "Records written by the capture sink."),
            (
                "dropped",
                "mlops_capture_records_dropped",
                "Records the capture sink dropped (buffer full or a failed write).",
            ),
            ("failed_writes", "mlops_capture_failed_writes", "Capture writes that failed."),
        )
        for attribute, name, documentation in counters:
            value = getattr(sink, attribute, None)
            if value is not None:
                yield CounterMetricFamily(name, documentation, value=value)
        buffered = getattr(sink, "buffered", None)
        if buffered is not None:
            yield GaugeMetricFamily(
                "mlops_capture_buffered_records",
                "Records waiting in the capture buffer for the next write.",
                value=buffered,
            )


class MetricsMiddleware:
    """Plain ASGI: counts and times every HTTP request, whatever answers it (the access
    middleware's 401/413/415, the router's 404/405, a handler's 500)."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before any response is answered with 500 further out

        async def send_and_note(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(scope.get("path", ""), scope.get("method", ""), status, seconds)
