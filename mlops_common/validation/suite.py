"""Expectation suites in Great Expectations' own JSON format (1.x, and the legacy 0.x keys)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import SuiteError

__all__ = ["REPORTING_KWARGS", "Expectation", "Suite", "load_suite"]

# Keys GE accepts on every expectation that change how results are reported, not the verdict.
REPORTING_KWARGS = frozenset({"result_format", "catch_exceptions", "include_config", "batch_id"})


@dataclass(frozen=True)
class Expectation:
    """One expectation: its GE type name, its kwargs (``column``, ``min_value``...) and meta."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        column = self.kwargs.get("column")
        return column if isinstance(column, str) else None

    @property
    def check_kwargs(self) -> dict[str, Any]:
        """The kwargs that decide the verdict (reporting options removed)."""
        return {key: value for key, value in self.kwargs.items() if key not in REPORTING_KWARGS}

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "kwargs": dict(self.kwargs), "meta": dict(self.meta)}


@dataclass(frozen=True)
class Suite:
    """A named list of expectations.

    >>> suite = load_suite({"name": "orders", "expectations": [
    ...     {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}]})
    >>> suite.name, suite.expectations[0].column
    ('orders', 'id')
    """

    name: str
    expectations: tuple[Expectation, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """GE 1.x suite JSON."""
        return {
            "name": self.name,
            "expectations": [expectation.to_dict() for expectation in self.expectations],
            "meta": dict(self.meta),
        }


def load_suite(source: str | Path | Mapping[str, Any] | Suite) -> Suite:
    """Read a suite from a JSON file or a dict (GE 1.x keys, or 0.x ``expectation_suite_name``
    / ``expectation_type``); raise ``SuiteError`` saying what is wrong and where.

    >>> load_suite({"expectation_suite_name": "legacy", "expectations": [
    ...     {"expectation_type": "expect_table_row_count_to_be_between",
    ...      "kwargs": {"min_value": 1}}]}).expectations[0].type
    'expect_table_row_count_to_be_between'
    """
    if isinstance(source, Suite):
        return source
    if isinstance(source, Mapping):
        return _parse(source, where="suite dict")
    if not isinstance(source, (str, Path)):
        raise SuiteError(
            f"suite must be a JSON path, a dict or a Suite, not {type(source).__name__}"
        )
    path = Path(source)
    if not path.is_file():
        raise SuiteError(f"{path}: suite file not found; check the path to the suite JSON")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: not valid JSON ({_one_line(exc)}); fix the suite file") from exc
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{path}: a suite is a JSON object with 'name' and 'expectations'")
    return _parse(raw, where=str(path))


def _parse(raw: Mapping[str, Any], where: str) -> Suite:
    name = raw.get("name", raw.get("expectation_suite_name"))
    if not isinstance(name, str) or not name:
        raise SuiteError(f"{where}: missing suite 'name' (or legacy 'expectation_suite_name')")
    items = raw.get("expectations")
    if not isinstance(items, list):
        raise SuiteError(f"{where}: 'expectations' must be a list of expectation objects")
    expectations = []
    for index, item in enumerate(items):
        at = f"{where}: expectations[{index}]"
        if not isinstance(item, Mapping):
            raise SuiteError(f"{at} is not an object with 'type' and 'kwargs'")
        type_ = item.get("type", item.get("expectation_type"))
        if not isinstance(type_, str) or not type_:
            raise SuiteError(f"{at} has no 'type' (or legacy 'expectation_type')")
        kwargs = item.get("kwargs", {})
        meta = item.get("meta") or {}
        if not isinstance(kwargs, Mapping) or not isinstance(meta, Mapping):
            raise SuiteError(f"{at} ({type_}): 'kwargs' and 'meta' must be JSON objects")
        expectations.append(Expectation(type_, dict(kwargs), dict(meta)))
    meta = raw.get("meta") or {}
    return Suite(name, tuple(expectations), dict(meta) if isinstance(meta, Mapping) else {})


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
