"""The continuous-training loop end to end on local parts, through the rendered CI's own steps.

A rendered project (ci=github, cloud=local) trains its champion into a "team" MLflow store. Its
service captures traffic where ``[tool.mlops] capture`` says (a local folder, then a bucket on
moto S3), and the jobs of the rendered ``.github/workflows/continuous-training.yml`` run as
written: every ``run:`` step through bash, in job order, with GitHub's contexts (``vars``,
``needs``, step outputs, ``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``) filled in and each job's
``if:`` evaluated; once labels are set in params.yaml the check also runs ``mlops monitor``. nox
runs the rendered noxfile's sessions in this environment with installs skipped
(tools/ci_jobs.py). Then ``mlops deploy up --target local`` serves the new champion.

Not exercised: GitHub itself (runners, artifact transfer: the jobs share one workspace here, the
production environment's approval, the OIDC logins) and gh's own API call: the pull request the
``gh pr create`` step asks for is checked as the REST request against GitHub's OpenAPI
description (gh itself sends GraphQL).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import ci_jobs, project_workflow
from tools.processes import dummy_aws_env, free_port, running_moto

ROOT = Path(__file__).resolve().parents[3]
BIN_DIR = Path(sys.executable).parent
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
CONDITION = re.compile(r"^([\w.-]+) == '([^']*)'$")
BUCKET = "loop-capture"
# The client's own data source (their data.py): an export the test rewrites to "move" the world.
DATA_PY = '''"""Where the raw data comes from: this team's nightly export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TARGET = "target"
SOURCE = Path(__file__).resolve().parents[2] / "incoming" / "dataset.csv"


def load_raw_data() -> pd.DataFrame:
    return pd.read_csv(SOURCE)
