"""Feast feature store: point-in-time training sets, online features for the service, lineage.

A project rendered with ``with_feature_store`` has a Feast repository and names it, with the
FeatureService that lists the model's inputs, in ``[tool.mlops]`` of its ``pyproject.toml``::

    feature_repo = "feature_repo"        # the folder of feature_store.yaml
    feature_service = "model_inputs"     # FeatureService(name=..., features=[...])

    feature_lateness = "1d"              # how late rows may arrive (30m, 12h, 2d, 1w; 0 = never)

The same service builds the training set (:meth:`FeatureSet.training_frame`, Feast's historical
retrieval: each label gets the feature values as they were at its timestamp, never later ones),
fills the online store (:meth:`FeatureSet.materialize`, which re-reads the last
``feature_lateness`` before each view's previous load, so rows that arrive late with older event
timestamps still reach it) and answers the service's entity-keyed
requests (:meth:`FeatureSet.online_records`). Feast is imported here only, inside the functions,
and only for a project that names a repository: ``import mlops_common`` and a service without a
feature store never load it.

>>> features = FeatureSet.open("feature_repo", "model_inputs")  # doctest: +SKIP
>>> train = features.training_frame(labels)  # labels: entity keys, event_timestamp, target
>>> features.materialize(lateness="1d").materialized  # doctest: +SKIP
['patient_measurements']
>>> features.online_records([{"patient_id": 3}])  # doctest: +SKIP
[{'age': 59.0, 'bmi': 32.1, ...}]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_common import tags as tag_names
from mlops_common.errors import ConfigError, EnvironmentProblem, InputError
from mlops_common.results import Result

if TYPE_CHECKING:
    from mlops_common.config import ProjectConfig

__all__ = [
    "DEFAULT_LATENESS",
    "EVENT_TIMESTAMP",
    "FeatureSet",
    "FeatureStoreSettings",
    "FeatureView",
    "MaterializeResult",
    "parse_lateness",
]

#: The timestamp column of a labels frame: when each label was known (Feast's convention).
EVENT_TIMESTAMP = "event_timestamp"
# A view that was never materialised is loaded from the start of its data: Feast's own
# materialize_incremental would start at now - ttl and silently skip older rows.
_BEGINNING = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: How late a feature row may arrive (its event timestamp before the last load) and still reach the
#: online store, when [tool.mlops] feature_lateness does not say: a day covers a daily batch that
#: is re-run or lands after its midnight cut-off.
DEFAULT_LATENESS = timedelta(days=1)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Feast's primitive type names -> the Python type a JSON entity key must have.
_KEY_TYPES = {"INT32": int, "INT64": int, "STRING": str, "BYTES": str, "BOOL": bool}


@dataclass(frozen=True)
class FeatureStoreSettings:
    """Where a project's Feast repository is and which FeatureService feeds its model."""

    repo: Path
    service: str
    lateness: timedelta = DEFAULT_LATENESS

    @classmethod
    def from_config(cls, config: ProjectConfig) -> FeatureStoreSettings | None:
        """``feature_repo`` / ``feature_service`` / ``feature_lateness`` of ``[tool.mlops]``;
        None when no repository is configured.

        >>> FeatureStoreSettings.from_config(load_project_config())  # doctest: +SKIP
        FeatureStoreSettings(repo=PosixPath('/work/churn/feature_repo'), ...)
        """
        repo = str(config.extra.get("feature_repo") or "").strip()
        if not repo:
            return None
        service = str(config.extra.get("feature_service") or "").strip()
        if not service:
            raise ConfigError(
                f"{config.root / 'pyproject.toml'}: [tool.mlops] feature_repo is set but "
                "feature_service is not; name the FeatureService that lists the model's inputs"
            )
        path = Path(repo)
        lateness = config.extra.get("feature_lateness")
        return cls(
            repo=path if path.is_absolute() else config.root / path,
            service=service,
            lateness=DEFAULT_LATENESS
            if lateness is None
            else parse_lateness(lateness, where=f"{config.root / 'pyproject.toml'}: [tool.mlops]"),
        )


