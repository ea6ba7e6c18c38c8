"""The prediction log: every served record and its prediction, one JSON line each.

``mlops drift`` reads this file as its current data.

>>> log = PredictionLog("logs/predictions.jsonl")  # doctest: +SKIP
>>> log.append(["x"], [(1.5,)], [0], model_version="3")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common.errors import ConfigError

__all__ = ["PredictionLog"]


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

    def append(
        self,
        names: list[str],
        rows: list[tuple[Any, ...]],
        predictions: list[Any],
        *,
        model_version: str | None,
    ) -> None:
        timestamp = datetime.now(timezone.utc).isoformat()
        dumps = json.dumps
        lines = []
        for row, prediction in zip(rows, predictions, strict=True):
            record = dict(zip(names, row, strict=True))
            record["prediction"] = prediction
            record["timestamp"] = timestamp
            record["model_version"] = model_version
            lines.append(dumps(record, allow_nan=True))
        text = "\n".join(lines) + "\n"
        with self._lock:
            self._file.write(text)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()
