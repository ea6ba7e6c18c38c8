"""Captured traffic: every served record, its prediction, request id and model version.

Two sinks with the same ``append``/``close``:

- :class:`CaptureWriter` (``mlops serve --capture DEST``): batches records in memory and writes
  them, gzip-compressed JSON lines, to time-partitioned files
  ``DEST/date=YYYY-MM-DD/hour=HH/<replica>-<seq>.jsonl.gz`` on local disk or any fsspec URL
  (``s3://``, ``gs://``, ``az://``), one writer per replica, flushed when ``max_records`` are
  buffered, every ``max_seconds``, and on close. A failing sink never fails a prediction: the
  buffer is bounded (``max_buffer`` records) and whatever cannot be buffered or written is
  counted in :attr:`CaptureWriter.dropped`.
- :class:`PredictionLog`: one local JSON-lines file (the development default).

:func:`read_capture` reads a window back (a folder or URL, optionally only the last ``since``);
:func:`read_window` is how ``mlops drift`` and ``mlops monitor`` take their window argument.

>>> log = PredictionLog("logs/predictions.jsonl")  # doctest: +SKIP
>>> log.append(["x"], [(1.5,)], [0], model_version="3", request_id="ab12")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common.errors import ConfigError

__all__ = [
    "CaptureWriter",
    "PredictionLog",
    "is_capture_source",
    "parse_since",
    "read_capture",
    "read_window",
]


class PredictionLog:
    """Thread-safe JSON-lines sink: one line per record, flushed once per request.

    >>> log = PredictionLog("logs/predictions.jsonl")  # doctest: +SKIP
    >>> log.append(["x"], [(1.5,)], [0], model_version="3")  # doctest: +SKIP
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8", buffering=1 << 16)
        except OSError as exc:
            raise ConfigError(
                f"{self.path}: cannot open the prediction log ({exc}); pass another "
                f"--prediction-log or fix the folder's permissions"
            ) from exc
        self._lock = threading.Lock()
        #: Records written so far (a failed write raises instead of dropping).
        self.written = 0

    def append(
        self,
        names: list[str],
        rows: list[tuple[Any, ...]],
        predictions: list[Any],
        *,
        model_version: str | None,
        request_id: str | None = None,
    ) -> None:
        timestamp = datetime.now(timezone.utc).isoformat()
        text = _json_lines(names, rows, predictions, timestamp, model_version, request_id)
        with self._lock:
            self._file.write(text)
            self._file.flush()
            self.written += len(rows)

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


_RESERVED = ("prediction", "timestamp", "model_version", "request_id")
# Values whose JSON has no ", " inside: one json.dumps of the whole column, split on ", ".
_PLAIN_TYPES = frozenset({float, int, bool, type(None)})


def _json_column(values: list[Any] | tuple[Any, ...]) -> list[str]:
    """Each value of a column as JSON text, exactly as ``json.dumps`` writes it."""
    dumps = json.dumps
    if values and set(map(type, values)) <= _PLAIN_TYPES:
        return dumps(list(values))[1:-1].split(", ")
    return list(map(dumps, values))


def _json_lines(
    names: list[str],
    rows: list[tuple[Any, ...]],
    predictions: list[Any],
    timestamp: str,
    model_version: str | None,
    request_id: str | None,
) -> str:
    """One JSON object per row: the features, then prediction, timestamp, model version and
    request id. Built a column at a time (a json.dumps per row was most of capture's cost)."""
    dumps = json.dumps
    if len(rows) != len(predictions):
        raise ValueError(f"{len(rows)} rows but {len(predictions)} predictions")
    if not rows:
        return "\n"
    if len(set(names)) != len(names) or set(names) & set(_RESERVED):
        lines = []  # a feature named like a record field: the dict decides, as before
        for row, prediction in zip(rows, predictions, strict=True):
            record = dict(zip(names, row, strict=True))
            fields = (prediction, timestamp, model_version, request_id)
            record.update(zip(_RESERVED, fields, strict=True))
            lines.append(dumps(record))
        return "\n".join(lines) + "\n"
    columns = [_json_column(column) for column in zip(*rows, strict=True)]
    if len(columns) != len(names):
        raise ValueError(f"every row needs {len(names)} values")
    columns.append(_json_column(predictions))
    keys = [dumps(name).replace("%", "%%") for name in names]
    constants = ", ".join(
        f"{dumps(key)}: {dumps(value)}".replace("%", "%%")
        for key, value in zip(_RESERVED[1:], (timestamp, model_version, request_id), strict=True)
    )
    template = "{" + "".join(f"{key}: %s, " for key in keys) + '"prediction": %s, '
    template += constants + "}"
    return "\n".join([template % values for values in zip(*columns, strict=True)]) + "\n"


