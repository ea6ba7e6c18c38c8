"""The reference profile: drift against a profile agrees with drift against the data itself."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlops_common.errors import InputError
from mlops_common.monitoring import DriftConfig, detect_drift
from mlops_common.monitoring.profile import Profile, build_profile


def frame(n: int, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": r.normal(40 + 10 * shift, 10, n),
            "income": r.lognormal(10 + shift, 0.5, n),
            "visits": r.poisson(3, n) + round(3 * shift),
            "plan": r.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]),
            "active": r.random(n) < 0.7,
        }
    ).assign(age=lambda f: f.age.where(r.random(n) > 0.02))  # 2% missing


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return frame(60_000, seed=1)


@pytest.mark.parametrize(("n", "shift"), [(400, 0.0), (400, 0.4), (20_000, 0.0), (20_000, 0.2)])
def test_drift_against_the_profile_matches_drift_against_the_data(reference, n, shift):
    current = frame(n, shift, seed=n + int(shift * 10))
    full = detect_drift(reference, current)
    profiled = detect_drift(build_profile(reference), current)
    assert profiled.verdict == full.verdict
    assert profiled.drifted_columns == full.drifted_columns
    assert profiled.reference_rows == full.reference_rows == 60_000
    for column in full.columns:
        other = profiled.column(column.name)
        assert (other.test, other.reference_count) == (column.test, column.reference_count)
        assert other.reference_missing_share == column.reference_missing_share
        assert other.psi == pytest.approx(column.psi, abs=0.01)
        if column.kind == "numeric":
            assert other.ks_statistic == pytest.approx(column.ks_statistic, abs=2e-3)
            assert other.wasserstein == pytest.approx(column.wasserstein, abs=3e-3)
        else:  # category counts are kept exactly
            assert other.jensenshannon == column.jensenshannon
        if column.p_value is not None and column.kind == "numeric":
            assert other.p_value == pytest.approx(column.p_value, rel=0.3, abs=0.02)


def test_profile_is_small_json_that_round_trips(reference, tmp_path):
    profile = build_profile(reference)
    path = profile.to_json(tmp_path / "reference_profile.json")
    assert path.stat().st_size < 100_000
    assert Profile.load(path) == Profile(profile.rows, profile.columns, source=str(path))
    age = profile.columns["age"]
    assert (age.kind, len(age.values), age.exact, age.missing) == (
        "numeric",
        1000,
        False,
        reference.age.isna().sum(),
    )
    assert profile.columns["plan"].categories == reference.plan.value_counts().to_dict()
    # a path ending in profile.json is read as a profile
    report = detect_drift(path, frame(500, seed=9))
    assert report.reference_source == str(path)


def test_small_reference_keeps_every_value_and_gives_scipy_exact_p_values():
    small = frame(300, seed=2)
    profile = build_profile(small)
    assert profile.columns["age"].exact
    current = frame(150, seed=3)
    config = DriftConfig(min_rows=10)
    full, profiled = (
        detect_drift(small, current, config=config),
        detect_drift(profile, current, config=config),
    )
    for name in ("age", "income", "visits"):
        assert profiled.column(name).p_value == full.column(name).p_value


def test_a_json_file_that_is_not_a_profile_is_an_input_error(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"rows": 1}))
    with pytest.raises(InputError, match="not a reference profile"):
        Profile.load(path)


def test_profile_logged_with_the_model_is_the_champion_baseline_of_mlops_drift(
    mlflow_store, tmp_path, unique_name
):
    from sklearn.linear_model import LogisticRegression
    from typer.testing import CliRunner

    from mlops_common import store
    from mlops_common.cli import app
    from mlops_common.registry import register_model
    from mlops_common.tracking import log_model, tracked_run

    train = frame(5_000, seed=4)
    features = train[["age", "income", "visits"]].fillna(40.0)
    model = LogisticRegression(max_iter=200).fit(features, train.active)
    config = mlflow_store.config(tmp_path, experiment=unique_name("profile"))
    with tracked_run("train", config=config) as run:
        log_model(model, input_example=features.head(5), reference=train)
    name = unique_name("churn")
    version = register_model(run.info.run_id, name, tracking_uri=mlflow_store.tracking_uri)
    store.client(mlflow_store.tracking_uri).set_registered_model_alias(name, "champion", version)

    from mlops_common.monitoring.profile import load_logged_profile

    uri = f"models:/{name}@champion"
    profile = load_logged_profile(uri, tracking_uri=mlflow_store.tracking_uri)
    assert profile.rows == 5_000 and set(profile.columns) == set(train.columns)
    assert profile.source == f"{uri} (version {version}, run {run.info.run_id})"

    window = tmp_path / "window.jsonl"
    frame(2_000, shift=0.5, seed=5).to_json(window, orient="records", lines=True)
    runner = CliRunner()
    args = ["drift", uri, str(window), "--tracking-uri", mlflow_store.tracking_uri, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "drift" and data["reference_source"] == profile.source
    assert "age" in data["drifted_columns"]

    # a version trained without a profile says what to do
    with tracked_run("train", config=config) as bare:
        log_model(model, input_example=features.head(5))
    other = register_model(bare.info.run_id, name, tracking_uri=mlflow_store.tracking_uri)
    with pytest.raises(InputError, match="has no reference profile"):
        load_logged_profile(f"models:/{name}/{other}", tracking_uri=mlflow_store.tracking_uri)
