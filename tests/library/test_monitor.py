"""`mlops monitor`: a real champion in a sqlite MLflow store, served by the real app with capture
to local disk, its captured predictions joined with labels by request id and scored against
the champion's recorded test metrics. (Labels and capture on moto S3: tests/cloud.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app as cli
from mlops_common.errors import ConfigError, InputError
from mlops_common.monitoring.performance import (
    MonitorConfig,
    classification_metrics,
    compare_metrics,
    regression_metrics,
)
from tools.processes import serve_in_thread

NAME = "monitor-model"
SINGLE, BATCHES, BATCH = 150, 6, 5  # requests of 1 record, requests of BATCH records


def _rows(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.uniform(0, 60, n), "charges": rng.uniform(20, 120, n)})


def _truth(frame: pd.DataFrame) -> pd.Series:
    return (frame["tenure"] < 20).astype(int)  # the rule tiny_classifier learnt


@pytest.fixture(scope="module")
def served(mlflow_store, tiny_classifier, tmp_path_factory):
    """The champion (gated on its metrics over this very traffic), and the capture of 150
    single-record and 6 five-record requests it served, each with its own X-Request-ID."""
    import httpx
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    from mlops_common.registry import promote, register_model
    from mlops_common.serving import CaptureWriter, create_app

    model, features, _ = tiny_classifier
    root = tmp_path_factory.mktemp("monitor")
    info = mlflow_store.logged_model(root, "monitor", model, features)
    uri = mlflow_store.tracking_uri
    version = register_model(info.run_id, NAME, model_uri=info.model_uri, tracking_uri=uri)
    traffic = _rows(11, SINGLE + BATCHES * BATCH)
    truth = _truth(traffic)
    predicted = model.predict(traffic)
    recorded = {
        "accuracy": accuracy_score(truth, predicted),
        "f1": f1_score(truth, predicted),
        "roc_auc": roc_auc_score(truth, model.predict_proba(traffic)[:, 1]),
    }
    gate = {"metrics": {"accuracy": {"min": 0.5, "direction": "higher"}}}
    decision = promote(NAME, version, recorded, gate, validation_passed=True, tracking_uri=uri)
    assert decision.promoted

    capture = root / "capture"
    writer = CaptureWriter(capture, replica="test", max_seconds=3600)
    service = create_app(f"models:/{NAME}@champion", tracking_uri=uri, capture=writer)
    labels = []
    with serve_in_thread(service) as url, httpx.Client(base_url=url) as http:
        records = traffic.to_dict(orient="records")
        for index in range(SINGLE):
            request_id = f"single-{index}"
            answer = http.post(
                "/predict", json={"records": [records[index]]}, headers={"X-Request-ID": request_id}
            )
            assert answer.status_code == 200
            labels.append({"request_id": request_id, "row": 0, "target": int(truth[index])})
        for batch in range(BATCHES):
            start = SINGLE + batch * BATCH
            request_id = f"batch-{batch}"
            body = {"records": records[start : start + BATCH]}
            answer = http.post("/predict", json=body, headers={"X-Request-ID": request_id})
            assert answer.status_code == 200
            labels += [
                {"request_id": request_id, "row": row, "target": int(truth[start + row])}
                for row in range(BATCH)
            ]
    return {
        "uri": f"models:/{NAME}@champion",
        "version": str(version),
        "capture": capture,
        "labels": pd.DataFrame(labels),
        "recorded": recorded,
        "tracking_uri": uri,
    }


def _monitor(served, labels_path, *extra: str):
    args = ["monitor", served["uri"], str(served["capture"]), "--labels", str(labels_path)]
    args += ["--tracking-uri", served["tracking_uri"], "--json", *extra]
    result = CliRunner().invoke(cli, args)
    return result, (json.loads(result.stdout) if result.stdout.startswith("{") else None)


def test_labels_matching_the_champion_are_no_degradation(served, tmp_path):
    labels = tmp_path / "labels.csv"
    served["labels"].to_csv(labels, index=False)
    result, data = _monitor(served, labels)
    assert result.exit_code == 0, result.output
    assert data["verdict"] == "no degradation" and data["task"] == "classification"
    assert data["model_version"] == served["version"]
    assert data["labelled_rows"] == data["captured_rows"] == SINGLE + BATCHES * BATCH
    # Same traffic, same labels: the window's metrics are the champion's, computed apart (sklearn)
    for name in ("accuracy", "f1"):
        check = data["metrics"][name]
        assert check["current"] == pytest.approx(served["recorded"][name], abs=1e-12)
        assert check["degraded"] is False
    # the service returns classes, not probabilities: roc_auc is named, not scored
    assert data["metrics"]["roc_auc"]["current"] is None
    assert "probability" in data["metrics"]["roc_auc"]["note"]
    assert [day["rows"] for day in data["daily"]] == [SINGLE + BATCHES * BATCH]


def test_worse_labels_are_a_degradation_with_exit_1_and_a_report(served, tmp_path):
    labels = served["labels"].copy()
    flipped = labels.index[::4]  # a quarter of the labels disagree with the model now
    labels.loc[flipped, "target"] = 1 - labels.loc[flipped, "target"]
    path = tmp_path / "labels.parquet"
    labels.to_parquet(path)
    html = tmp_path / "performance.html"
    result, data = _monitor(served, path, "--output", str(tmp_path / "monitor.json"))
    assert result.exit_code == 1, result.output
    assert data["verdict"] == "degradation" and "accuracy" in data["degraded_metrics"]
    drop = data["metrics"]["accuracy"]["drop"]
    assert 0.15 < drop < 0.35
    assert json.loads((tmp_path / "monitor.json").read_text())["verdict"] == "degradation"

    summary = CliRunner().invoke(
        cli,
        [
            "monitor",
            served["uri"],
            str(served["capture"]),
            "--labels",
            str(path),
            "--tracking-uri",
            served["tracking_uri"],
            "--output",
            str(html),
        ],
    )
    assert summary.exit_code == 1
    lines = summary.stdout.splitlines()
    assert "degradation" in lines[0] and lines[1].strip().startswith("DEGRADED accuracy")
    page = html.read_text()
    assert "<svg" in page and "accuracy per day" in page and "<script" not in page


def test_a_per_metric_tolerance_from_params_absorbs_the_drop(served, tmp_path):
    labels = served["labels"].copy()
    flipped = labels.index[::4]
    labels.loc[flipped, "target"] = 1 - labels.loc[flipped, "target"]
    path = tmp_path / "labels.jsonl"
    labels.to_json(path, orient="records", lines=True)
    params = tmp_path / "params.yaml"
    params.write_text(
        "monitor:\n"
        f"  labels: {path}\n"
        "  tolerance: {default: 0.02, accuracy: 0.5, f1: 0.6}\n"
        "  min_rows: 100\n"
    )
    args = ["monitor", served["uri"], str(served["capture"]), "--params", str(params)]
    args += ["--tracking-uri", served["tracking_uri"], "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["labels_source"] == str(path) and data["verdict"] == "no degradation"
    assert data["metrics"]["accuracy"]["tolerance"] == 0.5
    # a flag sets the default tolerance and keeps the file's per-metric ones
    result = CliRunner().invoke(cli, [*args, "--tolerance", "0.0"])
    assert json.loads(result.stdout)["config"]["tolerance"] == {
        "default": 0.0,
        "accuracy": 0.5,
        "f1": 0.6,
    }


def test_too_few_labels_are_insufficient_data_never_a_degradation(served, tmp_path):
    labels = served["labels"].head(40).copy()
    labels["target"] = 1 - labels["target"]  # every one of them wrong
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    result, data = _monitor(served, path)
    assert result.exit_code == 0, result.output
    assert data["verdict"] == "insufficient data" and data["degradation_detected"] is False
    assert data["labelled_rows"] == 40


def test_since_keeps_the_recent_window_only(served, tmp_path):
    path = tmp_path / "labels.csv"
    served["labels"].to_csv(path, index=False)
    result, data = _monitor(served, path, "--since", "2h")
    assert result.exit_code == 0, result.output
    assert data["window_source"] == f"{served['capture']} (last 2h)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["target"]), "missing column(s) ['target']"),
        (lambda f: f.drop(columns=["row"]), "has several labels; add a `row` column"),
        (
            lambda f: (
                f[f.request_id.str.startswith("batch")]
                .drop_duplicates("request_id")
                .drop(columns=["row"])
            ),
            "sent several records; add a `row` column",
        ),
        (lambda f: pd.concat([f, f.head(1)]), "two labels for request 'single-0' row 0"),
    ],
)
def test_bad_labels_are_one_line_and_exit_2(served, tmp_path, change, message):
    path = tmp_path / "labels.csv"
    change(served["labels"]).to_csv(path, index=False)
    result, _ = _monitor(served, path)
    error = result.exception
    assert isinstance(error, InputError) and error.exit_code == 2, result.output
    assert message in str(error) and "\n" not in str(error)


def test_other_bad_input_is_exit_2(served, tmp_path):
    path = tmp_path / "labels.csv"
    served["labels"].to_csv(path, index=False)
    runner = CliRunner()
    base = ["--tracking-uri", served["tracking_uri"]]
    cases = {
        "expected models:/NAME@ALIAS": ["monitor", "churn", str(served["capture"]), *base],
        "no labels: pass --labels": ["monitor", served["uri"], str(served["capture"]), *base],
        "no captured records": [
            "monitor",
            served["uri"],
            str(tmp_path / "empty"),
            "--labels",
            str(path),
            *base,
        ],
        "labels " + str(tmp_path / "nope.csv"): [
            "monitor",
            served["uri"],
            str(served["capture"]),
            "--labels",
            str(tmp_path / "nope.csv"),
            *base,
        ],
    }
    (tmp_path / "empty").mkdir()
    for message, args in cases.items():
        error = runner.invoke(cli, args).exception
        assert isinstance(error, InputError) and error.exit_code == 2, (message, error)
        assert message in str(error)
    # Through the real script: one line on stderr, exit 2
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mlops"), *cases["no labels: pass --labels"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: no labels") and len(done.stderr.splitlines()) == 1


def test_monitor_config_reads_the_params_contract_and_refuses_unknown_keys():
    config = MonitorConfig.from_dict({"labels": "", "tolerance": 0.02, "min_rows": 100})
    assert (config.labels, config.tolerance_for("f1"), config.min_rows) == ("", 0.02, 100)
    assert MonitorConfig.from_dict({"tolerance": {"rmse": 5}}).tolerance_for("rmse") == 5.0
    assert MonitorConfig.from_dict({"labels": None}).labels == ""
    for bad in ({"tolerence": 0.1}, {"tolerance": -1}, {"min_rows": 0}, {"tolerance": {"r2": "x"}}):
        with pytest.raises(ConfigError, match="monitor params"):
            MonitorConfig.from_dict(bad)


def test_metrics_agree_with_sklearn():
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        mean_absolute_error,
        mean_squared_error,
        r2_score,
        roc_auc_score,
    )

    rng = np.random.default_rng(5)
    actual = rng.integers(0, 2, 500)
    predicted = np.where(rng.random(500) < 0.8, actual, 1 - actual)
    scores = np.round(rng.random(500) * 0.5 + actual * 0.3, 2)  # ties on purpose
    ours = classification_metrics(actual.tolist(), predicted.tolist(), scores.tolist())
    assert ours["accuracy"] == pytest.approx(accuracy_score(actual, predicted), abs=1e-12)
    assert ours["f1"] == pytest.approx(f1_score(actual, predicted), abs=1e-12)
    assert ours["roc_auc"] == pytest.approx(roc_auc_score(actual, scores), abs=1e-12)
    labels = rng.choice(["a", "b", "c"], 300)
    guesses = np.where(rng.random(300) < 0.6, labels, rng.choice(["a", "b", "c"], 300))
    multi = classification_metrics(labels.tolist(), guesses.tolist())
    assert multi["f1"] == pytest.approx(f1_score(labels, guesses, average="macro"), abs=1e-12)
    assert multi["roc_auc"] is None

    y = rng.normal(100, 20, 400)
    p = y + rng.normal(0, 5, 400)
    reg = regression_metrics(y.tolist(), p.tolist())
    assert reg["rmse"] == pytest.approx(mean_squared_error(y, p) ** 0.5, rel=1e-12)
    assert reg["mae"] == pytest.approx(mean_absolute_error(y, p), rel=1e-12)
    assert reg["r2"] == pytest.approx(r2_score(y, p), rel=1e-12)


def test_lower_is_better_metrics_degrade_when_they_rise():
    config = MonitorConfig.from_dict({"tolerance": {"default": 0.02, "rmse": 5.0}})
    checks = compare_metrics(
        {"rmse": 56.0, "mae": 40.01, "r2": 0.45}, {"rmse": 50.0, "mae": 40.0, "r2": 0.46}, config
    )
    assert [(c.name, c.degraded) for c in checks] == [
        ("rmse", True),
        ("mae", False),
        ("r2", False),
    ]
    assert checks[0].drop == pytest.approx(6.0) and checks[0].direction == "lower"


def test_a_champion_without_test_metrics_is_bad_input(mlflow_store, tiny_classifier, tmp_path):
    from mlops_common.monitoring.performance import monitor_performance
    from mlops_common.registry import register_model

    model, features, _ = tiny_classifier
    info = mlflow_store.logged_model(tmp_path, "monitor-bare", model, features)
    uri = mlflow_store.tracking_uri
    version = register_model(
        info.run_id, "monitor-bare", model_uri=info.model_uri, tracking_uri=uri
    )
    with pytest.raises(InputError, match="recorded none of"):
        monitor_performance(
            f"models:/monitor-bare/{version}", str(tmp_path), "labels.csv", tracking_uri=uri
        )
