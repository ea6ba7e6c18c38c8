"""Every combination of copier.yml's choices renders a clean project (no install, no run).

The matrix is read from copier.yml itself, so a new choice is tested as soon as it is added.
All combinations render once into one module-scoped folder; the checks then read those trees.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

from mlops_common.monitoring import DriftConfig
from mlops_common.monitoring.performance import MonitorConfig
from tools.project_workflow import REPO_ROOT, template_snapshot
from tools.project_workflow import render_project as render

BIN_DIR = Path(sys.executable).parent

pytestmark = pytest.mark.xdist_group("render-matrix")

COPIER_YML = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))


def choices(question: str) -> list[Any]:
    values = COPIER_YML[question]["choices"]
    return list(values.values()) if isinstance(values, dict) else list(values)


# CI providers that reach only some clouds (copier.yml refuses the other combinations): none
# since Azure Pipelines reaches AWS and Google Cloud with its service connections' OIDC tokens.
CLOUDS_OF_CI: dict[str, tuple[str, ...]] = {}


def answer_matrix() -> list[dict[str, Any]]:
    """ml_task x cloud x ci x (serving, docker); with_docker is only asked when serving."""
    serving_docker = [
        {"with_serving": serving, "with_docker": docker}
        for serving, docker in itertools.product([True, False], repeat=2)
        if serving or not docker
    ]
    matrix = []
    for ml_task, cloud, ci, flags in itertools.product(
        choices("ml_task"), choices("cloud"), choices("ci"), serving_docker
    ):
        answers = {"ml_task": ml_task, "cloud": cloud, "ci": ci, **flags}
        if ci in CLOUDS_OF_CI and cloud not in CLOUDS_OF_CI[ci]:
            continue  # refused by copier.yml's validator (test below)
        if not flags["with_serving"]:
            del answers["with_docker"]
        matrix.append(answers)
    # compute: spark adds its own files (the Databricks job names each cloud's node type); one
    # render per cloud covers it without doubling the product.
    for cloud in choices("cloud"):
        matrix.append(
            {
                "ml_task": "classification",
                "cloud": cloud,
                "ci": "github",
                "with_serving": True,
                "with_docker": True,
                "compute": "spark",
            }
        )
    # with_feature_store adds feature_repo/ and the feature stages, per ml_task (its definitions).
    for ml_task in choices("ml_task"):
        matrix.append(
            {
                "ml_task": ml_task,
                "cloud": "local",
                "ci": "github",
                "with_serving": True,
                "with_docker": True,
                "with_feature_store": True,
            }
        )
    return matrix


MATRIX = answer_matrix()


def combo_id(answers: dict[str, Any]) -> str:
    return "-".join(str(value).lower() for value in answers.values())


IDS = [combo_id(answers) for answers in MATRIX]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("matrix")
    snapshot = template_snapshot(root / "template-snapshot")
    return {
        combo_id(answers): render(root / combo_id(answers), src=snapshot, **answers)
        for answers in MATRIX
    }


def project_files(project: Path) -> list[Path]:
    files = (path for path in project.rglob("*") if path.is_file())
    return sorted(path for path in files if ".git" not in path.parts)


class _AnyTagLoader(yaml.SafeLoader):
    """Safe YAML that accepts CI-specific tags such as GitLab's ``!reference``."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)

# GitHub Actions expressions are ``${{ ... }}``: they belong in the output.
ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def test_matrix_covers_every_choice_of_copier_yml():
    for question in ("ml_task", "cloud", "ci"):
        assert {answers[question] for answers in MATRIX} == set(choices(question))
    assert {answers.get("compute", "local") for answers in MATRIX} == set(choices("compute"))
    assert {answers["with_serving"] for answers in MATRIX} == {True, False}
    assert {answers.get("with_feature_store", False) for answers in MATRIX} == {True, False}


@pytest.mark.parametrize("combo", IDS)
def test_render_leaves_no_jinja_behind(rendered, combo):
    for path in project_files(rendered[combo]):
        assert "{%" not in path.name and "{{" not in path.name, path
        text = ACTIONS_EXPRESSION.sub("", path.read_text(encoding="utf-8"))
        assert "{{" not in text and "{%" not in text, f"unrendered Jinja in {path}"


