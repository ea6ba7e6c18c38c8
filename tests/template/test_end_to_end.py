"""A rendered project works on day one: pipeline, registry, its own tests, service and drift.

Each project (default answers, and ml_task=regression) is rendered, committed to git and run
with `dvc repro` once per module; the tests then check one behaviour each. All e2e tests share
one virtualenv (``project_env`` in tests/conftest.py) and run in one xdist group, in file order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tools.project_workflow import (
    captured_records,
    champion,
    drift,
    git_init_commit,
    http_json,
    render_project,
    run,
    sample_records,
    serving,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

STAGES = ("prepare", "validate", "train", "evaluate", "register")


class Project:
    def __init__(self, root: Path, env: dict[str, str], answers: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.answers = answers
        self.first_repro = ""

    def run(self, *command: str, check: bool = True):
        return run(command, self.root, self.env, check=check)


@pytest.fixture(
    scope="module",
    params=[{}, {"ml_task": "regression", "project_name": "Diabetes Progression"}],
    ids=["default", "regression"],
)
def project(request, project_env, tmp_path_factory) -> Project:
    answers = request.param
    root = render_project(tmp_path_factory.mktemp("e2e") / "project", **answers)
    env = project_env.env_for(root)
    git_init_commit(root, env)
    proj = Project(root, env, answers)
    proj.first_repro = proj.run("dvc", "repro").stdout
    return proj


def test_first_dvc_repro_runs_every_stage_in_order(project):
    positions = [project.first_repro.find(f"Running stage '{stage}'") for stage in STAGES]
    assert all(position >= 0 for position in positions), project.first_repro[-3000:]
    assert positions == sorted(positions)


def test_pipeline_writes_its_reports_and_dvc_shows_the_metrics(project):
    promotion = json.loads((project.root / "reports" / "promotion.json").read_text())
    assert promotion["promoted"] is True, promotion["reasons"]
    train_run = json.loads((project.root / "reports" / "train_run.json").read_text())
    assert train_run["validation_passed"] is True
    metrics = json.loads(project.run("dvc", "metrics", "show", "--json").stdout)
    shown = next(iter(metrics.values()))["data"]["metrics/eval.json"]["data"]
    expected = {"accuracy", "f1", "roc_auc"}
    if project.answers.get("ml_task") == "regression":
        expected = {"rmse", "mae", "r2"}
    assert set(shown) == expected


def test_validate_stage_runs_both_suites_on_the_fast_path(project):
    for name in ("raw", "train", "test"):
        report = json.loads((project.root / "reports" / f"validation_{name}.json").read_text())
        assert report["success"] is True, name
        assert {outcome["engine"] for outcome in report["results"]} == {"fast"}, name


def test_registered_champion_lives_in_the_projects_embedded_store(project):
    best = champion(project.root, project.env)
    assert best["uri"] == f"sqlite:///{(project.root / 'mlflow.db').as_posix()}"
    assert str(best["version"]) == "1"
    assert best["tags"]["mlops.gate.decision"] == "promoted"
    assert (project.root / "mlartifacts").is_dir()


def test_projects_own_tests_pass_and_never_touch_the_users_tracking_server(project):
    # A team's MLFLOW_TRACKING_URI names its server; the project's tests must use throwaway
    # local stores instead (port 9 answers nothing: any use of it would fail the tests).
    env = {**project.env, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    command = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    result = run(command, project.root, env, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_project_passes_ruff(project):
    project.run("ruff", "check", "--no-cache", ".")
    project.run("ruff", "format", "--check", "--no-cache", ".")


def test_service_answers_a_prediction_request_on_localhost(project):
    records = sample_records(project.root, count=5)
    with serving(project.root, project.env) as base_url:
        status, body = http_json(f"{base_url}/predict", {"records": records})
        assert status == 200, body
        assert len(body["predictions"]) == 5
        assert body["model_version"] == "1"
        status, body = http_json(f"{base_url}/predict", {"records": [{"nope": 1.0}]})
        assert status == 422
    # Captured into [tool.mlops] capture (logs/capture/date=.../hour=...), flushed at shutdown.
    captured = captured_records(project.root)
    assert len(captured) == 5
    assert {record["model_version"] for record in captured} == {"1"}


def test_drift_check_compares_the_capture_with_the_champions_profile(project):
    if not captured_records(project.root):
        with serving(project.root, project.env) as base_url:
            http_json(f"{base_url}/predict", {"records": sample_records(project.root, 20)})
    code, report, path = drift(project.root, project.env)
    # A handful of requests is too few rows to judge: never a drift alarm.
    assert (code, report["verdict"]) == (0, "insufficient data"), report["verdict"]
    assert report["drift_detected"] is False
    features = [name for name in sample_records(project.root, 1)[0]]
    assert {column["name"] for column in report["columns"]} >= set(features)
    assert path.with_suffix(".html").is_file()


def test_rerunning_dvc_repro_does_no_work(project):
    output = project.run("dvc", "repro").stdout
    assert "Running stage" not in output, output
    assert "Data and pipelines are up to date" in output
    status = project.run("dvc", "status").stdout
    assert "up to date" in status.lower(), status


def test_dvc_yaml_declares_the_metrics_uncached(project):
    stages = yaml.safe_load((project.root / "dvc.yaml").read_text())["stages"]
    assert stages["evaluate"]["metrics"] == [{"metrics/eval.json": {"cache": False}}]


def test_register_writes_the_model_card_and_one_audit_entry(project):
    page = (project.root / "reports" / "model_card.html").read_text(encoding="utf-8")
    markdown = (project.root / "reports" / "model_card.md").read_text(encoding="utf-8")
    assert "<script" not in page and "Demonstration:" in page
    assert "## Fairness" in markdown and "## Lineage" in markdown
    trail = json.loads(project.run("mlops", "audit", "--json").stdout)
    [entry] = trail["entries"]
    assert (entry["version"], entry["outcome"], entry["action"]) == ("1", "promoted", "gate")
    commit = project.run("git", "rev-parse", "HEAD").stdout.strip()
    assert entry["git_commit"] == commit
    assert "data/prepared/train.csv" in entry["data_hashes"], entry["data_hashes"]


def test_required_approval_and_fairness_close_through_mlops_approve(project):
    """Last in the module: it changes params.yaml and registers a second version."""
    params = yaml.safe_load((project.root / "params.yaml").read_text())
    sensitive = "sex" if project.answers.get("ml_task") == "regression" else "mean_radius"
    metric = "mean_absolute_error" if project.answers.get("ml_task") == "regression" else "accuracy"
    params["gate"].update(
        ties="promote",
        approval="required",
        # A continuous column makes one group per value: max_gap 1e9 lets every gap pass.
        fairness={"sensitive": [sensitive], "metric": metric, "max_gap": 1e9},
    )
    (project.root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    output = project.run("dvc", "repro").stdout
    assert "awaits approval" in output, output[-3000:]
    assert str(champion(project.root, project.env)["version"]) == "1"
    card = (project.root / "reports" / "model_card.md").read_text(encoding="utf-8")
    assert f"| {sensitive} (gap " in card and "awaiting-approval" in card

    refused = project.run("mlops", "approve", "2", "--reason", "ok", check=False)
    if not project.env.get("GITHUB_ACTOR") and not project.env.get("GITLAB_USER_LOGIN"):
        assert refused.returncode == 2 and "--by NAME" in refused.stderr
    approved = project.run("mlops", "approve", "2", "--reason", "card read", "--by", "ana")
    assert "approved by ana" in approved.stdout
    assert str(champion(project.root, project.env)["version"]) == "2"
    outcomes = [
        e["outcome"] for e in json.loads(project.run("mlops", "audit", "--json").stdout)["entries"]
    ]
    assert outcomes == ["approved", "awaiting-approval", "promoted"]
