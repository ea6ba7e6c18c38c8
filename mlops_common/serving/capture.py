"""Captured traffic: every served record, its prediction, request id and model version.

Two sinks with the same ``append``/``close``:

- :class:`CaptureWriter` (``mlops serve --capture DEST``): batches records in memory and writes
  them, gzip-compressed JSON lines, to time-partitioned files
  ``DEST/date=YYYY-MM-DD/hour=HH/<replica>-<seq>.jsonl.gz`` on local disk or any fsspec URL
  (``s3://``, ``gs://``, ``az://``), one writer per replica, flushed when ``max_records`` are
  buffered, every ``max_seconds``, and on close. A failing sink never fails a prediction: the
  buffer is bounded (``max_buffer`` records) and whatever cannot be buffered or written is
  counted in :attr:`CaptureWriter.dropped`. The JSON encoding and compression run in a child
  encoder process, so capture costs the service little CPU and no latency spikes; records of
  plain numbers are copied from the request's own JSON text rather than printed again.
- :class:`PredictionLog`: one local JSON-lines file (the development default).

:func:`read_capture` reads a window back (a folder or URL, optionally only the last ``since``);
:func:`read_window` is how ``mlops drift`` and ``mlops monitor`` take their window argument.

>>> log = PredictionLog("logs/predictions.jsonl")  # doctest: +SKIP
>>> log.append(["x"], [(1.5,)], [0], model_version="3", request_id="ab12")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
import time
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
# What json.dumps calls for a str (ensure_ascii, the default): the same text, without its checks.
_escape_text = json.encoder.encode_basestring_ascii
# Values whose JSON has no ", " inside: one json.dumps of the whole column, split on ", ".
_PLAIN_TYPES = frozenset({float, int, bool, type(None)})


# What orjson writes differently from json.dumps (NaN as null, 1e-05 as 0.00001) or may (an
# exponent, true/false): a column whose orjson text holds one is written by json.dumps instead.
_ORJSON_DIFFERS = (b"e", b"null", b"0.0000")


def _json_column(values: list[Any] | tuple[Any, ...]) -> list[str]:
    """Each value of a column as JSON text, exactly as ``json.dumps`` writes it.

    orjson writes a column of numbers ~10x faster (float repr was most of the encoding time);
    its text is used only where it is provably the same as json.dumps's.
    """
    dumps = json.dumps
    if values and set(map(type, values)) <= _PLAIN_TYPES:
        try:
            import orjson
        except ImportError:  # only CPython gets it (pyproject.toml)
            orjson = None
        if orjson is not None:
            try:
                text = orjson.dumps(values)
            except TypeError:  # an int beyond 64 bits
                text = b"e"
            if not any(mark in text for mark in _ORJSON_DIFFERS):
                return text[1:-1].decode("ascii").split(",")
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
    request id (one request's records; :func:`_file_text` does a whole file at once)."""
    return _json_lines_of(names, [(rows, predictions, timestamp, model_version, request_id)])


def _json_lines_of(names: list[str], requests: list[tuple[Any, ...]]) -> str:
    """The JSON lines of several requests' ``(rows, predictions, timestamp, model_version,
    request_id)`` that share feature ``names``, built a column at a time over all of them: a
    json.dumps per row, or even a pass per request, cost more than the rest of capture."""
    from itertools import chain, repeat

    dumps = json.dumps
    for rows, predictions, *_ in requests:
        if len(rows) != len(predictions):
            raise ValueError(f"{len(rows)} rows but {len(predictions)} predictions")
    requests = [request for request in requests if request[0]]
    if not requests:
        return ""
    if len(set(names)) != len(names) or set(names) & set(_RESERVED):
        lines = []  # a feature named like a record field: the dict decides, as before
        for rows, predictions, *constants in requests:
            for row, prediction in zip(rows, predictions, strict=True):
                record = dict(zip(names, row, strict=True))
                record.update(zip(_RESERVED, (prediction, *constants), strict=True))
                lines.append(dumps(record))
        return "\n".join(lines) + "\n"
    rows = list(chain.from_iterable(request[0] for request in requests))
    columns = [_json_column(column) for column in zip(*rows, strict=True)]
    if len(columns) != len(names):
        raise ValueError(f"every row needs {len(names)} values")
    columns.append(_json_column(list(chain.from_iterable(request[1] for request in requests))))
    # Timestamp, model version and request id are the same for all of a request's rows: their
    # text (with the closing brace) is built once per request and repeated.
    tails = [_record_tail(*constants) for _, _, *constants in requests]
    repeats = (repeat(tail, len(request[0])) for tail, request in zip(tails, requests, strict=True))
    columns.append(list(chain.from_iterable(repeats)))
    keys = [dumps(name).replace("%", "%%") for name in names]
    template = "{" + "".join(f"{key}: %s, " for key in keys) + '"prediction": %s, %s'
    return "\n".join([template % values for values in zip(*columns, strict=True)]) + "\n"


