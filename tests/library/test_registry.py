"""mlops_common.registry on a real MLflow sqlite store (and once on a real `mlflow server`)."""

from __future__ import annotations

import json

import pytest

from mlops_common.config import ProjectConfig
from mlops_common.errors import InputError, RegistryError
from mlops_common.gate import GateConfig, GateDecision
from mlops_common.registry import (
    CHALLENGER,
    CHAMPION,
    champion_version,
    promote,
    register_model,
    rollback,
    validation_passed,
    validation_status,
)
from mlops_common.store import mlflow_uris
from mlops_common.tracking import log_model, tracked_run

ACCURACY_GATE = GateConfig.from_dict(
    {"metrics": {"accuracy": {"min": 0.8, "direction": "higher", "margin": 0.0}}}
)


@pytest.fixture(autouse=True)
def _no_ambient_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GITLAB_USER_LOGIN", raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "release-bot")


@pytest.fixture(scope="module")
def logged_run(mlflow_store, tiny_classifier, tmp_path_factory) -> dict[str, str]:
    """One training run (accuracy 0.9, validation passed) with a logged model, for registering
    as many versions as the tests need."""
    import mlflow

    model, features, _ = tiny_classifier
    project = tmp_path_factory.mktemp("registry-project")
    config = mlflow_store.config(project, experiment="registry-tests")
    report = project / "validation.json"
    report.write_text(json.dumps({"success": True, "suite_name": "customers"}))
    with tracked_run("train", validation=report, config=config) as run:
        mlflow.log_metric("accuracy", 0.9)
        info = log_model(model, input_example=features.head(5))
    return {"run_id": run.info.run_id, "model_uri": info.model_uri}


@pytest.fixture
def model_name(unique_name) -> str:
    return unique_name("churn")


def _register(logged_run, mlflow_store, name: str, count: int = 1) -> list[str]:
    return [
        register_model(logged_run["run_id"], name, tracking_uri=mlflow_store.tracking_uri)
        for _ in range(count)
    ]


def _client(mlflow_store):
    from mlflow import MlflowClient

    return MlflowClient(
        tracking_uri=mlflow_store.tracking_uri, registry_uri=mlflow_store.tracking_uri
    )


