"""mlops_common.feature_store against a real Feast repository (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mlops_common import tags
from mlops_common.errors import ConfigError, InputError
from mlops_common.feature_store import FeatureSet, FeatureStoreSettings


def labels_at(*rows: tuple[int, object, int]):
    import pandas as pd

    return pd.DataFrame(rows, columns=["patient_id", "event_timestamp", "target"])


def test_training_set_leaves_out_feature_values_from_after_each_label(repo):
    T0, LATER = repo.t0, repo.later
    features = FeatureSet.open(repo.path, "model_inputs")
    labels = labels_at(
        (2, LATER + timedelta(days=1), 1),  # after the planted values: they are the truth then
        (1, T0 + timedelta(days=5), 0),  # before them: only the T0 value may be seen
        (2, T0 + timedelta(days=5), 1),
        (1, LATER - timedelta(seconds=1), 0),  # one second before the planted value
    )
    frame = features.training_frame(labels)
    assert list(frame["patient_id"]) == [2, 1, 2, 1]  # the labels' own order
    assert list(frame["x"]) == [902.0, 1.0, 2.0, 1.0]
    assert list(frame["y"]) == [9.5, 0.5, 0.5, 0.5]
    assert list(frame["target"]) == [1, 0, 1, 0]


def test_a_label_before_any_feature_value_gets_none(repo):
    T0 = repo.t0
    frame = FeatureSet.open(repo.path, "model_inputs").training_frame(
        labels_at((1, T0 - timedelta(days=1), 0))
    )
    assert frame["x"].isna().all()


def test_labels_without_entity_keys_or_timestamps_are_refused_in_one_line(repo):
    import pandas as pd

    features = FeatureSet.open(repo.path, "model_inputs")
    with pytest.raises(InputError, match="patient_id, event_timestamp"):
        features.training_frame(pd.DataFrame({"target": [1]}))


def test_materialize_loads_the_latest_values_and_online_records_serve_them(fresh_repo):
    LATER = fresh_repo.later
    features = FeatureSet.open(fresh_repo.path, "model_inputs")
    assert features.entity_keys == {"patient_id": int}
    assert features.feature_names == ["x", "y"]
    result = features.materialize(end=LATER + timedelta(hours=1))
    assert result.materialized == ["measurements"]
    assert "materialised model_inputs (measurements v0)" in result.summary()
    records = features.online_records([{"patient_id": 1}, {"patient_id": 99}, {"patient_id": 2}])
    assert records == [{"x": 901.0, "y": 9.5}, None, {"x": 902.0, "y": 9.5}]
    again = FeatureSet.open(fresh_repo.path, "model_inputs").materialize(
        end=LATER + timedelta(hours=1), lateness="0"
    )
    assert again.materialized == [] and "already up to" in again.summary()


@pytest.mark.parametrize(
    ("lateness", "late_patient"), [("0", None), ("1d", {"x": 303.0, "y": 3.5})]
)
def test_rows_that_arrive_late_with_older_timestamps_reach_the_online_store_within_lateness(
    fresh_repo, lateness, late_patient
):
    """After a load up to LATER + 1h, rows land with event timestamps before it: a new patient's
    (only a re-read window reaches it) and an older value of patient 1 (never replaces the newer
    one already online). Without lateness the new patient never reaches the online store."""
    LATER = fresh_repo.later
    features = FeatureSet.open(fresh_repo.path, "model_inputs")
    features.materialize(end=LATER + timedelta(hours=1))
    fresh_repo.add_rows(
        {"patient_id": 3, "event_timestamp": LATER - timedelta(hours=6), "x": 303.0, "y": 3.5},
        {"patient_id": 1, "event_timestamp": LATER - timedelta(hours=1), "x": 111.0, "y": 1.5},
    )
    second = FeatureSet.open(fresh_repo.path, "model_inputs").materialize(
        end=LATER + timedelta(hours=2), lateness=lateness
    )
    assert second.materialized == ["measurements"]
    online = features.online_records([{"patient_id": 3}, {"patient_id": 1}])
    assert online == [late_patient, {"x": 901.0, "y": 9.5}]
    if lateness != "0":
        window_start = LATER + timedelta(hours=1) - timedelta(days=1)
        assert second.starts["measurements"] == window_start.isoformat()
        assert "re-reading 1 day(s) before the last load for late rows" in second.summary()


def test_feature_lateness_comes_from_tool_mlops_with_a_default_and_bad_values_fail(tmp_path):
    from mlops_common.config import ProjectConfig

    def settings(**extra):
        config = ProjectConfig(
            root=tmp_path,
            tracking_uri="sqlite:///x.db",
            artifact_location=tmp_path.as_uri(),
            experiment="x",
            extra={"feature_repo": "feature_repo", "feature_service": "model_inputs", **extra},
        )
        return FeatureStoreSettings.from_config(config)

    assert settings().lateness == timedelta(days=1)
    assert settings(feature_lateness="36h").lateness == timedelta(hours=36)
    assert settings(feature_lateness="0").lateness == timedelta(0)
    with pytest.raises(ConfigError, match=r"feature_lateness = 'soon'.*\"12h\""):
        settings(feature_lateness="soon")


def test_first_materialisation_loads_values_older_than_the_ttl(fresh_repo):
    """Feast's materialize_incremental would start at now - ttl (365 days) and skip these."""
    LATER = fresh_repo.later
    features = FeatureSet.open(fresh_repo.path, "model_inputs")
    features.materialize(end=LATER + timedelta(days=800))
    assert features.online_records([{"patient_id": 1}]) == [{"x": 901.0, "y": 9.5}]


def test_lineage_names_each_view_and_its_registry_version(fresh_repo):
    first = FeatureSet.open(fresh_repo.path, "model_inputs").lineage_tags()
    assert first == {
        tags.FEAST_PROJECT: "lab",
        tags.FEAST_SERVICE: "model_inputs",
        tags.FEAST_VIEW_PREFIX + "measurements": "v0",
    }
    fresh_repo.define("x")  # a schema change: the registry makes it version 1
    fresh_repo.apply()
    changed = FeatureSet.open(fresh_repo.path, "model_inputs")
    assert changed.lineage_tags()[tags.FEAST_VIEW_PREFIX + "measurements"] == "v1"
    assert changed.feature_names == ["x"]


def test_an_unknown_service_or_folder_is_a_config_error(repo, tmp_path):
    with pytest.raises(ConfigError, match="no feature service 'nope'"):
        FeatureSet.open(repo.path, "nope")
    with pytest.raises(ConfigError, match=r"no feature_store\.yaml"):
        FeatureSet.open(tmp_path / "elsewhere", "model_inputs")


def test_a_tracked_run_records_the_feature_views_and_their_versions(repo):
    import mlflow

    from mlops_common.config import ProjectConfig
    from mlops_common.tracking import tracked_run

    config = ProjectConfig(
        root=repo.root,
        tracking_uri=f"sqlite:///{(repo.root / 'mlflow.db').as_posix()}",
        artifact_location=(repo.root / "mlartifacts").as_uri(),
        experiment="features",
        extra={"feature_repo": "feature_repo", "feature_service": "model_inputs"},
    )
    with tracked_run("train", config=config, params_file=None) as run:
        pass
    recorded = mlflow.MlflowClient(config.tracking_uri).get_run(run.info.run_id).data.tags
    assert recorded[tags.FEAST_VIEW_PREFIX + "measurements"] == "v0"
    assert recorded[tags.FEAST_SERVICE] == "model_inputs"
    assert recorded[tags.FEAST_PROJECT] == "lab"
    assert recorded[tags.PKG_PREFIX + "feast"].startswith("0.")
