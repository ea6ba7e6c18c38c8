"""The model service over real HTTP: real MLflow store, real uvicorn on 127.0.0.1, real httpx."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.processes import free_port, serve_in_thread, stop, wait_ready

BIN_DIR = Path(sys.executable).parent

CLASSIFIER = "churn-classifier"
REGRESSOR = "charges-regressor"
UNSIGNED = "unsigned-model"
PYFUNC = "doubling-pyfunc"
REORDERED = "reordered-regressor"
GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"
DVC_HASH = "d41d8cd98f00b204e9800998ecf8427e"

GOOD_RECORD = {"tenure": 12, "monthly charges": 70.5, "contract": "monthly", "is_senior": False}


@dataclass
class Store:
    tracking_uri: str
    root: Path


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A temp sqlite MLflow store with a classifier, a regressor and a model without signature,
    each registered with the alias ``champion``."""
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from mlops_common.store import mlflow_uris

    root = tmp_path_factory.mktemp("mlflow")
    tracking_uri = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    # mlflow_uris puts MLflow's process-wide URIs and their variables back afterwards, or
    # MLflow's default (sqlite:///mlflow.db in the cwd) would outrank every later test's config.
    with mlflow_uris(tracking_uri):
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        experiment_id = client.create_experiment(
            "serving-tests", artifact_location=(root / "mlartifacts").as_uri()
        )
        rng = np.random.default_rng(0)
        frame = pd.DataFrame(
            {
                "tenure": rng.integers(1, 72, 60).astype("int64"),
                "monthly charges": rng.uniform(20, 120, 60),
                "contract": rng.choice(["monthly", "yearly"], 60),
                "is_senior": rng.random(60) < 0.3,
            }
        )
        churned = (frame["tenure"] < 20).astype(int)
        classifier = Pipeline(
            [
                (
                    "encode",
                    ColumnTransformer(
                        [("contract", OneHotEncoder(handle_unknown="ignore"), ["contract"])],
                        remainder="passthrough",
                    ),
                ),
                ("model", LogisticRegression(max_iter=500)),
            ]
        ).fit(frame, churned)
        numeric = frame[["tenure", "monthly charges"]].astype("float64")
        regressor = LinearRegression().fit(numeric.to_numpy(), frame["monthly charges"] * 12)
        requirements = ["scikit-learn", "pandas", "numpy"]

        def log(name: str, model, signature, tags: dict[str, str]) -> None:
            with mlflow.start_run(experiment_id=experiment_id) as run:
                mlflow.set_tags(tags)
                info = mlflow.sklearn.log_model(
                    model, name="model", signature=signature, pip_requirements=requirements
                )
            version = mlflow.register_model(info.model_uri, name)
            client.set_registered_model_alias(name, "champion", version.version)
            assert run.info.run_id

        log(
            CLASSIFIER,
            classifier,
            infer_signature(frame, classifier.predict(frame)),
            {
                "mlops.git.commit": GIT_COMMIT,
                "mlops.git.dirty": "false",
                "mlops.dvc.data/raw.csv": DVC_HASH,
                "mlops.pkg.scikit-learn": "1.0",
            },
        )
        log(
            REGRESSOR,
            regressor,
            infer_signature(numeric, regressor.predict(numeric.to_numpy())),
            {"mlflow.source.git.commit": GIT_COMMIT},
        )
        log(UNSIGNED, regressor, None, {})
        # Fitted on a frame as (tenure, monthly charges), signature lists them the other way.
        named = LinearRegression().fit(numeric, frame["monthly charges"] * 12)
        swapped = numeric[["monthly charges", "tenure"]]
        log(REORDERED, named, infer_signature(swapped, named.predict(numeric)), {})

        class DoubleTenure(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input["tenure"] * 2

        with mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=DoubleTenure(),
                signature=infer_signature(frame[["tenure"]], frame["tenure"]),
                pip_requirements=requirements,
            )
        mlflow.register_model(info.model_uri, PYFUNC)
    return Store(tracking_uri=tracking_uri, root=root)


