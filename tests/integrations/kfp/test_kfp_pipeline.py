"""The Kubeflow pipeline that `mlops export kfp` writes compiles with the kfp v2 SDK (offline),
and its IR YAML holds one component per stage of dvc.yaml: the project's image, the stage's
`dvc repro --single-item`, the shared workspace volume, and dvc.yaml's task graph."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import yaml

from mlops_common.orchestrate import read_pipeline
from tools import project_workflow as workflow

MLOPS = str(Path(sys.executable).parent / "mlops")


def compiled(project: Path) -> tuple[dict, dict]:
    """`python orchestration/kfp_pipeline.py OUT` (the documented command): the pipeline spec
    and the Kubernetes platform spec of the YAML it writes."""
    out = project / "orchestration" / "kfp_pipeline.yaml"
    subprocess.run(
        [sys.executable, "orchestration/kfp_pipeline.py", str(out)],
        cwd=project,
        check=True,
        timeout=300,
    )
    spec, platform = yaml.safe_load_all(out.read_text(encoding="utf-8"))
    return spec, platform


def assert_matches_dvc_yaml(project: Path, image: str, workspace: str) -> None:
    pipeline = read_pipeline(project)
    spec, platform = compiled(project)
    executors = spec["deploymentSpec"]["executors"]
    tasks = spec["root"]["dag"]["tasks"]
    mounts = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]

    stage_of = {}  # KFP task name -> dvc.yaml stage, read from what the task runs
    for task_name, task in tasks.items():
        component = spec["components"][task["componentRef"]["name"]]
        executor = component["executorLabel"]
        container = executors[executor]["container"]
        assert container["image"] == image, task_name
        *command, stage = container["command"]
        assert command == ["dvc", "--cd", "/workspace", "repro", "--single-item"], task_name
        stage_of[task_name] = stage
        # No KFP inputs: the stage's params stay in params.yaml, where DVC reads them.
        assert "inputDefinitions" not in component, task_name
        assert not task.get("cachingOptions", {}).get("enableCache"), task_name
        [mount] = mounts[executor]["pvcMount"]
        assert mount["mountPath"] == "/workspace"
        assert "workspace_pvc" in str(mount), mount
    assert sorted(stage_of.values()) == sorted(stage.name for stage in pipeline.stages)
    graph = {
        stage_of[name]: sorted(stage_of[dep] for dep in task.get("dependentTasks", []))
        for name, task in tasks.items()
    }
    assert graph == {stage.name: sorted(stage.after) for stage in pipeline.stages}
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters == {
        "workspace_pvc": {
            "defaultValue": workspace,
            "isOptional": True,
            "parameterType": "STRING",
        }
    }
    # The stage table the file carries names each stage's dvc.yaml params.
    namespace = runpy.run_path(str(project / "orchestration" / "kfp_pipeline.py"))
    assert {name: spec["params"] for name, spec in namespace["STAGES"].items()} == {
        stage.name: list(stage.params) for stage in pipeline.stages
    }


def test_the_rendered_kubeflow_pipeline_compiles_and_matches_dvc_yaml(tmp_path: Path) -> None:
    snapshot = workflow.template_snapshot(tmp_path / "template")
    project = workflow.render_project(tmp_path / "p", src=snapshot, orchestrator="kubeflow")
    assert_matches_dvc_yaml(project, "churn-model:latest", "churn-model-workspace")


def test_a_changed_dvc_yaml_is_stale_until_exported_then_compiles_with_its_new_branch(
    tmp_path: Path,
) -> None:
    snapshot = workflow.template_snapshot(tmp_path / "template")
    project = workflow.render_project(tmp_path / "p", src=snapshot, orchestrator="kubeflow")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace('image = "churn-model:latest"', 'image = "registry.example.com/churn:1.2"'),
        encoding="utf-8",
    )
    dvc_yaml = project / "dvc.yaml"
    data = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))
    # A report beside training: it reads the prepared data, so it runs after prepare only.
    data["stages"]["profile"] = {
        "cmd": "mlops suite init data/prepared/train.csv --name profile -o reports/profile.json",
        "deps": ["data/prepared/train.csv"],
        "outs": [{"reports/profile.json": {"cache": False}}],
    }
    dvc_yaml.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    stale = subprocess.run(
        [MLOPS, "export", "--check"], cwd=project, capture_output=True, text=True
    )
    assert stale.returncode == 1
    assert stale.stdout.startswith("orchestration/kfp_pipeline.py: stale")
    subprocess.run([MLOPS, "export"], cwd=project, check=True, capture_output=True)
    assert_matches_dvc_yaml(project, "registry.example.com/churn:1.2", "churn-model-workspace")
    assert read_pipeline(project).stage("profile").after == ("prepare",)


def test_no_task_of_the_compiled_pipeline_runs_after_a_failed_upstream(tmp_path: Path) -> None:
    """KFP runs a task only when every task it depends on succeeded, unless the task has a
    trigger policy (``ignore_upstream_failure``), a retry or an exit handler says otherwise.

    Local execution (``kfp.local``) runs container components only with its DockerRunner, and
    there is no Docker engine here: the compiled IR is what can be checked. Its ``dvc repro``
    command exits non-zero when the stage fails (as under Prefect and Airflow, where the failing
    stage is run for real), so a failed stage fails its task and stops everything after it."""
    snapshot = workflow.template_snapshot(tmp_path / "template")
    project = workflow.render_project(tmp_path / "p", src=snapshot, orchestrator="kubeflow")
    spec, _ = compiled(project)
    tasks = spec["root"]["dag"]["tasks"]
    for name, task in tasks.items():
        component = spec["components"][task["componentRef"]["name"]]
        assert "executorLabel" in component, f"{name}: a sub-DAG (exit handler?) {component}"
        strategy = task.get("triggerPolicy", {}).get("strategy", "ALL_UPSTREAM_TASKS_SUCCEEDED")
        assert strategy == "ALL_UPSTREAM_TASKS_SUCCEEDED", name
        assert "retryPolicy" not in task, name
    # Everything that comes after validate in dvc.yaml waits for it, directly or through others.
    pipeline = read_pipeline(project)
    after = {stage.name: set(stage.after) for stage in pipeline.stages}

    def upstream(stage: str) -> set[str]:
        found = set(after[stage])
        for before in after[stage]:
            found |= upstream(before)
        return found

    downstream = {stage for stage in after if "validate" in upstream(stage)}
    assert downstream >= {"train", "evaluate", "register"}
    stage_of = {
        name: spec["deploymentSpec"]["executors"][
            spec["components"][task["componentRef"]["name"]]["executorLabel"]
        ]["container"]["command"][-1]
        for name, task in tasks.items()
    }
    task_of = {stage: name for name, stage in stage_of.items()}

    def task_upstream(name: str) -> set[str]:
        direct = set(tasks[name].get("dependentTasks", []))
        for before in list(direct):
            direct |= task_upstream(before)
        return direct

    for stage in downstream:
        assert task_of["validate"] in task_upstream(task_of[stage]), stage
