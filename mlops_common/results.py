"""One shape for every result the library returns.

Every result type (validation, drift, gate decision, rollback, deploy, fleet reports, doctor)
offers the same verbs, so a user and the CLI learn them once:

- ``to_dict()``: JSON-ready data (plain types only);
- ``to_json(path) -> Path``: that data written as indented JSON;
- ``summary() -> str``: one or a few lines for a terminal, failures first;
- ``write_html(path) -> Path``: a self-contained HTML page, only where a picture helps;
- ``exit_code``: 0 ok (including "not enough data to judge"), 1 a negative verdict.

>>> from dataclasses import dataclass
>>> @dataclass
... class Answer(Result):
...     value: int
...     def summary(self) -> str:
...         return f"value {self.value}"
>>> Answer(42).to_dict()
{'value': 42}
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

__all__ = ["EXIT_ENVIRONMENT", "EXIT_INPUT", "EXIT_NEGATIVE", "EXIT_OK", "Result", "to_jsonable"]

# The one exit-code rule of every `mlops` command (documented in `mlops --help`).
EXIT_OK = 0  # done; also "not enough data to judge" (the JSON says so in `verdict`)
EXIT_NEGATIVE = 1  # a negative verdict: validation failed, drift, gate refused, degradation
EXIT_INPUT = 2  # bad input: arguments, files, suites, answers
EXIT_ENVIRONMENT = 3  # the environment: store unreachable, library outside the pin, credentials


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for numpy scalars, timestamps, paths, non-finite floats and containers."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(item) for item in value]
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return to_jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if hasattr(value, "isoformat"):  # datetime, date, pandas Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    return str(value)


class Result:
    """Mixin of the result protocol; subclasses are dataclasses that define ``summary()``.

    ``to_dict`` defaults to the dataclass fields made JSON-ready; override it when the JSON
    shape differs from the fields. ``exit_code`` defaults to ok; results that carry a verdict
    override it.
    """

    def to_dict(self) -> dict[str, Any]:
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must define to_dict()")
        return to_jsonable({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    def to_json(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", "utf-8")
        return target

    def summary(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must define summary()")

    @property
    def exit_code(self) -> int:
        return EXIT_OK