def _record_tail(timestamp: str, model_version: str | None, request_id: str | None) -> str:
    """The end of each of a request's lines: its timestamp, model version, request id and }."""
    return (
        f'"timestamp": {_constant_text(timestamp)}, "model_version": '
        f'{_constant_text(model_version)}, "request_id": {_constant_text(request_id)}}}'
    )


def _constant_text(value: Any) -> str:
    """``json.dumps(value)``; for a str (the usual version and request id) in a fifth of the
    time, through the C escaper json.dumps itself calls."""
    if type(value) is str:
        return _escape_text(value)
    return json.dumps(value)


def _file_text(batches: list[tuple[Any, ...]]) -> str:
    """The JSON lines of one capture file's ``(time, names, rows, predictions, model_version,
    request_id, body)`` batches, ``time`` in seconds since the epoch (cheaper than a datetime
    to take and to send to the encoder), ``rows`` None where ``body`` holds the records.
    Consecutive batches of the same names and kind share a pass."""
    from itertools import groupby

    texts = []
    for (names, from_body), group in groupby(
        batches, key=lambda batch: (batch[1], batch[6] is not None)
    ):
        requests = [
            (body if from_body else rows, predictions, _isoformat(when), version, request_id)
            for when, _, rows, predictions, version, request_id, body in group
        ]
        texts.append(_lines_from_bodies(requests) if from_body else _json_lines_of(names, requests))
    return "".join(texts)


# Characters that would end a record or a key early in the byte scan of _records_in_body.
_STRUCTURAL = frozenset('{}[]"\\')
_plain_names_seen: dict[tuple[str, ...], bool] = {}


def _records_in_body(body: bytes, names: list[str], count: int) -> bool:
    """Whether each of the ``count`` records in this validated request ``body`` can be copied
    from its text: nothing is escaped, no feature name holds a brace, bracket or quote, the
    only quotes are the batch key's and every record's ``names`` (so the values are numbers,
    true, false or null), and the only closing braces end the records and the body. A record
    is then the text up to its brace, which :func:`_lines_from_bodies` cuts without parsing.
    Anything else (text values, an escape, a body much longer than its records) is encoded from
    the validated rows. Only for a signature whose columns are all required: with an optional
    column, a record left short could be balanced by quotes elsewhere (the service passes the
    body only then)."""
    key = tuple(names)
    plain = _plain_names_seen.get(key)
    if plain is None:
        plain = _plain_names_seen[key] = not any(_STRUCTURAL & set(name) for name in names)
    return (
        plain
        and count > 0
        # A body padded far beyond its records is not kept whole (the buffer counts records).
        and len(body) <= 64 + count * (48 * len(names) + sum(map(len, names)))
        and body.count(b'"') == 2 + 2 * len(names) * count
        and b"\\" not in body
        and body.count(b"}") == count + 1
    )


def _lines_from_bodies(requests: list[tuple[Any, ...]]) -> str:
    """The JSON lines of requests whose records are copied from their bodies
    (:func:`_records_in_body`): each record's own text, then prediction, timestamp, model
    version and request id."""
    from itertools import chain

    predictions = _json_column(list(chain.from_iterable(request[1] for request in requests)))
    lines: list[str] = []
    for body, batch_predictions, when, version, request_id in requests:
        tail = ", " + _record_tail(when, version, request_id)
        text = body.decode("utf-8")
        # Between the batch's [ and ]: records and the commas and spaces between them.
        records = text[text.index("[") + 1 : text.rindex("]")]
        if "\n" in records or "\r" in records:  # a pretty-printed body: one line per record
            records = records.replace("\r", " ").replace("\n", " ")
        start = len(lines)
        for record, prediction in zip(
            records.split("}")[:-1],
            predictions[start : start + len(batch_predictions)],
            strict=True,
        ):
            lines.append(record.lstrip(_BETWEEN_RECORDS) + ', "prediction": ' + prediction + tail)
    return "\n".join(lines) + "\n"


_BETWEEN_RECORDS = ", \t"


