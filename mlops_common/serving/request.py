"""The service's request and response shapes: a strict pydantic model built from the signature.

``{"records": [{feature: value, ...}, ...]}`` (or ``"instances"``, Vertex AI's and SageMaker's
key) with every value already of the signature's type (no coercion), no unknown fields and at
most ``max_records`` records; validation errors become ``{"record", "field", "message"}`` items
naming the record and the field.

>>> body = request_model(served.columns, MAX_RECORDS)  # doctest: +SKIP
>>> body.model_validate_json(b'{"records": [{"tenure": 12}]}')  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlops_common.serving.model import SCHEMA_TYPES, ColumnSpec

__all__ = [
    "BATCH_KEYS",
    "MAX_RECORDS",
    "describe_errors",
    "record_reader",
    "record_schema",
    "request_model",
]

#: The largest batch one request may send.
MAX_RECORDS = 10_000
# At most this many validation errors are reported for one request (a 10 000-record batch of
# wrong types would otherwise answer with a megabyte of errors).
MAX_REPORTED_ERRORS = 20
# The request's batch key: ours, then the one Vertex AI and SageMaker's JSON convention use.
BATCH_KEYS = ("records", "instances")


_JSON_TYPES = {
    "double": "number",
    "float": "number",
    "long": "integer",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
}


def record_schema(columns: list[ColumnSpec]) -> dict[str, Any]:
    """The JSON Schema of one record, as :func:`request_model` checks it (for ``/openapi.json``).

    >>> record_schema([ColumnSpec("tenure", "double")])["properties"]
    {'tenure': {'type': 'number'}}
    """
    properties: dict[str, Any] = {}
    for column in columns:
        kind = _JSON_TYPES[column.type]
        properties[column.name] = {"type": kind} if column.required else {"type": [kind, "null"]}
    return {
        "type": "object",
        "properties": properties,
        "required": [column.name for column in columns if column.required],
        "additionalProperties": False,
    }


def request_model(columns: list[ColumnSpec], max_records: int) -> Any:
    """The strict pydantic model of a request body for these signature ``columns``.

    Each record validates into a plain dict keyed by column name (a TypedDict, so a column may
    be called "schema", "_id" or "petal length (cm)"); :func:`record_reader` turns it into the
    row tuple. Dicts cost a third less than a model instance per record plus ``getattr`` per
    field, which was most of a 100-row request's Python time.
    """
    from typing import Annotated

    from pydantic import AliasChoices, ConfigDict, Field, Strict, create_model
    from typing_extensions import NotRequired, TypedDict

    fields: dict[str, Any] = {}
    for column in columns:
        python_type = SCHEMA_TYPES[column.type]
        if column.required:
            fields[column.name] = Annotated[python_type, Strict()]
        else:
            fields[column.name] = NotRequired[Annotated[python_type | None, Strict()]]
    record = TypedDict("Record", fields)  # type: ignore[misc]
    record.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    body = create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(
            list[record],
            Field(
                min_length=1,
                max_length=max_records,
                # Either key, never both: the other one is then an unexpected field (extra).
                validation_alias=AliasChoices(*BATCH_KEYS),
            ),
        ),
    )
    return body


def record_reader(columns: list[ColumnSpec]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A validated record (dict) -> its values as a tuple in signature order; an optional
    column the record left out is None.

    >>> read = record_reader([ColumnSpec("a", "double"), ColumnSpec("b", "long")])
    >>> read({"b": 2, "a": 1.5})
    (1.5, 2)
    """
    from operator import itemgetter

    names = [column.name for column in columns]
    if not all(column.required for column in columns):
        return lambda record: tuple(map(record.get, names))
    if len(names) == 1:
        (name,) = names
        return lambda record: (record[name],)
    return itemgetter(*names)  # one C call per record


def describe_errors(errors: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """pydantic errors -> ``{"record", "field", "message"}`` with the field and record named."""
    described = []
    for error in errors[:MAX_REPORTED_ERRORS]:
        loc = list(error.get("loc", ()))
        kind = error.get("type", "")
        batch = str(loc[0]) if loc else "records"  # the key the request used
        record = loc[1] if len(loc) >= 2 and isinstance(loc[1], int) else None
        field_name = str(loc[2]) if len(loc) >= 3 else (str(loc[0]) if loc else None)
        if kind == "json_invalid":
            message = f"request body is not valid JSON: {error['msg']}"
        elif kind == "model_type" and not loc:
            message = 'request body must be an object like {"records": [{...}]}'
        elif kind == "extra_forbidden" and record is not None:
            message = (
                f"{batch}[{record}]: unexpected field {field_name!r}; the model expects "
                f"{', '.join(names)}"
            )
        elif kind == "extra_forbidden" and field_name in BATCH_KEYS:
            message = "send the batch as 'records' or as 'instances', not both"
        elif kind == "extra_forbidden":
            message = (
                f"unexpected top-level field {field_name!r}; send only 'records' (or 'instances')"
            )
        elif kind == "missing" and record is not None:
            message = f"{batch}[{record}]: missing field {field_name!r}"
        elif kind == "missing":
            message = "missing field 'records' (or 'instances')"
        elif record is not None:
            message = (
                f"{batch}[{record}].{field_name}: {error['msg'].lower()}, "
                f"got {error.get('input')!r}"
            )
        elif len(loc) == 1 and batch in BATCH_KEYS:
            message = f"{batch}: {error['msg'].lower()}"
        else:
            message = f"{'.'.join(map(str, loc)) or 'body'}: {error['msg'].lower()}"
        described.append({"record": record, "field": field_name, "message": message})
    return described
