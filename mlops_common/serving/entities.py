"""Entity-keyed requests: the service fetches the features from the Feast online store.

A service whose project names a feature store (``feature_repo`` / ``feature_service`` in
``[tool.mlops]``, :mod:`mlops_common.feature_store`) also takes
``{"entities": [{"patient_id": 3}, ...]}`` on its predict routes. Each entity's features come
from the online store, in the model's column order, and then go through the very validation,
prediction and capture of a ``{"records": [...]}`` request: record ``i`` of the errors is the one
fetched for ``entities[i]``. Malformed entities are a 422; an entity the store has no features
for is a 404 naming it (the request was well formed: the entity is what is not there).

>>> lookup = EntityLookup.open(settings, max_records=10_000)  # doctest: +SKIP
>>> body, refused = lookup.records_body(b'{"entities": [{"patient_id": 3}]}')  # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_common.feature_store import FeatureSet, FeatureStoreSettings

__all__ = ["ENTITIES_KEY", "EntityLookup"]

#: The request's key for a batch of entity keys.
ENTITIES_KEY = "entities"
# Integer keys within JSON's exact range (a number beyond 2**53 does not survive every JSON
# parser; give such ids as strings). An integral float like 3.0 is the integer 3, as in JSON Schema.
_INT_RANGE = (-(2**53 - 1), 2**53 - 1)
_JSON_TYPES = {int: "integer", str: "string", bool: "boolean"}


class EntityLookup:
    """The online-store side of entity-keyed requests (one per service)."""

    def __init__(self, features: FeatureSet, max_records: int) -> None:
        from typing import Annotated

        from pydantic import BeforeValidator, ConfigDict, Field, Strict, create_model

        self.features = features
        self.max_records = max_records
        fields: dict[str, Any] = {}
        for name, kind in features.entity_keys.items():
            if kind is int:
                key = Annotated[int, BeforeValidator(_integral), Strict()]
                fields[name] = (key, Field(ge=_INT_RANGE[0], le=_INT_RANGE[1]))
            else:
                fields[name] = (Annotated[kind, Strict()], ...)
        row = create_model("EntityKeys", __config__=ConfigDict(extra="forbid"), **fields)
        self._model = create_model(
            "PredictEntities",
            __config__=ConfigDict(extra="forbid"),
            entities=(list[row], Field(min_length=1, max_length=max_records)),
        )

    @classmethod
    def open(cls, settings: FeatureStoreSettings, max_records: int) -> EntityLookup:
        from mlops_common.feature_store import FeatureSet

        return cls(FeatureSet.from_settings(settings), max_records)

    def asks(self, body: bytes) -> bool:
        """Whether ``body`` is an entity-keyed request (a top-level ``entities`` key)."""
        if b'"entities"' not in body:  # the cheap test first: records bodies pass at once
            return False
        try:
            parsed = json.loads(body)
        except ValueError:
            return False
        return isinstance(parsed, dict) and ENTITIES_KEY in parsed

    def row_schema(self) -> dict[str, Any]:
        """The JSON Schema of one entity (for ``/openapi.json``)."""
        properties: dict[str, Any] = {}
        for name, kind in self.features.entity_keys.items():
            properties[name] = {"type": _JSON_TYPES.get(kind, "string")}
            if kind is int:
                properties[name].update(minimum=_INT_RANGE[0], maximum=_INT_RANGE[1])
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        }

    def records_body(self, body: bytes) -> tuple[bytes, int, dict[str, Any] | None]:
        """``(records body, 200, None)``, or ``(b"", status, payload)``: 422 when the entities
        are malformed, 404 when the online store has no features for some of them."""
        from pydantic import ValidationError

        try:
            parsed = self._model.model_validate_json(body)
        except ValidationError as exc:
            errors = [_entity_error(error) for error in exc.errors(include_url=False)[:20]]
            return b"", 422, _refusal(errors)
        entities = [row.model_dump() for row in parsed.entities]
        records = self.features.online_records(entities)
        missing = [
            {
                "record": index,
                "field": None,
                "message": (
                    f"entities[{index}]: the online store has no features for "
                    f"{json.dumps(entities[index], sort_keys=True)}; materialise them first"
                ),
            }
            for index, record in enumerate(records)
            if record is None
        ]
        if missing:
            return b"", 404, _refusal(missing)
        payload = {"records": records}
        return json.dumps(payload, allow_nan=True, default=_plain).encode(), 200, None

    def describe(self) -> dict[str, Any]:
        """For ``/metadata``: the service, its views and versions, the entity keys."""
        return {
            **self.features.lineage(),
            "entity_keys": {
                name: _JSON_TYPES.get(kind, "string")
                for name, kind in self.features.entity_keys.items()
            },
        }


def _entity_error(error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    record = loc[1] if len(loc) >= 2 and isinstance(loc[1], int) else None
    field_name = str(loc[2]) if len(loc) >= 3 else None
    where = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in loc).replace(
        ".[", "["
    )
    got = f", got {error['input']!r}" if "input" in error and record is not None else ""
    return {
        "record": record,
        "field": field_name,
        "message": f"{where or 'body'}: {error['msg'].lower()}{got}",
    }


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _plain(value: Any) -> Any:
    """numpy scalars (an online store may hand them back) as plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _refusal(errors: list[dict[str, Any]]) -> dict[str, Any]:
    detail = "; ".join(error["message"] for error in errors[:3])
    if len(errors) > 3:
        detail += f" (and {len(errors) - 3} more)"
    return {"detail": detail, "errors": errors}
