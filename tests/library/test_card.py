"""Model cards built from a real store: a validated training run, a fair-or-not gate decision,
an approval, lineage; written as Markdown and self-contained HTML and logged with the version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_common import store, tags
from mlops_common.card import build_card, save_card
from mlops_common.cli import app
from mlops_common.errors import ConfigError
from mlops_common.fairness import FairnessConfig, measure_fairness
from mlops_common.gate import GateConfig
from mlops_common.registry import approve, promote, register_model, reject, rollback

PARAMS = {
    "model_card": {
        "owner": "Risk analytics <risk@example.com>",
        "intended_use": "Rank customers by churn risk for the retention team's weekly calls.",
        "out_of_scope": "Credit decisions; any use without a person in the loop.",
        "limitations": ["Trained on 2025 customers only", "Not calibrated for new regions"],
    },
    "gate": {
        "approval": "required",
        "metrics": {"accuracy": {"min": 0.8, "direction": "higher"}},
        "fairness": {"sensitive": ["region"], "metric": "selection_rate", "max_gap": 0.3},
    },
}
VALIDATION = {
    "success": True,
    "suite_name": "prepared+raw",
    "reports": {
        name: {
            "success": True,
            "suite_name": suite,
            "data_source": f"data/{name}.csv",
            "row_count": rows,
            "statistics": {"evaluated_expectations": 12, "successful_expectations": 12},
        }
        for name, suite, rows in (("raw", "raw", 569), ("train", "prepared", 455))
    },
}


@pytest.fixture(autouse=True)
def _ci_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GITLAB_USER_LOGIN", raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "ci-bot")


@pytest.fixture(scope="module")
def approved(mlflow_store, tiny_classifier, tmp_path_factory) -> dict:
    """v1 champion, then v2 gated with fairness, awaiting approval, approved by ana."""
    import mlflow

    from mlops_common.tracking import log_model, tracked_run

    uri = mlflow_store.tracking_uri
    project = tmp_path_factory.mktemp("card-project")
    (project / ".copier-answers.yml").write_text(
        "_commit: v1.4.0\n_src_path: gh:acme/mlops-template\n", encoding="utf-8"
    )
    model, features, _ = tiny_classifier
    name = f"card-{project.name[-6:]}"
    config = mlflow_store.config(project, experiment=name)
    with tracked_run("train", validation=VALIDATION, config=config) as run:
        mlflow.log_metric("accuracy", 0.9)
        log_model(model, input_example=features.head(5))
    v1, v2 = (register_model(run.info.run_id, name, tracking_uri=uri) for _ in range(2))
    gate = GateConfig.from_dict(PARAMS["gate"])
    promote(
        name,
        v1,
        {"accuracy": 0.86},
        {"metrics": PARAMS["gate"]["metrics"]},
        validation_passed=True,
        tracking_uri=uri,
    )
    predicted = model.predict(features)
    region = ["north" if i % 2 else "south" for i in range(len(features))]
    fairness = measure_fairness(
        predicted,
        predicted,
        {"region": region},
        FairnessConfig.from_dict(PARAMS["gate"]["fairness"]),
    )
    promote(
        name,
        v2,
        {"accuracy": 0.91, "f1": 0.88},
        gate,
        validation_passed=True,
        fairness=fairness,
        tracking_uri=uri,
    )
    approve(name, v2, gate, reason="Card and fairness reviewed", by="ana", tracking_uri=uri)
    return {
        "name": name,
        "v1": v1,
        "v2": v2,
        "run_id": run.info.run_id,
        "root": project,
        "fairness": fairness,
    }


def test_card_gathers_every_section_from_the_registry_and_the_trail(approved, mlflow_store):
    card = build_card(
        approved["name"],
        approved["v2"],
        params=PARAMS,
        project_root=approved["root"],
        tracking_uri=mlflow_store.tracking_uri,
    )
    assert card.status == "champion" and "champion" in card.aliases
    assert card.validation["verdict"] == "passed"
    assert [r["passed"] for r in card.validation["reports"]] == ["12/12", "12/12"]
    accuracy = next(row for row in card.metrics if row["metric"] == "accuracy")
    assert (accuracy["candidate"], accuracy["champion"], accuracy["result"]) == (
        0.91,
        0.86,
        "passed",
    )
    assert next(row for row in card.metrics if row["metric"] == "f1")["result"] == "not gated"
    assert card.decision["outcome"] == "awaiting-approval"
    assert card.fairness["columns"][0]["gap"] == approved["fairness"].columns[0].gap
    assert [(r["outcome"], r["approver"]) for r in card.reviews] == [("approved", "ana")]
    assert [e["outcome"] for e in card.history] == ["approved", "awaiting-approval"]
    assert card.lineage["run_id"] == approved["run_id"]
    assert card.lineage["template"] == "v1.4.0 (gh:acme/mlops-template)"
    assert card.lineage["mlops_common"] and card.lineage["digest"]

    markdown = card.to_markdown()
    for heading in (
        "Intended use",
        "Data and validation",
        "Metrics against the champion",
        "Gate decision",
        "Fairness",
        "Approvals",
        "Decision history (audit trail)",
        "Lineage",
        "Limitations",
    ):
        assert f"\n## {heading}\n" in markdown
    assert (
        "Rank customers by churn risk" in markdown
        and "- Not calibrated for new regions" in markdown
    )
    assert "| accuracy | 0.91 | 0.86 |" in markdown
    assert "Card and fairness reviewed" in markdown


def test_saved_card_is_self_contained_html_and_markdown_logged_with_the_version(
    approved, mlflow_store, tmp_path
):
    uri = mlflow_store.tracking_uri
    card = build_card(approved["name"], approved["v2"], params=PARAMS, tracking_uri=uri)
    paths = save_card(card, tmp_path / "reports", tracking_uri=uri)
    assert [p.name for p in paths] == ["model_card.md", "model_card.html"]
    page = paths[1].read_text(encoding="utf-8")
    assert "<script" not in page and not re.search(r"(src|href)=\"?https?:", page)
    assert "<style>" in page and "selection_rate" in page and "ana" in page
    client = store.client(uri)
    logged = {a.path for a in client.list_artifacts(approved["run_id"], "model_card")}
    assert logged == {f"model_card/model_card.{ext}" for ext in ("md", "html", "json")}
    version = client.get_model_version(approved["name"], approved["v2"])
    assert version.tags[tags.CARD] == f"runs:/{approved['run_id']}/model_card/model_card.html"


def test_card_of_a_version_without_decisions_says_so_and_bad_card_params_fail(
    approved, mlflow_store
):
    uri = mlflow_store.tracking_uri
    bare = register_model(approved["run_id"], approved["name"], tracking_uri=uri)
    card = build_card(approved["name"], bare, tracking_uri=uri)
    markdown = card.to_markdown()
    assert card.status == "registered" and card.decision is None
    assert "No gate decision is recorded for this version." in markdown
    assert "not stated (add it to the model_card section of params.yaml)" in markdown
    with pytest.raises(ConfigError, match="model_card: unknown key\\(s\\) purpose"):
        build_card(
            approved["name"], bare, params={"model_card": {"purpose": "x"}}, tracking_uri=uri
        )


def test_cli_card_writes_reports_or_one_output_file(approved, mlflow_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(json.dumps(PARAMS), encoding="utf-8")
    common = ["--model", approved["name"], "--tracking-uri", mlflow_store.tracking_uri]
    runner = CliRunner()
    default = runner.invoke(app, ["card", approved["v1"], *common])
    assert default.exit_code == 0, default.output
    assert f"v{approved['v1']}" in default.output and "status former champion" in default.output
    assert (tmp_path / "reports" / f"model_card_v{approved['v1']}.html").is_file()
    assert (tmp_path / "reports" / f"model_card_v{approved['v1']}.md").is_file()
    as_md = runner.invoke(app, ["card", approved["v2"], *common, "-o", str(tmp_path / "c.md")])
    assert as_md.exit_code == 0, as_md.output
    assert (tmp_path / "c.md").read_text(encoding="utf-8").startswith("# Model card: ")
    as_json = runner.invoke(app, ["card", approved["v2"], *common, "--json"])
    assert json.loads(as_json.stdout)["reviews"][0]["approver"] == "ana"


def _logged(client, run_id: str, name: str, folder) -> str:
    local = client.download_artifacts(run_id, f"model_card/{name}", str(folder))
    return Path(local).read_text(encoding="utf-8")


def test_logged_cards_follow_approval_rejection_and_rollback(
    mlflow_store, tiny_classifier, tmp_path
):
    """A card logged while its version awaits approval is logged again by approve, reject and
    rollback, from the trail, keeping the intended use it was logged with."""
    from mlops_common.tracking import log_model, tracked_run

    uri = mlflow_store.tracking_uri
    name = f"card-follow-{tmp_path.name[-6:]}"
    model, features, _ = tiny_classifier
    gate = GateConfig.from_dict({"approval": "required", "metrics": PARAMS["gate"]["metrics"]})
    client = store.client(uri)
    runs: dict[str, str] = {}

    def candidate(accuracy: float) -> str:
        config = mlflow_store.config(tmp_path, experiment=name)
        with tracked_run("train", config=config) as run:
            log_model(model, input_example=features.head(5))
        version = register_model(run.info.run_id, name, tracking_uri=uri)
        runs[version] = run.info.run_id
        promote(
            name, version, {"accuracy": accuracy}, gate, validation_passed=True, tracking_uri=uri
        )
        card = build_card(name, version, params=PARAMS, tracking_uri=uri)
        assert card.status == "awaiting-approval"
        save_card(card, tmp_path / f"v{version}", tracking_uri=uri)
        return version

    def logged(version: str) -> tuple[dict, str]:
        folder = tmp_path / f"logged-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        paths = [
            client.download_artifacts(runs[version], f"model_card/model_card.{ext}", str(folder))
            for ext in ("json", "md")
        ]
        data = json.loads(Path(paths[0]).read_text(encoding="utf-8"))
        return data, Path(paths[1]).read_text(encoding="utf-8")

    v1 = candidate(0.85)
    approve(name, v1, gate, reason="first model", by="ana", tracking_uri=uri)
    v2 = candidate(0.9)
    approve(name, v2, gate, reason="Card reviewed, fairness fine", by="ana", tracking_uri=uri)
    data, markdown = logged(v2)
    assert data["status"] == "champion"
    assert [(r["outcome"], r["approver"]) for r in data["reviews"]] == [("approved", "ana")]
    assert "Status: **champion**" in markdown and "Card reviewed, fairness fine" in markdown
    assert "Rank customers by churn risk" in markdown  # kept from the card logged before
    assert logged(v1)[0]["status"] == "former champion"  # the champion v2 replaced

    v3 = candidate(0.95)
    reject(name, v3, reason="Biased on region", by="bo", tracking_uri=uri)
    data, markdown = logged(v3)
    assert data["status"] == "rejected" and "Biased on region" in markdown
    assert [(r["outcome"], r["approver"]) for r in data["reviews"]] == [("rejected", "bo")]
    assert data["intended"]["owner"] == PARAMS["model_card"]["owner"]

    rollback(name, tracking_uri=uri, by="ana", reason="v2 misbehaves")
    assert logged(v1)[0]["status"] == "champion"
    data, markdown = logged(v2)
    assert data["status"] == "former champion" and data["history"][0]["outcome"] == "approved"
    for version in (v1, v2, v3):
        tag = client.get_model_version(name, version).tags[tags.CARD]
        assert tag == f"runs:/{runs[version]}/model_card/model_card.html"


def test_a_decision_logs_no_card_for_a_version_that_never_had_one(approved, mlflow_store):
    uri = mlflow_store.tracking_uri
    bare = register_model(approved["run_id"], approved["name"], tracking_uri=uri)
    promote(
        approved["name"],
        bare,
        {"accuracy": 0.5},
        {"metrics": PARAMS["gate"]["metrics"]},
        validation_passed=True,
        tracking_uri=uri,
    )
    tags_now = store.client(uri).get_model_version(approved["name"], bare).tags
    assert tags.CARD not in tags_now