@pytest.fixture(scope="module")
def classifier_service(store: Store, tmp_path_factory: pytest.TempPathFactory):
    from mlops_common.serving import create_app

    log_path = tmp_path_factory.mktemp("logs") / "nested" / "predictions.jsonl"
    app = create_app(
        model_name=CLASSIFIER, prediction_log=log_path, tracking_uri=store.tracking_uri
    )
    with serve_in_thread(app) as url:
        yield url, log_path


@pytest.fixture(scope="module")
def client(classifier_service):
    import httpx

    url, _ = classifier_service
    with httpx.Client(base_url=url, timeout=30) as http:
        yield http


def test_predict_returns_one_prediction_per_record(client):
    records = [GOOD_RECORD, {**GOOD_RECORD, "tenure": 60, "contract": "yearly"}]
    response = client.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["predictions"]) == 2
    assert set(body["predictions"]) <= {0, 1}
    assert body["model_name"] == CLASSIFIER
    assert body["model_version"] == "1"


def test_predict_accepts_an_integer_for_a_double_column(client):
    response = client.post("/predict", json={"records": [{**GOOD_RECORD, "monthly charges": 70}]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({**GOOD_RECORD, "tenure": "twelve"}, "tenure", "valid integer"),
        ({**GOOD_RECORD, "tenure": 12.5}, "tenure", "valid integer"),
        ({**GOOD_RECORD, "monthly charges": "70.5"}, "monthly charges", "valid number"),
        ({**GOOD_RECORD, "contract": 3}, "contract", "valid string"),
        ({**GOOD_RECORD, "is_senior": "yes"}, "is_senior", "valid boolean"),
        ({**GOOD_RECORD, "tenure": None}, "tenure", "valid integer"),
        ({k: v for k, v in GOOD_RECORD.items() if k != "contract"}, "contract", "missing"),
        ({**GOOD_RECORD, "colour": "red"}, "colour", "unexpected field"),
    ],
    ids=[
        "str-for-int",
        "float-for-int",
        "str-for-double",
        "int-for-str",
        "str-for-bool",
        "null-for-int",
        "missing",
        "extra",
    ],
)
def test_bad_record_is_422_naming_record_index_and_field(client, record, field, words):
    response = client.post("/predict", json={"records": [GOOD_RECORD, record]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["record"] == 1
    assert body["errors"][0]["field"] == field
    assert "records[1]" in body["detail"]
    assert field in body["detail"]
    assert words in body["detail"]


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"records": []}, "at least 1"),
        ({}, "missing field 'records'"),
        ({"records": [GOOD_RECORD], "extra": 1}, "unexpected top-level field 'extra'"),
        ([GOOD_RECORD], "must be an object"),
        ({"records": [GOOD_RECORD] * 10_001}, "at most 10000"),
        ({"records": [1]}, "records[0]"),
        ({"records": [GOOD_RECORD], "instances": [GOOD_RECORD]}, "not both"),
    ],
    ids=[
        "empty",
        "no-records",
        "top-level-extra",
        "bare-list",
        "too-many",
        "not-an-object",
        "records-and-instances",
    ],
)
def test_malformed_body_is_422_with_a_message(client, payload, words):
    response = client.post("/predict", json=payload)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_invalid_json_is_422_not_500(client):
    response = client.post(
        "/predict", content=b"{records: nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_health_and_ready_answer_once_model_is_loaded(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == "1"


def test_metadata_reports_version_alias_run_lineage_and_signature(client, store):
    import mlflow

    meta = client.get("/metadata").json()
    assert meta["model_name"] == CLASSIFIER
    assert meta["model_version"] == "1"
    assert meta["alias"] == "champion"
    assert meta["flavor"] == "sklearn"
    assert meta["git_commit"] == GIT_COMMIT
    assert meta["data_version"] == {"data/raw.csv": DVC_HASH}
    assert meta["lineage"]["mlops.git.dirty"] == "false"
    assert "mlops.pkg.scikit-learn" not in meta["lineage"]
    registry = mlflow.MlflowClient(store.tracking_uri, registry_uri=store.tracking_uri)
    version = registry.get_model_version(CLASSIFIER, "1")
    assert meta["run_id"] == version.run_id
    names = [column["name"] for column in meta["signature"]["inputs"]]
    assert names == ["tenure", "monthly charges", "contract", "is_senior"]
    assert [column["type"] for column in meta["columns"]] == ["long", "double", "string", "boolean"]


def test_prediction_log_has_one_json_line_per_record_readable_by_pandas(client, classifier_service):
    import pandas as pd

    _, log_path = classifier_service
    before = len(pd.read_json(log_path, lines=True)) if log_path.exists() else 0
    records = [{**GOOD_RECORD, "tenure": tenure} for tenure in (3, 30, 70)]
    predictions = client.post("/predict", json={"records": records}).json()["predictions"]
    logged = pd.read_json(log_path, lines=True)
    assert len(logged) == before + 3
    tail = logged.tail(3)
    assert tail["tenure"].tolist() == [3, 30, 70]
    assert tail["prediction"].tolist() == predictions
    assert set(tail["model_version"].astype(str)) == {"1"}
    assert tail["timestamp"].notna().all()
    assert {"monthly charges", "contract", "is_senior"} <= set(logged.columns)


def test_rejected_request_is_not_logged(client, classifier_service):
    _, log_path = classifier_service
    client.post("/predict", json={"records": [GOOD_RECORD]})
    lines = log_path.read_text().count("\n")
    client.post("/predict", json={"records": [{**GOOD_RECORD, "tenure": "x"}]})
    assert log_path.read_text().count("\n") == lines


def test_large_batch_is_predicted_off_the_event_loop(client):
    records = [{**GOOD_RECORD, "tenure": i % 72} for i in range(500)]
    response = client.post("/predict", json={"records": records})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 500


def test_regressor_fitted_on_an_array_serves_float_predictions(store, tmp_path):
    import httpx

    from mlops_common.serving import create_app

    app = create_app(
        f"models:/{REGRESSOR}@champion",
        prediction_log=tmp_path / "p.jsonl",
        tracking_uri=store.tracking_uri,
    )
    with serve_in_thread(app) as url:
        record = {"tenure": 5.0, "monthly charges": 50.0}
        response = httpx.post(f"{url}/predict", json={"records": [record, record]})
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == pytest.approx([600.0, 600.0])
        meta = httpx.get(f"{url}/metadata").json()
        assert meta["git_commit"] == GIT_COMMIT  # from MLflow's own mlflow.source.git.commit
        assert meta["data_version"] == {}
        bad = httpx.post(f"{url}/predict", json={"records": [{"tenure": 5.0}]})
        assert bad.status_code == 422
        assert "monthly charges" in bad.json()["detail"]


def test_numeric_model_fitted_on_a_frame_gets_columns_in_fitted_order(store, tmp_path):
    import httpx

    from mlops_common.serving import create_app

    app = create_app(
        model_name=REORDERED, prediction_log=tmp_path / "p.jsonl", tracking_uri=store.tracking_uri
    )
    with serve_in_thread(app) as url:
        record = {"monthly charges": 50.0, "tenure": 5.0}
        response = httpx.post(f"{url}/predict", json={"records": [record]})
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == pytest.approx([600.0])
        names = [column["name"] for column in httpx.get(f"{url}/metadata").json()["columns"]]
        assert names == ["monthly charges", "tenure"]


def test_non_sklearn_model_is_served_through_pyfunc_by_version_uri(store, tmp_path):
    import httpx

    from mlops_common.serving import create_app

    app = create_app(
        f"models:/{PYFUNC}/1", prediction_log=tmp_path / "p.jsonl", tracking_uri=store.tracking_uri
    )
    with serve_in_thread(app) as url:
        response = httpx.post(f"{url}/predict", json={"records": [{"tenure": 12}, {"tenure": 1}]})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "predictions": [24, 2],
            "model_name": PYFUNC,
            "model_version": "1",
        }
        meta = httpx.get(f"{url}/metadata").json()
        assert (meta["flavor"], meta["alias"]) == ("pyfunc", None)
        bad = httpx.post(f"{url}/predict", json={"records": [{"tenure": 1.5}]})
        assert bad.status_code == 422
        assert "records[0].tenure" in bad.json()["detail"]