@pytest.mark.parametrize("combo", IDS)
def test_every_data_file_parses(rendered, combo):
    project = rendered[combo]
    for path in project_files(project):
        text = path.read_text(encoding="utf-8")
        if path.suffix in {".yml", ".yaml"}:
            yaml.load(text, Loader=_AnyTagLoader)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".py":
            ast.parse(text, filename=str(path))


def test_every_rendered_python_file_passes_ruff(rendered):
    """One ruff run over all trees (each tree's own pyproject.toml configures it)."""
    trees = [str(path) for path in rendered.values()]
    ruff = str(BIN_DIR / "ruff")
    for command in ([ruff, "check", "--no-cache", *trees], [ruff, "format", "--check", *trees]):
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("answers", MATRIX, ids=IDS)
def test_answers_file_round_trips_every_answer(rendered, answers):
    project = rendered[combo_id(answers)]
    saved = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    for question, value in answers.items():
        assert saved[question] == value, question
    assert saved["project_name"] == "Churn Model"
    assert saved["_src_path"]


def expected_template_version(project: Path) -> str:
    """What copier.yml derives from `_commit` (git describe): vX.Y[.Z], else 0.0.0 (no release)."""
    saved = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    match = re.match(r"^v?(\d+\.\d+(\.\d+)?)", str(saved.get("_commit", "")))
    return match.group(1) if match else "0.0.0"


def mlops_common_requirement(project: Path) -> str:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [requirement] = [dep for dep in meta["dependencies"] if dep.startswith("mlops-common")]
    return requirement


@pytest.mark.parametrize("answers", MATRIX, ids=IDS)
def test_mlops_common_pin_is_the_template_versions_compatible_range(rendered, answers):
    project = rendered[combo_id(answers)]
    major, minor = (int(part) for part in expected_template_version(project).split(".")[:2])
    extras = [] if answers["cloud"] == "local" else [answers["cloud"]]
    extras += ["feast"] if answers.get("with_feature_store") else []
    extra = f"[{','.join(extras)}]" if extras else ""
    requirement = mlops_common_requirement(project)
    assert requirement == f"mlops-common{extra}>={major}.{minor},<{major + 1}"


def test_pin_follows_a_later_template_version(tmp_path):
    # A template folder without git: the library is pinned by version (from an index).
    snapshot = template_snapshot(tmp_path / "snapshot")
    project = render(tmp_path / "p", src=snapshot, template_version="2.3.1")
    assert mlops_common_requirement(project) == "mlops-common>=2.3,<3"


@pytest.mark.parametrize("answers", MATRIX, ids=IDS)
def test_project_settings_come_from_the_answers(rendered, answers):
    project = rendered[combo_id(answers)]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    mlops = pyproject["tool"]["mlops"]
    assert mlops["model_name"] == "churn-model-model"
    assert mlops["cloud"] == answers["cloud"]
    assert mlops["prediction_log"] == "logs/predictions.jsonl"
    # Serving and continuous training read one capture destination, on the project's cloud.
    scheme = {"aws": "s3://", "gcp": "gs://", "azure": "az://"}.get(answers["cloud"], "logs/")
    assert mlops["capture"].startswith(scheme) and mlops["capture_window"] == "7d"
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/churn_model"
    ]
    saved = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    dvc_config = (project / ".dvc" / "config").read_text(encoding="utf-8")
    assert "remote = storage" in dvc_config
    assert saved["dvc_remote_url"] in dvc_config
    for stage in ("prepare", "validate", "train", "evaluate", "register"):
        assert stage in yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    metrics = yaml.safe_load((project / "params.yaml").read_text())["gate"]["metrics"]
    gated = {"accuracy", "roc_auc"} if answers["ml_task"] == "classification" else {"r2", "rmse"}
    assert set(metrics) == gated
    # The rendered thresholds are what the library reads (`--params params.yaml`)
    drift = DriftConfig.from_params(project / "params.yaml")
    monitor = MonitorConfig.from_params(project / "params.yaml")
    assert (drift.min_rows, monitor.labels, monitor.min_rows) == (100, "", 100)
    metric = "accuracy" if answers["ml_task"] == "classification" else "r2"
    assert monitor.tolerance_for(metric) == 0.02