def _isoformat(seconds: float) -> str:
    """``seconds`` since the epoch as ``datetime.now(timezone.utc).isoformat()`` writes it."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


class CaptureWriter:
    """Batched, time-partitioned capture to a folder or fsspec URL (see the module docstring).

    ``append`` only queues the request's rows under a lock (no serialisation on the request
    path). A background thread cuts the queue into files (by size, by time, on close) and hands
    each file's rows to an encoder *process* that turns them into JSON lines, compresses and
    stores them: that work never holds the service's GIL, which otherwise stalled every request
    in flight for the length of a 10,000-record file. Should the encoder process die, the files
    are encoded in this process from then on (``encoder="thread"`` does so from the start).
    ``storage_options`` go to fsspec (say ``{"client_kwargs": {"endpoint_url": ...}}`` for an
    S3-compatible store); ``replica`` defaults to the host name and process id.

    >>> writer = CaptureWriter("s3://bucket/capture", max_seconds=60)  # doctest: +SKIP
    >>> writer.append(["x"], [(1.5,)], [0], model_version="3", request_id="ab12")  # doctest: +SKIP
    >>> writer.close(); writer.written, writer.dropped  # doctest: +SKIP
    (1, 0)
    """

    #: ``append`` takes the request's ``body`` (the service passes it to sinks that say so).
    takes_request_body = True

    def __init__(
        self,
        destination: str | Path,
        *,
        replica: str | None = None,
        max_records: int = 10_000,
        max_seconds: float = 60.0,
        max_buffer: int = 100_000,
        storage_options: dict[str, Any] | None = None,
        encoder: str = "process",
    ) -> None:
        import os
        import socket

        if max_records < 1 or max_buffer < max_records or max_seconds <= 0:
            raise ConfigError(
                "capture: need max_records >= 1, max_buffer >= max_records and max_seconds > 0"
            )
        if encoder not in ("process", "thread"):
            raise ConfigError(f"capture: encoder={encoder!r}; use 'process' or 'thread'")
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
        self._writing = threading.Lock()  # one file at a time: the sequence and the encoder
        self._closing = False
        self._encoder = _EncoderProcess(self.storage_options) if encoder == "process" else None
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
        body: bytes | None = None,
    ) -> None:
        """Queue one request's records. ``body``, the request's JSON (already validated into
        ``rows``), is kept instead of the rows when its records are plain enough to be copied
        into the file as they are (:func:`_records_in_body`): no number is parsed or printed.
        Pass it only for a signature whose columns are all required."""
        now = time.time()
        if body is not None and _records_in_body(body, names, len(rows)):
            rows = None
        else:
            body = None
        with self._lock:
            if self._closing or self._buffered + len(predictions) > self.max_buffer:
                self.dropped += len(predictions)
                return
            self._batches.append((now, names, rows, predictions, model_version, request_id, body))
            self._buffered += len(predictions)
            if self._buffered >= self.max_records:
                self._lock.notify()

    @property
    def buffered(self) -> int:
        """Records waiting for the next write."""
        return self._buffered

    @property
    def encoder(self) -> str:
        """Where files are encoded now: ``"process"`` or ``"thread"`` (this process)."""
        return "process" if self._encoder is not None and self._encoder.alive else "thread"

    def flush(self) -> None:
        """Write whatever is buffered now, after any write under way (the caller waits)."""
        with self._writing:
            with self._lock:
                batches, self._batches, self._buffered = self._batches, [], 0
            self._write(batches)

    def close(self) -> None:
        """Stop the background thread, write the rest and stop the encoder process."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._lock.notify()
        self._thread.join()
        self.flush()
        if self._encoder is not None:
            self._encoder.close()

    def _run(self) -> None:
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
            deadline = time.monotonic() + self.max_seconds
            self.flush()

    def _write(self, batches: list[tuple[Any, ...]]) -> None:
        """Store ``batches`` (the caller holds ``_writing``)."""
        if not batches:
            return
        # One file per hour partition the batches fall in.
        # The hour of the timestamp as written (rounded to the microsecond), not of the float.
        parts: dict[str, list[tuple[Any, ...]]] = {}
        for batch in batches:
            parts.setdefault(_isoformat(batch[0])[:13], []).append(batch)
        for date_hour, part in parts.items():
            date, hour = date_hour.split("T")
            self._seq += 1
            path = f"{self.destination}/date={date}/hour={hour}/{self.replica}-{self._seq:06d}"
            path += ".jsonl.gz"
            count = sum(len(batch[3]) for batch in part)
            error = self._store(path, part)
            if error is None:
                self.written += count
            else:  # any sink failure: count it, never raise
                self.failed_writes += 1
                self.dropped += count
                self.last_error = error

    def _store(self, path: str, batches: list[tuple[Any, ...]]) -> str | None:
        if self._encoder is not None and self._encoder.alive:
            try:
                return self._encoder.store(path, batches)
            except _EncoderGone:
                pass  # the records are still here: encode them in this process instead
        return _store_file(path, batches, self.storage_options)


