"""`compute: spark` in the template: the rendered spark-submit entry point validates and checks
drift on local[2] with the same verdicts as the pandas path, and the Databricks job definition
round-trips through the Databricks SDK's Jobs API models (an unknown or misspelled field, or an
enum value the API does not have, is dropped by the models and fails the comparison)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_common.monitoring import DriftConfig, detect_drift
from mlops_common.monitoring.profile import build_profile
from mlops_common.validation import validate
from tools.project_workflow import render_project

# Its own worker: spark-submit starts JVMs of its own while the other worker's session runs.
pytestmark = pytest.mark.xdist_group("spark-submit")

PACKAGE = "churn_model"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return render_project(tmp_path_factory.mktemp("spark") / "churn-model", compute="spark")


def test_spark_answer_adds_the_extra_the_entry_point_and_the_job(project, tmp_path):
    default = render_project(tmp_path / "default")
    assert (project / "src" / PACKAGE / "spark_job.py").is_file()
    assert (project / "databricks" / "job.json").is_file()
    assert not (default / "databricks").exists()
    assert not (default / "src" / PACKAGE / "spark_job.py").exists()
    extras = _pyproject(project)["project"]["optional-dependencies"]
    assert extras["spark"][0].startswith("mlops-common[spark]")
    assert "spark" not in _pyproject(default)["project"]["optional-dependencies"]
    assert "spark" not in yaml.safe_load((default / "params.yaml").read_text())


def test_databricks_job_matches_the_jobs_api_models(project):
    from databricks.sdk.service.jobs import JobSettings

    job = json.loads((project / "databricks" / "job.json").read_text(encoding="utf-8"))
    assert JobSettings.from_dict(job).as_dict() == job
    tasks = {task["task_key"]: task["spark_python_task"] for task in job["tasks"]}
    assert [t["parameters"][0] for t in tasks.values()] == ["validate", "drift"]
    assert all(t["python_file"].endswith(f"src/{PACKAGE}/spark_job.py") for t in tasks.values())
    # The Databricks runtime brings pyspark: the job installs the library without the extra.
    packages = [lib["pypi"]["package"] for t in job["tasks"] for lib in t["libraries"]]
    assert all("[spark]" not in package for package in packages)


def test_spark_submit_entry_point_validates_and_checks_drift_on_local_2(project):
    raw, train, test = _sample_data(project)
    for frame, path in (
        (raw, "data/raw/dataset.parquet"),
        (train, "data/prepared/train.parquet"),
        (test, "logs/predictions.parquet"),
    ):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(project / path, index=False)
    features = train.drop(columns="target")
    build_profile(features).to_json(project / "reports" / "reference_profile.json")
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    params["spark"]["reference"] = "reports/reference_profile.json"
    (project / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")

    # Both steps in one spark-submit (one JVM): the exit code is the worse of the two.
    done = _spark_submit(project, "validate", "drift")
    assert done.returncode == _pandas_drift_exit(project, test), done.stdout + done.stderr
    for suite, data in (("raw", raw), ("prepared", train)):
        ours = json.loads((project / f"reports/validation_{suite}_spark.json").read_text())
        theirs = validate(data, project / "expectations" / f"{suite}.json")
        assert ours["success"] is theirs.success is True
        assert [r["success"] for r in ours["results"]] == [r.success for r in theirs.results]
    report = json.loads((project / "reports" / "drift_spark.json").read_text())
    pandas = detect_drift(
        project / "reports" / "reference_profile.json",
        test.drop(columns="target"),
        config=DriftConfig.from_params(project / "params.yaml"),
    )
    assert report["verdict"] == pandas.verdict
    assert sorted(report["drifted_columns"]) == sorted(pandas.drifted_columns)
    assert (project / "reports" / "drift_spark.html").stat().st_size > 1000


def _pyproject(project: Path) -> dict:
    import tomllib

    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


def _sample_data(project: Path):
    """The rendered project's own sample and split (its data.py and features.py)."""
    sys.path.insert(0, str(project / "src"))
    try:
        from churn_model.data import load_raw_data
        from churn_model.features import prepare

        params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
        raw = load_raw_data()
        train, test = prepare(raw, params.get("prepare", {}))
    finally:
        sys.path.remove(str(project / "src"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
    return raw, train, test


def _spark_submit(project: Path, *steps: str) -> subprocess.CompletedProcess:
    spark_submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    return subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            f"src/{PACKAGE}/spark_job.py",
            *steps,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _pandas_drift_exit(project: Path, test) -> int:
    report = detect_drift(
        project / "reports" / "reference_profile.json",
        test.drop(columns="target"),
        config=DriftConfig.from_params(project / "params.yaml"),
    )
    return report.exit_code