@pytest.mark.parametrize("answers", MATRIX, ids=IDS)
def test_optional_parts_follow_the_answers(rendered, answers):
    project = rendered[combo_id(answers)]
    serving = answers["with_serving"]
    docker = answers.get("with_docker", False)
    assert (project / "tests" / "test_serving.py").is_file() == serving
    assert (project / "Dockerfile").is_file() == docker
    assert (project / ".dockerignore").is_file() == docker
    spark = answers.get("compute") == "spark"
    assert (project / "src" / "churn_model" / "spark_job.py").is_file() == spark
    assert (project / "databricks" / "job.json").is_file() == spark
    feature_store = answers.get("with_feature_store", False)
    assert (project / "feature_repo" / "definitions.py").is_file() == feature_store
    assert (project / "src" / "churn_model" / "feature_store.py").is_file() == feature_store
    assert ("feast -c feature_repo apply" in (project / "dvc.yaml").read_text()) == feature_store
    assert ('"pandas>=2.2,<3"' in (project / "pyproject.toml").read_text()) == feature_store
    data_py = (project / "src" / "churn_model" / "data.py").read_text(encoding="utf-8")
    dataset = "load_breast_cancer" if answers["ml_task"] == "classification" else "load_diabetes"
    assert dataset in data_py


def test_client_owned_files_listed_in_copier_yml_exist(rendered):
    """_skip_if_exists must name files the template really renders."""
    project = rendered[IDS[0]]
    for pattern in COPIER_YML["_skip_if_exists"]:
        assert list(project.glob(pattern)), f"_skip_if_exists pattern {pattern!r} matches nothing"


def test_expectation_suites_use_only_the_fast_path(rendered):
    """The validate stage must not pay Great Expectations' import: all types on the fast path."""
    from mlops_common.validation.fast import FAST_EXPECTATIONS
    from mlops_common.validation.suite import load_suite

    for combo in IDS[:1] + [combo for combo in IDS if combo.startswith("regression")][:1]:
        for name in ("raw.json", "prepared.json"):
            suite = load_suite(rendered[combo] / "expectations" / name)
            assert {e.type for e in suite.expectations} <= set(FAST_EXPECTATIONS), name