def _store_file(
    path: str, batches: list[tuple[Any, ...]], storage_options: dict[str, Any]
) -> str | None:
    """Encode ``batches`` as one gzip JSON-lines file at ``path``; the error as one line, or
    None when it was stored."""
    import gzip

    try:
        import fsspec

        # Level 1: ~30% less CPU than 5 for files ~15% larger (JSON lines compress ~10x).
        payload = gzip.compress(_file_text(batches).encode("utf-8"), compresslevel=1)
        with fsspec.open(path, "wb", auto_mkdir=True, **storage_options) as handle:
            handle.write(payload)
    except Exception as error:
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None


class _EncoderGone(Exception):
    """The encoder process exited or its pipe broke."""


# Rows go to the encoder in frames of about this many records, so pickling one frame holds the
# service's GIL for well under a millisecond.
_FRAME_RECORDS = 2_000
# The encoder process runs this much nicer than the service (os.nice).
_ENCODER_NICENESS = 10
_HEADER = 8  # bytes of the big-endian length before each pickled frame


class _EncoderProcess:
    """A child Python process (``python -c``, not multiprocessing: nothing re-imports the
    service's ``__main__``) that stores capture files sent as pickled frames on its stdin and
    answers each with the error or None on its stdout. It has its own session, so a Ctrl-C
    meant for the service does not kill it before the last records are written, and it exits
    when its stdin closes, so it never outlives the service."""

    def __init__(self, storage_options: dict[str, Any]) -> None:
        import subprocess
        import sys

        import mlops_common

        root = str(Path(mlops_common.__file__).resolve().parent.parent)
        bootstrap = (
            f"import sys; root = {root!r}\n"
            "if root not in sys.path: sys.path.insert(0, root)\n"
            "from mlops_common.serving.capture import _encoder_main; _encoder_main()"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-c", bootstrap],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self.alive = True
        self._send(_frame(storage_options))

    def store(self, path: str, batches: list[tuple[Any, ...]]) -> str | None:
        frames: list[bytes] = []
        try:  # every frame pickled before the first is sent: a bad value leaves no half file
            start = 0
            while start < len(batches):
                end, size = start, 0
                while end < len(batches) and (end == start or size < _FRAME_RECORDS):
                    size += len(batches[end][3])
                    end += 1
                frames.append(_frame(("rows", batches[start:end])))
                start = end
        except Exception as error:
            return f"{type(error).__name__}: {error}".splitlines()[0]
        frames.append(_frame(("store", path)))
        for frame in frames:
            self._send(frame)
        self._flush()
        return self._receive()

    def close(self) -> None:
        import subprocess

        if self.alive:
            try:
                self._send(_frame(("close",)))
                self._process.stdin.close()
            except _EncoderGone:
                pass
        self.alive = False
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()

    def _send(self, frame: bytes) -> None:
        try:
            self._process.stdin.write(frame)
        except (OSError, ValueError) as error:  # broken pipe, or already closed
            self.alive = False
            raise _EncoderGone from error

    def _flush(self) -> None:
        try:
            self._process.stdin.flush()
        except (OSError, ValueError) as error:
            self.alive = False
            raise _EncoderGone from error

    def _receive(self) -> Any:
        message = _read_frame(self._process.stdout)
        if message is _EOF:
            self.alive = False
            raise _EncoderGone
        return message


_EOF = object()


def _frame(message: Any) -> bytes:
    import pickle

    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(_HEADER, "big") + payload


def _read_frame(stream: Any) -> Any:
    import pickle

    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return _EOF
    payload = stream.read(int.from_bytes(header, "big"))
    return pickle.loads(payload) if len(payload) == int.from_bytes(header, "big") else _EOF


def _encoder_main() -> None:
    """The encoder process: read frames from stdin until ``close`` or end of input."""
    import contextlib
    import os
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service closes us when it stops
    # Predictions first: on a busy CPU encoding waits, and the bounded buffer absorbs it.
    with contextlib.suppress(AttributeError, OSError):  # no nice() on this platform
        os.nice(_ENCODER_NICENESS)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the answers
    storage_options = _read_frame(requests)
    if storage_options is _EOF:
        return
    # Now, while the service starts, not during the first file (fsspec costs ~0.3 s of CPU).
    import gzip  # noqa: F401

    import fsspec  # noqa: F401

    rows: list[tuple[Any, ...]] = []
    while True:
        message = _read_frame(requests)
        if message is _EOF or message[0] == "close":
            return
        if message[0] == "rows":
            rows.extend(message[1])
        elif message[0] == "store":
            answer = _store_file(message[1], rows, storage_options)
            rows = []
            answers.write(_frame(answer))
            answers.flush()


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
