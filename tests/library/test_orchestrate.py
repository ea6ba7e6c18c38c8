"""mlops export: dvc.yaml read once, written for Airflow, Prefect and Kubeflow, checked when stale.

The orchestrators themselves run in their own sessions (tests/integrations/{prefect,airflow,kfp});
here the reader, the exporter and the CLI run on real files, and the generated sources go through
the real Python compiler and ruff.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_common.errors import InputError
from mlops_common.orchestrate import TARGETS, default_path, export, pipeline_from_dict

BIN = Path(sys.executable).parent
PIPELINE = {
    "stages": {
        "prepare": {"cmd": "python prepare.py", "deps": ["src/data.py"], "outs": ["data/split"]},
        "report": {"cmd": "python report.py", "deps": ["data/raw.csv"], "outs": ["r.json"]},
        "train": {
            "cmd": ["python train.py", "echo done"],
            "deps": ["data/split/train.csv"],
            "params": ["train", {"other.yaml": ["seed"]}],
            "outs": ["model.pkl", {"run.json": {"cache": False}}],
        },
        "evaluate": {
            "cmd": "python evaluate.py",
            "deps": ["model.pkl", "data/split/test.csv"],
            "metrics": [{"eval.json": {"cache": False}}],
        },
        "fetch": {"cmd": "python fetch.py", "outs": ["data/raw.csv"]},
    }
}


def project(tmp_path: Path, pipeline: dict | None = None, orchestrator: str = "dvc") -> Path:
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(pipeline or PIPELINE), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "churn-model"\n\n[tool.mlops]\norchestrator = "{orchestrator}"\n',
        encoding="utf-8",
    )
    return tmp_path


def mlops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mlops"), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_stages_run_after_every_stage_whose_outputs_they_read() -> None:
    pipeline = pipeline_from_dict(PIPELINE)
    assert [s.name for s in pipeline.stages] == ["prepare", "fetch", "report", "train", "evaluate"]
    assert set(pipeline.edges) == {
        ("prepare", "train"),  # data/split/train.csv is inside the out data/split
        ("fetch", "report"),
        ("prepare", "evaluate"),
        ("train", "evaluate"),
    }
    train = pipeline.stage("train")
    assert train.outs == ("model.pkl", "run.json")
    assert train.params == ("train", "other.yaml:seed")
    assert train.cmd == ("python train.py", "echo done")
    assert train.command == ("dvc", "repro", "--single-item", "train")
    assert pipeline.stage("evaluate").outs == ("eval.json",)


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ({}, "no `stages:`"),
        ({"a": {"deps": ["x"]}}, "stage 'a' has no `cmd`"),
        ({"a": {"foreach": [1, 2], "do": {"cmd": "x"}}}, "foreach/matrix"),
        ({"bad name": {"cmd": "x"}}, "use letters, digits"),
        (
            {
                "a": {"cmd": "x", "deps": ["b.txt"], "outs": ["a.txt"]},
                "b": {"cmd": "y", "deps": ["a.txt"], "outs": ["b.txt"]},
            },
            "cycle",
        ),
    ],
)
def test_an_unusable_dvc_yaml_is_one_input_error(stages: dict, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        pipeline_from_dict({"stages": stages})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("target", TARGETS)
def test_each_definition_compiles_passes_ruff_and_names_every_stage(
    tmp_path: Path, target: str
) -> None:
    root = project(tmp_path)
    result = export(root, target)
    assert (result.state, result.path) == ("written", default_path(target))
    path = root / result.path
    source = path.read_text(encoding="utf-8")
    compile(source, str(path), "exec")
    for stage in PIPELINE["stages"]:
        assert f'"{stage}": {{' in source
    for tool in (["check"], ["format", "--check"]):
        linted = subprocess.run(
            [str(BIN / "ruff"), *tool, "--isolated", "--line-length", "100", str(path)],
            capture_output=True,
            text=True,
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr
    assert export(root, target).state == "unchanged"


def test_check_fails_with_one_line_naming_the_stale_file_and_writes_nothing(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, orchestrator="prefect")
    missing = mlops(root, "export", "--check")
    assert missing.returncode == 1
    assert missing.stdout.strip() == (
        "orchestration/prefect_flow.py: missing (does not exist); run `mlops export prefect` "
        "and commit it"
    )
    assert mlops(root, "export").returncode == 0
    current = mlops(root, "export", "--check")
    assert (current.returncode, current.stdout.strip()) == (
        0,
        "orchestration/prefect_flow.py: up to date with dvc.yaml",
    )
    changed = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))
    changed["stages"]["publish"] = {"cmd": "python publish.py", "deps": ["eval.json"]}
    (root / "dvc.yaml").write_text(yaml.safe_dump(changed), encoding="utf-8")
    before = (root / "orchestration" / "prefect_flow.py").read_bytes()
    stale = mlops(root, "export", "--check")
    assert stale.returncode == 1
    assert stale.stdout.splitlines() == [
        "orchestration/prefect_flow.py: stale (no longer matches dvc.yaml); run "
        "`mlops export prefect` and commit it"
    ]
    assert (root / "orchestration" / "prefect_flow.py").read_bytes() == before
    assert mlops(root, "export", "prefect").returncode == 0
    assert "publish" in (root / "orchestration" / "prefect_flow.py").read_text(encoding="utf-8")


def test_export_to_another_path_and_as_json(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = mlops(root, "export", "airflow", "--output", "dags/pipeline.py", "--json")
    assert result.returncode == 0, result.stderr
    assert '"state": "written"' in result.stdout
    assert (root / "dags" / "pipeline.py").is_file()
    assert mlops(root, "export", "airflow", "-o", "dags/pipeline.py", "--check").returncode == 0


def test_a_plain_dvc_project_has_nothing_to_check_but_export_needs_a_target(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    assert mlops(root, "export", "--check").returncode == 0
    refused = mlops(root, "export")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: [tool.mlops] orchestrator is dvc: name one, e.g. `mlops export prefect`"
    )
    assert not (root / "orchestration").exists()


def test_an_unknown_orchestrator_or_a_missing_dvc_yaml_is_bad_input(tmp_path: Path) -> None:
    root = project(tmp_path, orchestrator="luigi")
    unknown = mlops(root, "export", "--check")
    assert unknown.returncode == 2
    assert "choose one of dvc, airflow, prefect, kubeflow" in unknown.stderr
    (root / "dvc.yaml").unlink()
    missing = mlops(root, "export", "kfp")
    assert missing.returncode == 2
    assert "dvc.yaml: not found" in missing.stderr
    assert shutil.which("mlops", path=str(BIN))