def test_dockerfile_passes_hadolint_at_warning_threshold(rendered):
    """Static check only: there is no Docker engine on this machine to build or run the image."""
    candidates = (rendered[combo] / "Dockerfile" for combo in IDS)
    dockerfiles = [path for path in candidates if path.is_file()]
    assert dockerfiles
    # Dockerfiles differ only by python_version and package_index_url: lint one per content.
    unique = {path.read_text(encoding="utf-8"): path for path in dockerfiles}
    for path in unique.values():
        result = subprocess.run(
            [str(BIN_DIR / "hadolint"), "--failure-threshold", "warning", str(path)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    text = next(iter(unique))
    assert "USER 10001" in text and "HEALTHCHECK" in text and '"--host", "0.0.0.0"' in text


@pytest.mark.parametrize("python_version", COPIER_YML["python_version"]["choices"])
def test_dockerfile_base_image_is_pinned_by_digest_for_every_python_version(
    tmp_path, python_version
):
    """Every FROM names the official image for python_version by its index digest."""
    project = render(tmp_path / "p", python_version=python_version)
    dockerfile = project / "Dockerfile"
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(encoding="utf-8"), re.M)
    pinned = rf"^python:{re.escape(python_version)}-slim-bookworm@sha256:[0-9a-f]{{64}}$"
    assert len(bases) == 2 and all(re.match(pinned, base) for base in bases), bases
    result = subprocess.run(
        [str(BIN_DIR / "hadolint"), "--failure-threshold", "warning", str(dockerfile)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_with_a_package_index_passes_hadolint(tmp_path):
    project = render(tmp_path / "p", package_index_url="https://pypi.example.com/simple")
    result = subprocess.run(
        [str(BIN_DIR / "hadolint"), "--failure-threshold", "warning", str(project / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    # The image build reaches no index and no git: it installs the wheels `nox -s wheels` built
    # outside (where the credentials are), with bytecode compiled once.
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    assert "uv pip install --python /opt/venv/bin/python --no-index --no-deps /wheels/*.whl" in (
        dockerfile
    )
    assert "UV_COMPILE_BYTECODE=1" in dockerfile and "git+" not in dockerfile
    assert "pypi.example.com" not in dockerfile
    assert "ARG " not in dockerfile and "PASSWORD" not in dockerfile.upper()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["tool"]["uv"]["index"][0]["url"] == "https://pypi.example.com/simple"
    assert pyproject["tool"]["uv"]["sources"]["mlops-common"] == {"index": "team"}


INVALID_ANSWERS = [
    ({"project_name": "a/b"}, "without slashes"),
    ({"project_name": "x..y"}, "without slashes, backslashes or '..'"),
    ({"project_name": "Churn\\Model"}, "without slashes, backslashes or '..'"),
    # A line break would inject top-level keys into ci.yml (its header comment names the project).
    ({"project_name": "Churn\nname: evil"}, "Use a name on one line"),
    ({"author_name": "Team\n  injected: true"}, "Use one line"),
    ({"project_description": "Churn\r\nx = 1"}, "Use one line"),
    ({"project_slug": "../evil"}, "Use lowercase letters, digits and single dashes"),
    ({"project_slug": "a/b"}, "Use lowercase letters, digits and single dashes"),
    ({"project_slug": "/abs/path"}, "Use lowercase letters, digits and single dashes"),
    ({"package_name": "class"}, "is a Python keyword"),
    ({"package_name": "json"}, "would shadow a standard-library or dependency module"),
    ({"package_name": "mlops_common"}, "would shadow a standard-library or dependency module"),
    ({"package_name": "1abc"}, "not starting with a digit"),
    ({"author_email": "not-an-email"}, "Give a valid e-mail address"),
    ({"cloud": "aws", "aws_region": "moon-1"}, "Use an AWS region such as eu-west-1"),
    ({"cloud": "gcp", "gcp_region": "EU"}, "Use a GCP region such as europe-west1"),
    ({"package_index_url": "http://insecure.example.com"}, "Use an https:// URL"),
    ({"package_index_url": "https://pypi.example.com/simple path"}, "Use an https:// URL"),
    # Credentials would be written in plain text into pyproject, CI, Dockerfile and answers.
    ({"package_index_url": "https://user:secret@pypi.example.com/simple"}, "No credentials"),
    ({"package_index_url": "https://token@pypi.example.com/simple"}, "No credentials"),
    ({"mlflow_tracking_uri": "https://user:pw@mlflow.example.com"}, "No credentials"),
    ({"mlflow_tracking_uri": "https://mlflow.example.com/#x"}, "without spaces, quotes"),
    ({"cloud": "aws", "dvc_remote_url": "s3://key:secret@bucket/dvc"}, "No credentials"),
    ({"mlflow_artifact_location": "s3://key:secret@bucket/mlflow"}, "No credentials"),
    ({"mlflow_artifact_location": "s3://bucket/a b"}, "No spaces, quotes, backslashes"),
    ({"dvc_remote_url": "../x; rm -rf /"}, "No spaces, quotes, backslashes or shell characters"),
    ({"dvc_remote_url": "../x|cat"}, "No spaces, quotes, backslashes or shell characters"),
    ({"dvc_remote_url": "../x&&id"}, "No spaces, quotes, backslashes or shell characters"),
    ({"dvc_remote_url": "../x>out"}, "No spaces, quotes, backslashes or shell characters"),
    ({"dvc_remote_url": "../x#y"}, "No spaces, quotes, backslashes or shell characters"),
    ({"dvc_remote_url": "..\\x"}, "No spaces, quotes, backslashes or shell characters"),
    ({"cloud": "aws", "capture_uri": "gs://bucket/capture"}, "An aws project captures to s3://"),
    ({"capture_uri": "s3://key:secret@bucket/capture"}, "No credentials in the capture URL"),
    ({"capture_uri": "logs/../../elsewhere"}, "No spaces, quotes, backslashes, '..', wildcards"),
    ({"capture_uri": "logs/*"}, "No spaces, quotes, backslashes, '..', wildcards"),
    ({"capture_uri": "logs/x;id"}, "No spaces, quotes, backslashes, '..', wildcards"),
]


@pytest.mark.parametrize(
    ("answers", "message"), INVALID_ANSWERS, ids=[message for _, message in INVALID_ANSWERS]
)
def test_invalid_answer_is_refused_and_nothing_is_written(tmp_path, answers, message):
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=re.escape(message)):
        render(destination, **answers)
    assert not destination.exists() or not any(destination.iterdir())