def _alias(mlflow_store, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(_client(mlflow_store).get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def _tags(mlflow_store, name: str, version: str) -> dict[str, str]:
    return _client(mlflow_store).get_model_version(name, version).tags


def _promote_on_accuracy(
    name: str, version: str, accuracy: float, uri: str, *, validated: bool = True
) -> GateDecision:
    """``promote`` ``version`` through ``ACCURACY_GATE`` with ``accuracy`` as its metric."""
    return promote(
        name,
        version,
        {"accuracy": accuracy},
        ACCURACY_GATE,
        validation_passed=validated,
        tracking_uri=uri,
    )


# ------------------------------------------------------------------------- register and promote


def test_register_model_returns_increasing_versions(logged_run, mlflow_store, model_name):
    assert _register(logged_run, mlflow_store, model_name, count=2) == ["1", "2"]
    by_uri = register_model(
        logged_run["run_id"],
        model_name,
        model_uri=logged_run["model_uri"],
        tracking_uri=mlflow_store.tracking_uri,
    )
    assert by_uri == "3"
    version = _client(mlflow_store).get_model_version(model_name, "3")
    assert version.run_id == logged_run["run_id"]


def test_register_model_of_unknown_run_or_artifact_is_a_registry_error(
    logged_run, mlflow_store, model_name
):
    with pytest.raises(RegistryError, match="run 0123 not found"):
        register_model("0123", model_name, tracking_uri=mlflow_store.tracking_uri)
    with pytest.raises(RegistryError, match="logged no model named 'other'"):
        register_model(
            logged_run["run_id"], model_name, "other", tracking_uri=mlflow_store.tracking_uri
        )


def test_first_passing_version_becomes_champion_with_audit_tags(
    logged_run, mlflow_store, model_name
):
    (version,) = _register(logged_run, mlflow_store, model_name)
    decision = _promote_on_accuracy(model_name, version, 0.9, mlflow_store.tracking_uri)
    assert decision.promoted and decision.champion_version is None
    assert _alias(mlflow_store, model_name, CHAMPION) == version
    assert _alias(mlflow_store, model_name, CHALLENGER) == version
    tags = _tags(mlflow_store, model_name, version)
    assert tags["mlops.gate.decision"] == "promoted"
    assert json.loads(tags["mlops.gate.reasons"]) == decision.reasons
    assert tags["mlops.gate.by"] == "release-bot"
    assert tags["mlops.gate.at"].endswith("+00:00")
    assert json.loads(tags["mlops.gate.candidate_metrics"]) == {"accuracy": 0.9}
    assert json.loads(tags["mlops.gate.champion_metrics"]) is None
    assert json.loads(tags["mlops.gate.config"]) == ACCURACY_GATE.to_dict()
    assert tags["mlops.gate.previous_champion"] == ""
    assert tags["mlops.gate.validation_passed"] == "true"
    assert champion_version(model_name, tracking_uri=mlflow_store.tracking_uri) == version
    assert "promoted to champion" in decision.summary()


def test_worse_candidate_stays_challenger_and_better_one_takes_over(
    logged_run, mlflow_store, model_name
):
    first, second, third = _register(logged_run, mlflow_store, model_name, count=3)
    uri = mlflow_store.tracking_uri
    _promote_on_accuracy(model_name, first, 0.9, uri)

    worse = _promote_on_accuracy(model_name, second, 0.88, uri)
    assert not worse.promoted
    assert worse.reasons == [
        "accuracy 0.88 falls behind champion 0.9 (higher is better, may not fall behind)"
    ]
    assert _alias(mlflow_store, model_name, CHAMPION) == first
    assert _alias(mlflow_store, model_name, CHALLENGER) == second
    rejected = _tags(mlflow_store, model_name, second)
    assert rejected["mlops.gate.decision"] == "refused"
    assert json.loads(rejected["mlops.gate.champion_metrics"]) == {"accuracy": 0.9}
    assert "NOT promoted" in worse.summary()

    better = _promote_on_accuracy(model_name, third, 0.95, uri)
    assert better.promoted and better.champion_version == first
    assert _alias(mlflow_store, model_name, CHAMPION) == third
    assert _tags(mlflow_store, model_name, third)["mlops.gate.previous_champion"] == first


def test_validation_failure_never_promotes_even_a_better_model(
    logged_run, mlflow_store, model_name
):
    first, second = _register(logged_run, mlflow_store, model_name, count=2)
    uri = mlflow_store.tracking_uri
    _promote_on_accuracy(model_name, first, 0.85, uri)
    decision = _promote_on_accuracy(model_name, second, 0.99, uri, validated=False)
    assert not decision.promoted
    assert _alias(mlflow_store, model_name, CHAMPION) == first
    assert _alias(mlflow_store, model_name, CHALLENGER) == second
    assert _tags(mlflow_store, model_name, second)["mlops.gate.validation_passed"] == "false"


def test_champion_metrics_come_from_its_run_when_it_has_no_gate_tags(
    logged_run, mlflow_store, model_name
):
    first, second = _register(logged_run, mlflow_store, model_name, count=2)
    # A champion set by hand (no audit tags): its run logged accuracy 0.9.
    _client(mlflow_store).set_registered_model_alias(model_name, CHAMPION, first)
    decision = _promote_on_accuracy(model_name, second, 0.85, mlflow_store.tracking_uri)
    assert not decision.promoted
    assert decision.champion_metrics["accuracy"] == 0.9


def test_champion_scorer_regates_against_the_champion_scored_on_the_new_holdout(
    logged_run, mlflow_store, tiny_classifier, model_name
):
    """Recorded at 0.9 on its own data, the champion is rescored on a moved holdout."""
    import mlflow.sklearn

    first, second = _register(logged_run, mlflow_store, model_name, count=2)
    uri = mlflow_store.tracking_uri
    _promote_on_accuracy(model_name, first, 0.9, uri)
    _, features, target = tiny_classifier
    moved = features.assign(tenure=features["tenure"] + 40)  # the world moved: all look loyal
    scored = []

    def rescore(model_uri: str) -> dict[str, float]:
        scored.append(model_uri)
        with mlflow_uris(uri):
            model = mlflow.sklearn.load_model(model_uri)
        return {"accuracy": float((model.predict(moved) == target).mean())}

    decision = promote(
        model_name,
        second,
        {"accuracy": 0.85},
        ACCURACY_GATE,
        validation_passed=True,
        tracking_uri=uri,
        champion_scorer=rescore,
    )
    assert scored == [f"models:/{model_name}/{first}"]
    assert decision.champion_metrics["accuracy"] < 0.85 < 0.9
    assert decision.promoted and _alias(mlflow_store, model_name, CHAMPION) == second
    recorded = json.loads(_tags(mlflow_store, model_name, second)["mlops.gate.champion_metrics"])
    assert recorded == decision.champion_metrics  # the audit trail keeps what was compared


def test_promote_without_metrics_uses_the_candidate_run_metrics(
    logged_run, mlflow_store, model_name
):
    (version,) = _register(logged_run, mlflow_store, model_name)
    decision = promote(
        model_name,
        version,
        None,
        {"metrics": {"accuracy": {"min": 0.95}}},
        validation_passed=True,
        tracking_uri=mlflow_store.tracking_uri,
    )
    assert decision.candidate_metrics["accuracy"] == 0.9
    assert decision.reasons == ["accuracy 0.9 is below min 0.95"]
    assert validation_status(model_name, version, tracking_uri=mlflow_store.tracking_uri)


def test_validation_passed_reads_the_report_else_the_run_tag_and_passes_when_none_recorded(
    logged_run, mlflow_store, tiny_classifier, tmp_path, model_name
):
    uri = mlflow_store.tracking_uri
    (validated,) = _register(logged_run, mlflow_store, model_name)
    assert validation_passed(model_name, validated, tracking_uri=uri) is True
    model, features, _ = tiny_classifier
    config = mlflow_store.config(tmp_path, experiment="registry-unvalidated")
    versions = {}
    for label, validation in (("none", None), ("failed", {"success": False})):
        with tracked_run("train", validation=validation, config=config, params_file=None) as run:
            info = log_model(model, input_example=features.head(5))
        versions[label] = register_model(
            run.info.run_id, model_name, model_uri=info.model_uri, tracking_uri=uri
        )
    assert validation_status(model_name, versions["none"], tracking_uri=uri) is None
    assert validation_passed(model_name, versions["none"], tracking_uri=uri) is True
    assert validation_passed(model_name, versions["failed"], tracking_uri=uri) is False
    report = tmp_path / "validation.json"
    report.write_text(json.dumps({"success": "yes"}))  # only a JSON true counts
    assert validation_passed(model_name, validated, report_path=report) is False
    report.write_text(json.dumps({"success": True}))
    assert validation_passed(model_name, versions["failed"], report_path=report) is True
    with pytest.raises(InputError, match="file not found"):
        validation_passed(model_name, validated, report_path=tmp_path / "missing.json")


def test_promote_unknown_model_or_version_is_a_registry_error(logged_run, mlflow_store, model_name):
    uri = mlflow_store.tracking_uri
    with pytest.raises(RegistryError, match="not found"):
        promote(model_name, "1", {}, ACCURACY_GATE, validation_passed=True, tracking_uri=uri)
    _register(logged_run, mlflow_store, model_name)
    with pytest.raises(RegistryError, match="has no version 9"):
        promote(model_name, "9", {}, ACCURACY_GATE, validation_passed=True, tracking_uri=uri)


# -------------------------------------------------------------------------------- rollback


def test_rollback_walks_back_through_previous_champions(logged_run, mlflow_store, model_name):
    uri = mlflow_store.tracking_uri
    versions = _register(logged_run, mlflow_store, model_name, count=3)
    for version, accuracy in zip(versions, (0.85, 0.9, 0.95), strict=True):
        _promote_on_accuracy(model_name, version, accuracy, uri)

    result = rollback(model_name, tracking_uri=uri)
    assert (result.from_version, result.to_version) == ("3", "2")
    assert _alias(mlflow_store, model_name, CHAMPION) == "2"
    record = json.loads(_tags(mlflow_store, model_name, "2")["mlops.rollback"])
    assert record["from_version"] == "3" and record["by"] == "release-bot"
    assert json.loads(_tags(mlflow_store, model_name, "3")["mlops.rollback.replaced"])
    assert result.summary() == f"{model_name}: champion moved from v3 back to v2"

    assert rollback(model_name, tracking_uri=uri).to_version == "1"
    with pytest.raises(RegistryError, match="no previous champion recorded"):
        rollback(model_name, tracking_uri=uri)
    assert rollback(model_name, to_version=3, tracking_uri=uri).to_dict()["to_version"] == "3"


def test_rollback_refuses_unknown_versions_and_models_without_champion(
    logged_run, mlflow_store, model_name
):
    uri = mlflow_store.tracking_uri
    with pytest.raises(RegistryError, match="not found"):
        rollback(model_name, tracking_uri=uri)
    (version,) = _register(logged_run, mlflow_store, model_name)
    with pytest.raises(RegistryError, match="has no champion to roll back"):
        rollback(model_name, tracking_uri=uri)
    assert champion_version(model_name, tracking_uri=uri) is None
    with pytest.raises(RegistryError, match="has no version 7"):
        rollback(model_name, to_version="7", tracking_uri=uri)
    _promote_on_accuracy(model_name, version, 0.9, uri)
    with pytest.raises(RegistryError, match="already champion"):
        rollback(model_name, to_version=version, tracking_uri=uri)


def test_rollback_refuses_a_version_that_failed_validation(logged_run, mlflow_store, model_name):
    uri = mlflow_store.tracking_uri
    good, bad = _register(logged_run, mlflow_store, model_name, count=2)
    _promote_on_accuracy(model_name, good, 0.9, uri)
    _promote_on_accuracy(model_name, bad, 0.99, uri, validated=False)
    with pytest.raises(RegistryError, match="failed data validation"):
        rollback(model_name, to_version=bad, tracking_uri=uri)


# ------------------------------------------------------------------------------------- CLI


def test_cli_promote_and_rollback_on_a_real_store(logged_run, mlflow_store, model_name, tmp_path):
    from typer.testing import CliRunner

    from mlops_common.cli import app

    _register(logged_run, mlflow_store, model_name, count=2)
    (tmp_path / "params.yaml").write_text(
        "gate:\n  metrics:\n    accuracy: {min: 0.8, direction: higher}\n", encoding="utf-8"
    )
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"accuracy": 0.9}))
    bad.write_text(json.dumps({"accuracy": 0.7}))
    common = ["--model", model_name, "--tracking-uri", mlflow_store.tracking_uri]
    params = ["--params", str(tmp_path / "params.yaml")]
    runner = CliRunner()

    promoted = runner.invoke(app, ["promote", "1", "--metrics", str(good), *params, *common])
    assert promoted.exit_code == 0, promoted.output
    assert "promoted to champion" in promoted.output

    refused = runner.invoke(
        app, ["promote", "2", "--metrics", str(bad), *params, *common, "--json"]
    )
    assert refused.exit_code == 1, refused.output
    payload = json.loads(refused.output)
    assert payload["promoted"] is False
    assert "accuracy 0.7 is below min 0.8" in payload["reasons"]

    failed_validation = tmp_path / "validation.json"
    failed_validation.write_text(json.dumps({"success": False}))
    blocked = runner.invoke(
        app,
        [
            "promote",
            "2",
            "--metrics",
            str(good),
            "--validation",
            str(failed_validation),
            *params,
            *common,
        ],
    )
    assert blocked.exit_code == 1
    assert "data validation failed" in blocked.output

    # `mlops` turns a RegistryError into one line and exit code 2 (cli.main); the app raises it.
    same = runner.invoke(app, ["rollback", "1", *common])
    assert isinstance(same.exception, RegistryError)
    assert "already champion" in str(same.exception)
    assert _alias(mlflow_store, model_name, CHAMPION) == "1"


