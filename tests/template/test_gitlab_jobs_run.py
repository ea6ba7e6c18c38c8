"""The rendered GitLab jobs run for real under gitlab-emulator: `lint`, `pipeline`, and
continuous training's `drift` (on traffic the service's capture writer stored) and `retrain`
(fresh data, the gate against the team's champion, the merge-request push).

`gle --ignore-docker JOB` runs a job's before_script and script in the shell, with GitLab's
variables, offline. It reads a copy of the project's .gitlab-ci.yml without install lines
(tools/ci_jobs.py says why); everything else runs as written, in a rendered git repository.
Project CI/CD variables (TEAM_MLFLOW_TRACKING_URI, CT_PUSH_TOKEN) and the dotenv report a
job hands to the next (RETRAIN) come from the environment, as a runner gets them; gle expands
only GitLab's predefined variables inside a job's `variables:`, which is why the template
exports the team registry in the script. The push goes to a local bare repository through git's
`url.<base>.insteadOf`; GitLab's merge-request push options are accepted, not acted on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools import ci_jobs, project_workflow

BIN_DIR = Path(sys.executable).parent
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _gle() -> str:
    gle = shutil.which("gle")
    if gle is None:
        pytest.fail(
            "gitlab-emulator's `gle` is not on PATH: `nox -s tests` installs it into its own venv "
            "(.nox/python-tools; it pins antlr4 against DVC's omegaconf)"
        )
    return gle


def test_gitlab_lint_and_pipeline_jobs_run_on_a_rendered_project(tmp_path: Path) -> None:
    project = project_workflow.render_project(tmp_path / "project", ci="gitlab")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm", "init")
    ci = yaml.safe_load((project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    emulated = project / ".gitlab-ci.emulated.yml"
    emulated.write_text(yaml.safe_dump(ci_jobs.without_installs(ci), sort_keys=False))
    shims = ci_jobs.nox_shim_dir(tmp_path / "bin")
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(shims), str(BIN_DIR), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(project / "src"),
        "NO_COLOR": "1",
    }
    failures = []
    for job in ("lint", "pipeline"):
        result = subprocess.run(
            [_gle(), "--ignore-docker", "-c", emulated.name, job],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            failures.append(f"{job} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    assert not failures, "\n\n".join(failures)
    # The pipeline job's artifact is the gate's verdict, as a reviewer downloads it.
    decision = json.loads((project / "reports" / "promotion.json").read_text(encoding="utf-8"))
    assert decision["passed"] is True and decision["validation_passed"] is True
    assert decision["version"] == "1", decision

    # Continuous training: the store the pipeline trained into becomes the team registry (its
    # champion is v1; each CT job starts with an empty scratch store, as on a runner); the
    # capture holds traffic whose features all moved.
    team_db = tmp_path / "team-registry.db"
    (project / "mlflow.db").rename(team_db)
    _capture_shifted_traffic(project)
    team = {**env, "TEAM_MLFLOW_TRACKING_URI": f"sqlite:///{team_db}"}
    result = subprocess.run(
        [_gle(), "--ignore-docker", "-c", emulated.name, "drift"],
        cwd=project,
        env=team,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"drift failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    verdict = (project / "reports" / "verdict.env").read_text(encoding="utf-8")
    assert "RETRAIN=true" in verdict.splitlines(), verdict
    report = json.loads((project / "reports" / "drift.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "drift", report
    # The job's log shows the summary it wrote (`cat reports/drift.md`).
    assert "### Continuous training: " in result.stdout, result.stdout[-2000:]
    assert "Drift: **drift**" in result.stdout, result.stdout[-2000:]

    # retrain: fresh data in the scratch store, the gate against the rescored champion, and the
    # branch with the drift report and the decision pushed for a merge request.
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    _git(origin, "config", "receive.advertisePushOptions", "true")
    remote = "https://ci:ct-token@gitlab.example.com/team/churn-model.git"
    git_config = tmp_path / "gitconfig"
    git_config.write_text(f'[url "{origin}"]\n\tinsteadOf = {remote}\n', encoding="utf-8")
    handed = dict(line.split("=", 1) for line in verdict.splitlines() if "=" in line)
    ci_env = {
        **team,
        **handed,
        "CT_PUSH_TOKEN": "ct-token",
        "CI_SERVER_HOST": "gitlab.example.com",
        "CI_PROJECT_PATH": "team/churn-model",
        "CI_PIPELINE_ID": "4242",
        "CI_DEFAULT_BRANCH": "main",
        "GIT_CONFIG_GLOBAL": str(git_config),
    }
    (project / "mlflow.db").unlink(missing_ok=True)  # drift's scratch store stays on its runner
    result = subprocess.run(
        [_gle(), "--ignore-docker", "-c", emulated.name, "retrain"],
        cwd=project,
        env=ci_env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, (
        f"retrain failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    challenge = json.loads((project / "reports" / "challenge.json").read_text(encoding="utf-8"))
    assert challenge["champion_version"] == "1", challenge
    assert "PASSED=" in (project / "reports" / "verdict.env").read_text(encoding="utf-8")
    branch = "continuous-training/pipeline-4242"
    message = subprocess.run(
        ["git", "log", "-1", "--format=%B", branch],
        cwd=origin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert message.startswith("Retrain after drift (pipeline 4242)"), message
    assert "Drift: **drift**" in message, message


def _capture_shifted_traffic(project: Path) -> None:
    """The sample data with every feature one standard deviation up, written by the service's
    own capture writer to the project's capture folder ([tool.mlops] capture)."""
    import pandas as pd

    from mlops_common.serving.capture import CaptureWriter

    frame = pd.read_csv(project / "data" / "raw" / "dataset.csv")
    features = frame.drop(columns=["target"])
    moved = features + features.std()
    writer = CaptureWriter(project / "logs" / "capture", max_seconds=0.1)
    names = list(moved.columns)
    rows = [tuple(row) for row in moved.itertuples(index=False)]
    for start in range(0, len(rows), 100):
        batch = rows[start : start + 100]
        writer.append(names, batch, [0] * len(batch), model_version="1", request_id=str(start))
    writer.close()
    assert writer.written == len(rows) and writer.dropped == 0


def test_a_failing_job_fails_under_the_emulator(tmp_path: Path) -> None:
    """The runner reports a failed script line as a failed job (the test above can fail)."""
    config = tmp_path / ".gitlab-ci.yml"
    config.write_text("broken:\n  script:\n    - echo before\n    - exit 3\n    - echo never\n")
    result = subprocess.run(
        [_gle(), "--ignore-docker", "-c", config.name, "broken"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "never" not in result.stdout