def parse_lateness(value: Any, *, where: str = "feature_lateness") -> timedelta:
    """``30m``, ``12h``, ``2d``, ``1w`` (or ``0``) as a timedelta; anything else is a ConfigError.

    >>> parse_lateness("36h")
    datetime.timedelta(days=1, seconds=43200)
    """
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    if text in ("0", "0s"):
        return timedelta(0)
    found = _DURATION.match(text)
    if isinstance(value, bool) or not found:
        raise ConfigError(
            f"{where} feature_lateness = {value!r}: give how late rows may arrive as an age like "
            '"30m", "12h", "2d" or "1w" ("0" to load only rows newer than the last load)'
        )
    return timedelta(**{_DURATION_UNITS[found.group(2)]: float(found.group(1))})


@dataclass(frozen=True)
class FeatureView:
    """One feature view of the service as the registry has it: its version and features."""

    name: str
    version: int
    features: list[str]


def _import_feast() -> Any:
    try:
        import feast
    except ImportError as exc:
        raise EnvironmentProblem(
            f"this project uses a Feast feature store but feast is not installed ({exc}); fix: "
            "pip install 'mlops-common[feast]' (or uv sync in the project)"
        ) from exc
    return feast


class FeatureSet:
    """A FeatureService of a Feast repository: training sets, online records, lineage."""

    def __init__(self, store: Any, service: Any, repo: Path) -> None:
        self.store = store
        self.service = service
        self.repo = repo
        self.views: list[FeatureView] = []
        self.entity_keys: dict[str, type] = {}
        for projection in service.feature_view_projections:
            view = store.get_feature_view(projection.name)
            self.views.append(
                FeatureView(
                    name=view.name,
                    version=_version_number(view),
                    features=[feature.name for feature in projection.features],
                )
            )
            for column in view.entity_columns:
                kind = getattr(column.dtype, "name", str(column.dtype)).upper()
                self.entity_keys.setdefault(column.name, _KEY_TYPES.get(kind, str))
        #: The features in the service's order: the columns of every frame and record returned.
        self.feature_names = [name for view in self.views for name in view.features]

    @classmethod
    def open(cls, repo: Path | str, service: str) -> FeatureSet:
        """The applied FeatureService ``service`` of the repository at ``repo``."""
        repo = Path(repo)
        if not (repo / "feature_store.yaml").is_file():
            raise ConfigError(
                f"{repo}: no feature_store.yaml; point [tool.mlops] feature_repo at the Feast "
                "repository"
            )
        feast = _import_feast()
        from feast.errors import FeastObjectNotFoundException

        store = feast.FeatureStore(repo_path=str(repo))
        try:
            found = store.get_feature_service(service)
        except FeastObjectNotFoundException as exc:
            raise ConfigError(
                f"{repo}: the registry has no feature service {service!r} ({exc}); define it in "
                f"the repository and run `feast -c {repo} apply`"
            ) from exc
        return cls(store, found, repo)

    @classmethod
    def from_settings(cls, settings: FeatureStoreSettings) -> FeatureSet:
        return cls.open(settings.repo, settings.service)

    # ---------------------------------------------------------------------------- training

    def training_frame(self, labels: Any, *, timestamp: str = EVENT_TIMESTAMP) -> Any:
        """``labels`` (entity keys, ``timestamp``, label columns) joined point in time: each row
        gets every feature's latest value at or before its own timestamp (within the view's ttl),
        never a later one. Rows come back in the order of ``labels``.
        """
        import pandas as pd

        missing = [name for name in (*self.entity_keys, timestamp) if name not in labels.columns]
        if missing:
            raise InputError(
                f"labels: missing column(s) {', '.join(missing)}; a labels frame has the entity "
                f"key(s) {', '.join(self.entity_keys)} and the label time in {timestamp!r}"
            )
        entity_df = labels.reset_index(drop=True).copy()
        entity_df[timestamp] = pd.to_datetime(entity_df[timestamp], utc=True)
        order = "__mlops_row"
        entity_df[order] = range(len(entity_df))
        if timestamp != EVENT_TIMESTAMP:
            entity_df = entity_df.rename(columns={timestamp: EVENT_TIMESTAMP})
        job = self.store.get_historical_features(entity_df=entity_df, features=self.service)
        frame = job.to_df().sort_values(order).drop(columns=[order]).reset_index(drop=True)
        if timestamp != EVENT_TIMESTAMP:
            frame = frame.rename(columns={EVENT_TIMESTAMP: timestamp})
        return frame

    # ------------------------------------------------------------------------------ online

    def online_records(self, entities: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """The online store's current features for each entity (a dict of its keys), in the
        service's feature order; None for an entity the store has no value for at all."""
        if not entities:
            return []
        found = self.store.get_online_features(
            features=self.service, entity_rows=entities
        ).to_dict()
        records: list[dict[str, Any] | None] = []
        for index in range(len(entities)):
            record = {name: found[name][index] for name in self.feature_names}
            records.append(None if all(v is None for v in record.values()) else record)
        return records

    def materialize(
        self, end: datetime | None = None, *, lateness: timedelta | str = DEFAULT_LATENESS
    ) -> MaterializeResult:
        """Load the offline store's latest values up to ``end`` (default: now) into the online
        store. A view's first load starts at the beginning of its data; each later one starts
        ``lateness`` before where the previous one ended, so a row that arrived after that load
        with an older event timestamp is still loaded (Feast keeps, per entity, the newest row of
        the window: re-reading rows already loaded changes nothing).
        """
        lateness = parse_lateness(lateness, where="materialize(lateness=...)")
        end = end or datetime.now(timezone.utc)
        if end.tzinfo is None:
            end = end.replace(tzinfo=timezone.utc)
        loaded: dict[str, str] = {}
        for view in self.views:
            registered = self.store.get_feature_view(view.name)
            last = registered.most_recent_end_time
            if last is None:
                start = _BEGINNING
            else:
                last = last if last.tzinfo else last.replace(tzinfo=timezone.utc)
                start = max(_BEGINNING, min(last, end) - lateness)
            if start < end:
                self.store.materialize(start_date=start, end_date=end, feature_views=[view.name])
                loaded[view.name] = start.isoformat()
        return MaterializeResult(
            service=self.service.name,
            views=self.views,
            end=end.isoformat(),
            materialized=list(loaded),
            starts=loaded,
            lateness_seconds=lateness.total_seconds(),
        )

    # ----------------------------------------------------------------------------- lineage

    def lineage(self) -> dict[str, Any]:
        """Project, service and each view's version: what a training set was built from."""
        return {
            "project": self.store.project,
            "service": self.service.name,
            "views": {view.name: view.version for view in self.views},
            "features": self.feature_names,
        }

    def lineage_tags(self) -> dict[str, str]:
        """The MLflow run tags of :meth:`lineage` (names in :mod:`mlops_common.tags`)."""
        tags = {
            tag_names.FEAST_PROJECT: str(self.store.project),
            tag_names.FEAST_SERVICE: str(self.service.name),
        }
        for view in self.views:
            tags[tag_names.FEAST_VIEW_PREFIX + view.name] = f"v{view.version}"
        return tags


def _version_number(view: Any) -> int:
    """The registry's version of a feature view: v0 when created, +1 per schema change."""
    number = getattr(view, "current_version_number", None)
    return int(number) if number is not None else 0


@dataclass
class MaterializeResult(Result):
    """What :meth:`FeatureSet.materialize` loaded into the online store: per view, from when."""

    service: str
    views: list[FeatureView]
    end: str
    materialized: list[str] = field(default_factory=list)
    starts: dict[str, str] = field(default_factory=dict)
    lateness_seconds: float = 0.0

    def summary(self) -> str:
        views = ", ".join(f"{view.name} v{view.version}" for view in self.views)
        if not self.materialized:
            return f"online store already up to {self.end} for {self.service} ({views})"
        late = ""
        if self.lateness_seconds and any(s != _BEGINNING.isoformat() for s in self.starts.values()):
            late = f", re-reading {_age(self.lateness_seconds)} before the last load for late rows"
        return f"materialised {self.service} ({views}) up to {self.end}{late}"


def _age(seconds: float) -> str:
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}(s)"
    return f"{seconds:g} second(s)"