def test_cli_rollback_moves_champion_back(logged_run, mlflow_store, model_name):
    from typer.testing import CliRunner

    from mlops_common.cli import app

    uri = mlflow_store.tracking_uri
    first, second = _register(logged_run, mlflow_store, model_name, count=2)
    for version, accuracy in ((first, 0.9), (second, 0.92)):
        _promote_on_accuracy(model_name, version, accuracy, uri)
    result = CliRunner().invoke(app, ["rollback", "--model", model_name, "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    assert f"{model_name}: champion moved from v2 back to v1" in result.output
    assert _alias(mlflow_store, model_name, CHAMPION) == "1"


# ------------------------------------------------------------------------- real mlflow server


@pytest.mark.xdist_group("mlflow_server")
def test_run_registration_and_promotion_through_a_real_mlflow_server(
    mlflow_server, tiny_classifier, tmp_path, unique_name
):
    import mlflow
    from mlflow import MlflowClient

    model, features, _ = tiny_classifier
    name = unique_name("served")
    config = ProjectConfig(root=tmp_path, tracking_uri=mlflow_server, experiment=name)
    with tracked_run("train", config=config) as run:
        mlflow.log_metric("accuracy", 0.93)
        log_model(model, input_example=features.head(5))
    version = register_model(run.info.run_id, name, tracking_uri=mlflow_server)
    decision = promote(
        name, version, None, ACCURACY_GATE, validation_passed=True, tracking_uri=mlflow_server
    )
    assert decision.promoted
    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    assert client.get_run(run.info.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    champion = client.get_model_version_by_alias(name, CHAMPION)
    assert str(champion.version) == version
    assert champion.tags["mlops.gate.decision"] == "promoted"
    with mlflow_uris(mlflow_server):  # models:/ resolves through MLflow's process-wide URIs
        reloaded = mlflow.sklearn.load_model(f"models:/{name}@{CHAMPION}")
    assert list(reloaded.predict(features)) == list(model.predict(features))
