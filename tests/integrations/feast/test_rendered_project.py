"""A project rendered with_feature_store runs its whole pipeline on real Feast (features + apply,
point-in-time prepare, materialise, train with feature lineage) and serves entity keys.

It runs in the feast session's own environment (library, test group, Feast on pandas 2), which
holds everything the rendered project depends on: no second install.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from mlops_common import tags
from tools import project_workflow


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("rendered")
    snapshot = project_workflow.template_snapshot(root / "template")
    project = project_workflow.render_project(
        root / "project", src=snapshot, with_feature_store=True
    )
    env = project_workflow.project_env(Path(sys.prefix), project)
    project_workflow.git_init_commit(project, env)
    project_workflow.run(["dvc", "repro"], project, env, timeout=1200)
    return project, env


def test_the_training_run_records_the_feature_view_and_its_version(project):
    path, env = project
    champion = project_workflow.champion(path, env)
    import mlflow

    run_id = champion["tags"][tags.RUN_ID]
    recorded = mlflow.MlflowClient(champion["uri"]).get_run(run_id).data.tags
    assert recorded[tags.FEAST_VIEW_PREFIX + "tumour_measurements"] == "v0"
    assert recorded[tags.FEAST_SERVICE] == "model_inputs"


def test_prepare_leaves_out_values_planted_after_each_label_and_serve_takes_entities(project):
    import pandas as pd

    path, env = project
    source = path / "data" / "features" / "tumour_measurements.parquet"
    before = (path / "data" / "raw" / "dataset.csv").read_bytes()
    table = pd.read_parquet(source)
    labels = pd.read_parquet(path / "data" / "raw" / "labels.parquet")
    planted = table.copy()
    # One second after each label was known: a leak if the join took it.
    planted["event_timestamp"] = labels["event_timestamp"] + timedelta(seconds=1)
    planted[[c for c in table.columns if c not in ("tumour_id", "event_timestamp")]] = 9999.0
    pd.concat([table, planted]).to_parquet(source, index=False)
    project_workflow.run(["python", "-m", "churn_model.feature_store", "prepare"], path, env)
    assert (path / "data" / "raw" / "dataset.csv").read_bytes() == before
    # The service fetches the entities' features from the online store `dvc repro` filled.
    with project_workflow.serving(path, env) as url:
        status, body = project_workflow.http_json(
            f"{url}/predict", {"entities": [{"tumour_id": 0}, {"tumour_id": 1}]}
        )
        assert status == 200, body
        assert len(body["predictions"]) == 2
        status, body = project_workflow.http_json(
            f"{url}/predict", {"entities": [{"tumour_id": 100000}]}
        )
        assert status == 404 and "tumour_id" in body["detail"]
    from mlops_common.serving.capture import read_capture

    captured = read_capture(path / "logs" / "capture")  # [tool.mlops] capture
    assert list(captured["mean_radius"]) == list(table["mean_radius"][:2])