class CaptureWriter:
    """Batched, time-partitioned capture to a folder or fsspec URL (see the module docstring).

    ``append`` only queues the request's rows under a lock (no serialisation on the request
    path); a background thread turns them into JSON lines, compresses and writes them.
    ``storage_options`` go to fsspec (say ``{"client_kwargs": {"endpoint_url": ...}}`` for an
    S3-compatible store); ``replica`` defaults to the host name and process id.

    >>> writer = CaptureWriter("s3://bucket/capture", max_seconds=60)  # doctest: +SKIP
    >>> writer.append(["x"], [(1.5,)], [0], model_version="3", request_id="ab12")  # doctest: +SKIP
    >>> writer.close(); writer.written, writer.dropped  # doctest: +SKIP
    (1, 0)
    """

    def __init__(
        self,
        destination: str | Path,
        *,
        replica: str | None = None,
        max_records: int = 10_000,
        max_seconds: float = 60.0,
        max_buffer: int = 100_000,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        import os
        import socket

        if max_records < 1 or max_buffer < max_records or max_seconds <= 0:
            raise ConfigError(
                "capture: need max_records >= 1, max_buffer >= max_records and max_seconds > 0"
            )
        self.destination = str(destination).rstrip("/")
        self.replica = replica or f"{socket.gethostname()}-{os.getpid()}"
        self.max_records, self.max_seconds, self.max_buffer = max_records, max_seconds, max_buffer
        self.storage_options = dict(storage_options or {})
        #: Records written, records dropped (buffer full or a failed write), failed writes.
        self.written = self.dropped = self.failed_writes = 0
        self.last_error: str | None = None
        self._batches: list[tuple[Any, ...]] = []
        self._buffered = 0
        self._seq = 0
        self._lock = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def append(
        self,
        names: list[str],
        rows: list[tuple[Any, ...]],
        predictions: list[Any],
        *,
        model_version: str | None,
        request_id: str | None = None,
    ) -> None:
        now = datetime.now(timezone.utc)
        with self._lock:
            if self._closing or self._buffered + len(rows) > self.max_buffer:
                self.dropped += len(rows)
                return
            self._batches.append((now, names, rows, predictions, model_version, request_id))
            self._buffered += len(rows)
            if self._buffered >= self.max_records:
                self._lock.notify()

    @property
    def buffered(self) -> int:
        """Records waiting for the next write."""
        return self._buffered

    def flush(self) -> None:
        """Write whatever is buffered now (the caller waits for it)."""
        with self._lock:
            batches, self._batches, self._buffered = self._batches, [], 0
        self._write(batches)

    def close(self) -> None:
        """Stop the background thread and write the rest."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._lock.notify()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        import time

        deadline = time.monotonic() + self.max_seconds
        while True:
            with self._lock:
                while (
                    not self._closing
                    and self._buffered < self.max_records
                    and time.monotonic() < deadline
                ):
                    self._lock.wait(timeout=max(deadline - time.monotonic(), 0.0))
                if self._closing:
                    return
                batches, self._batches, self._buffered = self._batches, [], 0
            deadline = time.monotonic() + self.max_seconds
            self._write(batches)

    def _write(self, batches: list[tuple[Any, ...]]) -> None:
        if not batches:
            return
        import gzip

        # One file per hour partition the batches fall in.
        parts: dict[tuple[str, str], list[str]] = {}
        counts: dict[tuple[str, str], int] = {}
        for when, names, rows, predictions, version, request_id in batches:
            key = (when.strftime("%Y-%m-%d"), when.strftime("%H"))
            text = _json_lines(names, rows, predictions, when.isoformat(), version, request_id)
            parts.setdefault(key, []).append(text)
            counts[key] = counts.get(key, 0) + len(rows)
        for (date, hour), texts in parts.items():
            self._seq += 1
            path = f"{self.destination}/date={date}/hour={hour}/{self.replica}-{self._seq:06d}"
            path += ".jsonl.gz"
            try:
                import fsspec

                # Level 1: ~30% less CPU than 5 for files ~15% larger (JSON lines compress ~10x).
                payload = gzip.compress("".join(texts).encode("utf-8"), compresslevel=1)
                with fsspec.open(path, "wb", auto_mkdir=True, **self.storage_options) as handle:
                    handle.write(payload)
            except Exception as error:  # any sink failure: count it, never raise
                self.failed_writes += 1
                self.dropped += counts[(date, hour)]
                self.last_error = f"{type(error).__name__}: {error}".splitlines()[0]
            else:
                self.written += counts[(date, hour)]


def parse_since(since: str) -> Any:
    """``"7d"``, ``"12h"`` or ``"30m"`` as a ``timedelta``.

    >>> parse_since("7d"), parse_since("90m")
    (datetime.timedelta(days=7), datetime.timedelta(seconds=5400))
    """
    from datetime import timedelta

    from mlops_common.errors import InputError

    units = {"d": "days", "h": "hours", "m": "minutes"}
    text = since.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise InputError(f"--since {since!r}: expected a number and d, h or m, e.g. 7d or 12h")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def read_capture(
    source: str | Path,
    *,
    since: str | None = None,
    now: datetime | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Any:
    """The captured records under ``source`` (a folder or fsspec URL of ``date=/hour=`` files,
    or a glob) as one DataFrame; with ``since`` only the hour partitions of that window.

    >>> window = read_capture("s3://bucket/capture", since="7d")  # doctest: +SKIP
    """
    import gzip
    import io

    import fsspec
    import pandas as pd

    from mlops_common.errors import InputError

    text = str(source).rstrip("/")
    pattern = text if any(c in text for c in "*?[") else f"{text}/date=*/hour=*/*.jsonl.gz"
    fs, _, paths = fsspec.get_fs_token_paths(pattern, storage_options=storage_options or {})
    if since is not None:
        start = (now or datetime.now(timezone.utc)) - parse_since(since)
        first = start.strftime("%Y-%m-%d/%H")

        def hour_of(path: str) -> str:
            parts = dict(
                p.split("=", 1) for p in path.split("/") if p.startswith(("date=", "hour="))
            )
            return f"{parts.get('date', '')}/{parts.get('hour', '')}"

        paths = [path for path in paths if hour_of(path) >= first]
    if not paths:
        raise InputError(
            f"current {source}: no captured records"
            + (f" in the last {since}" if since else "")
            + "; check the capture destination of the service"
        )
    frames = []
    for path in sorted(paths):
        with fs.open(path, "rb") as handle:
            raw = handle.read()
        frames.append(pd.read_json(io.BytesIO(gzip.decompress(raw)), lines=True))
    return pd.concat(frames, ignore_index=True)


def is_capture_source(current: str) -> bool:
    """A capture destination rather than one file: a folder, a glob or a URL.

    >>> is_capture_source("s3://bucket/capture"), is_capture_source("logs/predictions.jsonl")
    (True, False)
    """
    return "://" in current or any(c in current for c in "*?[") or Path(current).is_dir()


def read_window(current: str, *, since: str | None = None) -> tuple[Any, str]:
    """``(data, source)`` for a window argument: a capture destination (or anything with
    ``since``) is read with :func:`read_capture` into a DataFrame, with ``source`` naming the
    window; one file is returned as its path, for the caller's table reader.

    >>> read_window("logs/predictions.jsonl")
    ('logs/predictions.jsonl', 'logs/predictions.jsonl')
    """
    if since is None and not is_capture_source(current):
        return current, current
    return read_capture(current, since=since), current + (f" (last {since})" if since else "")