'''
# A gh stand-in: records what it was asked to open, as the REST body of POST .../pulls.
GH_SHIM = """#!/bin/sh
exec "{python}" - "$@" <<'PY'
import json, os, sys
args = sys.argv[1:]
if args[:2] == ["pr", "create"]:
    opts = dict(zip(args[2::2], args[3::2]))
    body = open(opts["--body-file"], encoding="utf-8").read()
    request = {{"title": opts["--title"], "head": opts["--head"], "base": opts["--base"],
               "body": body}}
    with open(os.environ["GH_REQUESTS"], "a", encoding="utf-8") as log:
        log.write(json.dumps(request) + "\\n")
    print("https://github.com/acme/churn/pull/1")
PY
"""


# ---- GitHub Actions, as far as these workflows use it ---------------------------------------


def evaluate(text: str, context: dict[str, str]) -> str:
    """``${{ a || 'b' }}`` with the context's values (the expressions these workflows use)."""

    def one(match: re.Match[str]) -> str:
        for part in (p.strip() for p in match.group(1).split("||")):
            if part.startswith("'"):
                return part.strip("'")
            if context.get(part):
                return context[part]
        return ""

    return EXPRESSION.sub(one, text)


def holds(condition: str | None, context: dict[str, str]) -> bool:
    if condition is None:
        return True
    match = CONDITION.match(condition.strip())
    assert match, f"the loop test does not evaluate `if: {condition}`"
    return context.get(match.group(1), "") == match.group(2)


def read_outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return dict(pairs)


class Workflow:
    """One workflow's jobs, run in one workspace, in order, like a runner would."""

    def __init__(self, project: Path, env: dict[str, str], context: dict[str, str]) -> None:
        self.project, self.env, self.context = project, env, context
        path = project / ".github" / "workflows" / "continuous-training.yml"
        self.spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.summary = project.parent / "summary.md"

    def run(self, name: str) -> bool:
        """Run job ``name`` (False when its ``if:`` skips it); fail on the first failed step."""
        job = self.spec["jobs"][name]
        if not holds(job.get("if"), self.context):
            return False
        self.summary.write_text("", encoding="utf-8")
        env = dict(self.env)
        for scope in (self.spec.get("env", {}), job.get("env", {})):
            env.update({key: evaluate(str(value), self.context) for key, value in scope.items()})
        steps: dict[str, str] = {}
        for step in job["steps"]:
            script = step.get("run")
            # `uses:` steps (checkout, setup-python, artifacts) and installs: this workspace and
            # this environment already hold what they would bring.
            if script is None or ci_jobs.is_install_step(script):
                continue
            outputs = self.project.parent / "step-outputs"
            outputs.write_text("", encoding="utf-8")
            step_env = {**env, "GITHUB_OUTPUT": str(outputs)}
            step_env["GITHUB_STEP_SUMMARY"] = str(self.summary)
            for key, value in step.get("env", {}).items():
                step_env[key] = evaluate(str(value), {**self.context, **steps})
            result = subprocess.run(
                ["bash", "-e", "-c", script],
                cwd=self.project,
                env=step_env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert result.returncode == 0, (
                f"{name}: step {step.get('name', script[:40])!r} failed\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
            if "id" in step:
                for key, value in read_outputs(outputs).items():
                    steps[f"steps.{step['id']}.outputs.{key}"] = value
        for key, value in job.get("outputs", {}).items():
            self.context[f"needs.{name}.outputs.{key}"] = evaluate(str(value), steps)
        return True


# ---- the project and its world --------------------------------------------------------------


def github_spec() -> Any:
    """GitHub's POST /repos/{owner}/{repo}/pulls description (tests/fleet/conftest.py)."""
    name = "_mlops_tests_fleet_forges"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests/fleet/conftest.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name].github_spec("api.github.com")


def breast_cancer() -> Any:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    return frame.rename(columns=lambda name: re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_"))


def shifted(frame: Any, project: Path, sigmas: float = 0.5) -> Any:
    """Every feature moved up by ``sigmas`` standard deviations, kept inside the raw data
    suite's bounds (a real source that moved, not one the validation stage would refuse)."""
    suite = json.loads((project / "expectations" / "raw.json").read_text(encoding="utf-8"))
    bounds = {
        e["kwargs"]["column"]: e["kwargs"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_between"
    }
    moved = frame.copy()
    for column in (c for c in frame.columns if c != "target"):
        values = frame[column] + sigmas * frame[column].std()
        limits = bounds.get(column, {})
        moved[column] = values.clip(limits.get("min_value"), limits.get("max_value"))
    return moved


def send(url: str, frame: Any, batch: int = 100) -> None:
    records = frame.drop(columns=["target"]).to_dict(orient="records")
    for start in range(0, len(records), batch):
        status, body = project_workflow.http_json(
            f"{url}/predict", {"records": records[start : start + batch]}
        )
        assert status == 200, body


def set_capture(project: Path, destination: str) -> None:
    """The one place that says where traffic goes ([tool.mlops] capture)."""
    pyproject = project / "pyproject.toml"
    text = re.sub(
        r'^capture = ".*"$',
        f'capture = "{destination}"',
        pyproject.read_text(encoding="utf-8"),
        flags=re.M,
    )
    pyproject.write_text(text, encoding="utf-8")


def write_labels(captured: Any, sent: Any, path: Path) -> Path:
    """The labels a team collects later: each captured row's true target, keyed by request id
    and row. ``sent`` holds the rows in the order they were sent (one client, one request at a
    time), which is the captured records' order by timestamp."""
    import numpy as np

    rows = captured.sort_values("timestamp", kind="stable").reset_index(drop=True)
    assert len(rows) == len(sent), (len(rows), len(sent))
    first = next(column for column in sent.columns if column != "target")
    assert np.allclose(rows[first], sent[first].to_numpy()), "captured rows out of order"
    rows["row"] = rows.groupby("request_id", sort=False).cumcount()
    rows["target"] = sent["target"].to_numpy()
    rows[["request_id", "row", "target"]].to_csv(path, index=False)
    return path


def set_labels(project: Path, labels: Path) -> None:
    """params.yaml `monitor.labels`: with it set, continuous training also runs mlops monitor."""
    params = project / "params.yaml"
    text, count = re.subn(
        r'^  labels: ".*"$', f'  labels: "{labels}"', params.read_text(encoding="utf-8"), flags=re.M
    )
    assert count == 1, "params.yaml has no monitor.labels line"
    params.write_text(text, encoding="utf-8")


def git(project: Path, env: dict[str, str], *args: str) -> str:
    return project_workflow.run(["git", *args], project, env).stdout


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    home = tmp_path_factory.mktemp("aws")
    aws = dummy_aws_env(home)
    with running_moto(BIN_DIR, home / "moto.log", aws) as url:
        import boto3

        boto3.client("s3", endpoint_url=url, **_keys(aws)).create_bucket(Bucket=BUCKET)
        yield url, {**aws, "AWS_ENDPOINT_URL": url}


def _s3fs_keys(aws: dict[str, str]) -> dict[str, str]:
    return {"key": aws["AWS_ACCESS_KEY_ID"], "secret": aws["AWS_SECRET_ACCESS_KEY"]}


def _keys(aws: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": aws["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": aws["AWS_SECRET_ACCESS_KEY"],
        "region_name": aws["AWS_DEFAULT_REGION"],
    }


def test_drift_retrains_gates_on_the_same_holdout_promotes_and_deploys(moto, tmp_path):
    moto_url, aws = moto
    project = project_workflow.render_project(
        tmp_path / "churn",
        src=project_workflow.template_snapshot(tmp_path / "template"),
        ci="github",
        cloud="local",
    )
    package = next(p.parent.name for p in (project / "src").glob("*/stages.py"))
    (project / "src" / package / "data.py").write_text(DATA_PY, encoding="utf-8")
    (project / "incoming").mkdir()
    original = breast_cancer()
    original.to_csv(project / "incoming" / "dataset.csv", index=False)

    team = tmp_path / "team-registry.db"
    shims = ci_jobs.nox_shim_dir(tmp_path / "bin")
    (shims / "gh").write_text(GH_SHIM.format(python=sys.executable), encoding="utf-8")
    (shims / "gh").chmod(0o755)
    requests = tmp_path / "gh-requests.jsonl"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "MLOPS_", "GITHUB_"))
    }
    env.update(project_workflow.QUIET_ENV)
    env.update(aws)
    env.update(
        PATH=os.pathsep.join([str(shims), str(BIN_DIR), env.get("PATH", "")]),
        PYTHONPATH=str(project / "src"),
        NO_COLOR="1",
        GH_REQUESTS=str(requests),
        GITHUB_RUN_ID="4242",
        GITHUB_ACTOR="loop-test",
    )
    team_env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{team}"}
    git(project, env, "init", "--quiet", "--initial-branch", "main")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    git(project, env, "remote", "add", "origin", str(origin))
    git(project, env, "add", "--all")
    git(project, env, "commit", "--quiet", "--no-verify", "--message", "Start")

    # 1. The team trains its first champion (v1) into its registry.
    project_workflow.run(["dvc", "repro"], project, team_env)
    assert str(project_workflow.champion(project, team_env)["version"]) == "1"
    recorded_v1 = json.loads((project / "metrics" / "eval.json").read_text(encoding="utf-8"))

    context = {
        "vars.MLFLOW_TRACKING_URI": team_env["MLFLOW_TRACKING_URI"],
        "github.token": "ghs-test",
        "github.run_id": "4242",
        "github.event.repository.default_branch": "main",
        "env.PYTHON_VERSION": "3.11",
    }
    reports = project / "reports"

    def check_capture() -> dict[str, Any]:
        flow = Workflow(project, env, context)
        assert flow.run("drift")
        report = json.loads((reports / "drift.json").read_text(encoding="utf-8"))
        report["summary"] = flow.summary.read_text(encoding="utf-8")
        report["retrain"] = context["needs.drift.outputs.retrain"]
        return report

    # 2. Local disk: a few requests are "insufficient data"; the whole unshifted source is not
    #    drift. Neither retrains.
    with project_workflow.serving(project, team_env) as url:
        send(url, original.head(20))
    report = check_capture()
    assert (report["verdict"], report["retrain"]) == ("insufficient data", "false")
    assert "insufficient data" in report["summary"] and "No retraining" in report["summary"]
    with project_workflow.serving(project, team_env) as url:
        send(url, original)
    captured = sorted((project / "logs" / "capture").glob("date=*/hour=*/*.jsonl.gz"))
    assert captured, "the service captured nothing to logs/capture"
    assert all(json.loads(gzip.decompress(p.read_bytes()).splitlines()[0]) for p in captured)
    # Labels arrived for that traffic: CT now also checks the model's quality (mlops monitor).
    import pandas as pd

    from mlops_common.serving.capture import read_capture

    local = read_capture(project / "logs" / "capture")
    sent = pd.concat([original.head(20), original], ignore_index=True)
    set_labels(project, write_labels(local, sent, tmp_path / "labels-unshifted.csv"))
    report = check_capture()
    assert (report["verdict"], report["retrain"]) == ("no drift", "false"), report["summary"]
    quality = json.loads((reports / "monitor.json").read_text(encoding="utf-8"))
    assert quality["verdict"] == "no degradation", report["summary"]
    assert "Quality on labelled traffic: **no degradation**." in report["summary"]
    assert not Workflow(project, env, context).run("retrain")  # `if:` skips it

    # 3. The world moves; the capture now goes to S3 (moto), where CT reads it back.
    set_capture(project, f"s3://{BUCKET}/traffic")
    moved = shifted(original, project)
    with project_workflow.serving(project, team_env) as url:
        send(url, moved)
    import boto3

    listed = boto3.client("s3", endpoint_url=moto_url, **_keys(aws)).list_objects_v2(
        Bucket=BUCKET, Prefix="traffic/date="
    )
    assert listed.get("KeyCount", 0) >= 1, listed
    remote = read_capture(
        f"s3://{BUCKET}/traffic",
        storage_options={"client_kwargs": {"endpoint_url": moto_url}, **_s3fs_keys(aws)},
    )
    set_labels(project, write_labels(remote, moved, tmp_path / "labels-shifted.csv"))
    report = check_capture()
    assert (report["verdict"], report["retrain"]) == ("drift", "true"), report["summary"]
    assert "Quality on labelled traffic: **degradation**." in report["summary"]
    assert report["current_source"].startswith(f"s3://{BUCKET}/traffic")

    # 4. Retrain on the fresh (moved) data in a scratch store, gate against the champion
    #    scored on the same fresh holdout, and propose a pull request.
    moved.to_csv(project / "incoming" / "dataset.csv", index=False)
    flow = Workflow(project, env, context)
    assert flow.run("retrain")
    decision = json.loads((reports / "challenge.json").read_text(encoding="utf-8"))
    assert decision["passed"] is True, decision["reasons"]
    assert context["needs.retrain.outputs.passed"] == "true"
    assert decision["champion_version"] == "1"
    # The champion was rescored on the moved holdout: not the metrics it was recorded with.
    assert decision["champion_metrics"]["accuracy"] < recorded_v1["accuracy"], decision
    assert (project / "mlflow.db").is_file(), "retraining did not use the scratch store"
    assert str(project_workflow.champion(project, team_env)["version"]) == "1", "CT promoted alone"
    assert "Promotion gate: the retrained candidate passes the gate" in flow.summary.read_text()
    branch = "continuous-training/run-4242"
    assert (
        branch
        in subprocess.run(
            ["git", "branch", "--list"], cwd=origin, capture_output=True, text=True, check=True
        ).stdout
    )
    sent = [json.loads(line) for line in requests.read_text(encoding="utf-8").splitlines()]
    assert [(r["head"], r["base"]) for r in sent] == [(branch, "main")]
    assert "Drift: **drift**" in sent[0]["body"] and "passes the gate" in sent[0]["body"]
    from openapi_core.testing import MockRequest

    github_spec().validate_request(
        MockRequest(
            "https://api.github.com",
            "post",
            "/repos/acme/churn/pulls",
            data=json.dumps(sent[0]).encode(),
            content_type="application/json",
        )
    )

    # 5. The approved production job registers v2; the gate, under its lock, rescored v1 again.
    #    (Its checkout plus the `candidate` artifact is this very workspace.)
    assert Workflow(project, env, context).run("promote")
    promotion = json.loads((reports / "promotion.json").read_text(encoding="utf-8"))
    assert promotion["promoted"] is True, promotion["reasons"]
    assert promotion["champion_metrics"] == decision["champion_metrics"]
    assert str(project_workflow.champion(project, team_env)["version"]) == "2"

    # 6. The local deploy target serves the new champion.
    port = free_port()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + f"\n[tool.mlops.deploy.local]\nport = {port}\n",
        encoding="utf-8",
    )
    try:
        project_workflow.run(["mlops", "deploy", "up", "--target", "local"], project, team_env)
        status, metadata = project_workflow.http_json(f"http://127.0.0.1:{port}/metadata")
        assert status == 200 and str(metadata["model_version"]) == "2", metadata
    finally:
        project_workflow.run(["mlops", "deploy", "down"], project, team_env, check=False)
    shutil.rmtree(project / ".mlops", ignore_errors=True)