def test_model_without_signature_refuses_to_start(store, tmp_path):
    from mlops_common.errors import ConfigError
    from mlops_common.serving import serve

    with pytest.raises(ConfigError, match="no signature"):
        serve(
            model_name=UNSIGNED,
            tracking_uri=store.tracking_uri,
            prediction_log=tmp_path / "p.jsonl",
            port=0,
        )


def test_unknown_alias_is_a_registry_error(store):
    from mlops_common.errors import RegistryError
    from mlops_common.serving import load_served_model

    with pytest.raises(RegistryError, match="nobody"):
        load_served_model(model_name=CLASSIFIER, alias="nobody", tracking_uri=store.tracking_uri)


def test_mlops_serve_help_lists_options():
    result = subprocess.run(
        [str(BIN_DIR / "mlops"), "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for option in ("--model", "--alias", "--model-uri", "--port", "--prediction-log"):
        assert option in result.stdout


@contextlib.contextmanager
def _mlops_serve(args: list[str], *, port: int, env: dict[str, str], cwd: Path) -> Iterator[str]:
    """``mlops serve ARGS`` as a real process listening on ``port``: its URL once it is ready."""
    process = subprocess.Popen(
        [str(BIN_DIR / "mlops"), "serve", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, lambda: process.poll() is None)
        yield url
    finally:
        stop(process)


def test_mlops_serve_command_serves_the_champion(store, tmp_path):
    import httpx

    port = free_port()
    log_path = tmp_path / "served.jsonl"
    args = ["--model", REGRESSOR, "--port", str(port), "--prediction-log", str(log_path)]
    env = {**os.environ, "MLFLOW_TRACKING_URI": store.tracking_uri}
    with _mlops_serve(args, port=port, env=env, cwd=tmp_path) as url:
        record = {"tenure": 1.0, "monthly charges": 10.0}
        response = httpx.post(f"{url}/predict", json={"records": [record]}, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["model_name"] == REGRESSOR
        assert log_path.read_text().count("\n") == 1


# The clouds' serving contracts: SageMaker (/ping, /invocations), Vertex AI (instances, AIP_*).


def test_ping_answers_like_ready(client):
    ping = client.get("/ping")
    assert ping.status_code == 200
    assert ping.json() == client.get("/ready").json()


@pytest.mark.parametrize("key", ["records", "instances"])
def test_invocations_predicts_and_logs_like_predict(client, classifier_service, key):
    _, log_path = classifier_service
    records = [GOOD_RECORD, {**GOOD_RECORD, "tenure": 60, "contract": "yearly"}]
    expected = client.post("/predict", json={"records": records}).json()
    lines = log_path.read_text().count("\n")
    response = client.post("/invocations", json={key: records})
    assert response.status_code == 200, response.text
    assert response.json() == expected
    assert log_path.read_text().count("\n") == lines + 2


def test_bad_instance_to_invocations_is_422_naming_the_field(client):
    instances = [GOOD_RECORD, {**GOOD_RECORD, "tenure": "twelve"}]
    response = client.post("/invocations", json={"instances": instances})
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["errors"][0]["record"], body["errors"][0]["field"]) == (1, "tenure")
    assert "instances[1].tenure" in body["detail"]


def test_vertex_routes_from_aip_environment_serve_health_and_instances(
    store, tmp_path, monkeypatch
):
    import httpx

    from mlops_common.serving import create_app

    monkeypatch.setenv("AIP_HEALTH_ROUTE", "/v1/models/churn:health")
    monkeypatch.setenv("AIP_PREDICT_ROUTE", "/v1/models/churn:predict")
    app = create_app(
        f"models:/{REGRESSOR}@champion",
        prediction_log=tmp_path / "p.jsonl",
        tracking_uri=store.tracking_uri,
    )
    with serve_in_thread(app) as url:
        health = httpx.get(f"{url}/v1/models/churn:health")
        assert health.status_code == 200
        assert health.json()["status"] == "ready"
        record = {"tenure": 5.0, "monthly charges": 50.0}
        response = httpx.post(f"{url}/v1/models/churn:predict", json={"instances": [record]})
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == pytest.approx([600.0])
        bad = httpx.post(f"{url}/v1/models/churn:predict", json={"instances": [{"tenure": 5.0}]})
        assert bad.status_code == 422
        assert "instances[0]: missing field 'monthly charges'" in bad.json()["detail"]
        assert httpx.get(f"{url}/v1/models/other:health").status_code == 404


def test_aip_route_without_leading_slash_is_a_config_error(monkeypatch, tmp_path):
    from mlops_common.errors import ConfigError
    from mlops_common.serving import create_app

    monkeypatch.setenv("AIP_PREDICT_ROUTE", "predict")
    with pytest.raises(ConfigError, match="AIP_PREDICT_ROUTE"):
        create_app("models:/any@champion", prediction_log=tmp_path / "p.jsonl")


def test_mlops_serve_started_like_sagemaker_takes_model_host_and_port_from_env(store, tmp_path):
    """SageMaker runs `<image> serve` with the aws adapter's environment and a local model."""
    import httpx
    import mlflow

    # What SageMaker copies to /opt/ml/model: the registered version's artifact folder.
    registry = mlflow.MlflowClient(store.tracking_uri, registry_uri=store.tracking_uri)
    model_dir = mlflow.artifacts.download_artifacts(
        artifact_uri=registry.get_model_version_download_uri(REGRESSOR, "1"),
        dst_path=str(tmp_path / "opt-ml-model"),
    )
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "MLOPS_", "AIP_"))
    }
    env.update(MLOPS_MODEL_URI=model_dir, MLOPS_HOST="127.0.0.1", MLOPS_PORT=str(port))
    with _mlops_serve([], port=port, env=env, cwd=tmp_path) as url:
        assert httpx.get(f"{url}/ping").status_code == 200
        record = {"tenure": 5.0, "monthly charges": 50.0}
        response = httpx.post(f"{url}/invocations", json={"instances": [record]}, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == pytest.approx([600.0])
        assert (tmp_path / "logs" / "predictions.jsonl").read_text().count("\n") == 1


def test_concurrent_requests_each_get_their_own_predictions_and_a_bad_one_only_its_422(
    store, tmp_path
):
    """Requests in flight together may share a model call (serving/batching.py): each still
    gets the predictions of its own records, and NaN the model refuses fails only its request."""
    import asyncio

    import httpx

    from mlops_common.serving import create_app

    log_path = tmp_path / "p.jsonl"
    app = create_app(
        f"models:/{REGRESSOR}@champion", prediction_log=log_path, tracking_uri=store.tracking_uri
    )
    bodies = [
        {
            "records": [
                {"tenure": 5.0, "monthly charges": float(10 * i + j)} for j in range(i % 3 + 1)
            ]
        }
        for i in range(24)
    ]
    bodies[7] = {"records": [{"tenure": 5.0, "monthly charges": float("nan")}]}
    json_body = {"Content-Type": "application/json"}  # json.dumps spells NaN; httpx refuses it

    async def send_together(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            # A 900-record request first keeps the loop busy while the others arrive.
            big = {"records": [{"tenure": 1.0, "monthly charges": 1.0}] * 900}
            posts = [http.post("/predict", json=big)]
            posts += [
                http.post("/predict", content=json.dumps(body), headers=json_body)
                for body in bodies
            ]
            return await asyncio.gather(*posts)

    with serve_in_thread(app) as url:
        first, *responses = asyncio.run(send_together(url))
    assert first.status_code == 200 and first.json()["predictions"] == pytest.approx([12.0] * 900)
    for index, (body, response) in enumerate(zip(bodies, responses, strict=True)):
        if index == 7:
            assert response.status_code == 422
            assert "the model refused these records" in response.json()["detail"]
            continue
        assert response.status_code == 200, response.text
        expected = [12 * record["monthly charges"] for record in body["records"]]
        assert response.json()["predictions"] == pytest.approx(expected)
    assert app.state.batcher is None  # the lifespan ended; the served model is released
    logged = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert len(logged) == 900 + sum(len(body["records"]) for body in bodies) - 1


def test_a_pyfunc_model_is_not_micro_batched(store, tmp_path):
    import httpx

    from mlops_common.serving import create_app

    app = create_app(
        f"models:/{PYFUNC}/1", prediction_log=tmp_path / "p.jsonl", tracking_uri=store.tracking_uri
    )
    with serve_in_thread(app) as url:
        assert httpx.post(f"{url}/predict", json={"records": [{"tenure": 3}]}).json()[
            "predictions"
        ] == [6]
        assert app.state.served.flavor == "pyfunc" and app.state.batcher is None
