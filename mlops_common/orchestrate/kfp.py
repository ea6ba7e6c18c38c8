"""``mlops export kfp``: a Kubeflow Pipelines (kfp v2) pipeline, one component per stage.

Each component runs ``dvc repro --single-item <stage>`` in the project's image, in the project's
working copy on a shared volume (a PersistentVolumeClaim mounted at ``/workspace``): DVC's cache,
``dvc.lock`` and the outputs of earlier stages are where the next stage looks for them, exactly as
under ``dvc repro`` on one machine. KFP's own result cache is switched off; DVC decides what reruns.
"""

from __future__ import annotations

from mlops_common.orchestrate import _source
from mlops_common.orchestrate.pipeline import Pipeline

__all__ = ["PATH", "WORKSPACE", "component_name", "render"]

PATH = "orchestration/kfp_pipeline.py"
WORKSPACE = "/workspace"

_RUN = """\
Compile it (kfp v2 SDK, offline) and submit the YAML to a Kubeflow Pipelines endpoint:
    python orchestration/kfp_pipeline.py orchestration/kfp_pipeline.yaml
    kfp run create --experiment-name NAME --package-file orchestration/kfp_pipeline.yaml
The image (IMAGE below, from [tool.mlops] image) holds the project's environment; the volume
claim named by the `workspace_pvc` parameter holds its git working copy.
"""


def component_name(stage: str) -> str:
    """The component function of a stage (a Python identifier)."""
    return "stage_" + stage.replace("-", "_")


def render(pipeline: Pipeline, name: str, image: str) -> str:
    """The pipeline's source; ``name`` is the project's distribution name, ``image`` the
    container image every component runs in."""
    components = "".join(
        f"""

@dsl.container_component
def {component_name(stage.name)}():
    return _repro({_source.literal(stage.name)})
"""
        for stage in pipeline.stages
    )
    tasks = []
    for stage in pipeline.stages:
        variable = "task_" + stage.name.replace("-", "_")
        tasks.append(f"    {variable} = _task({component_name(stage.name)}(), workspace_pvc)")
        if stage.after:
            upstream = ", ".join("task_" + before.replace("-", "_") for before in stage.after)
            tasks.append(f"    {variable}.after({upstream})")
    return (
        _source.header("Kubeflow Pipelines", "kfp", _RUN)
        # No `from __future__ import annotations`: kfp reads the parameters' real types.
        + "\nimport sys\n\n"
        "from kfp import compiler, dsl, kubernetes\n\n"
        + _source.stage_table(pipeline)
        + f"\nIMAGE = {_source.literal(image)}\nWORKSPACE = {_source.literal(WORKSPACE)}\n"
        + '''

def _repro(stage: str) -> dsl.ContainerSpec:
    """`dvc repro --single-item STAGE` in the project's working copy, in the project's image."""
    command = ["dvc", "--cd", WORKSPACE, "repro", "--single-item", stage]
    return dsl.ContainerSpec(image=IMAGE, command=command)


def _task(task: dsl.PipelineTask, workspace_pvc: str) -> dsl.PipelineTask:
    # DVC, not KFP, decides what reruns; the working copy is shared by every stage.
    task.set_caching_options(False)
    kubernetes.mount_pvc(task, pvc_name=workspace_pvc, mount_path=WORKSPACE)
    return task
'''
        + components
        + f"""

@dsl.pipeline(
    name={_source.literal(name + "-pipeline")},
    description="The stages of dvc.yaml, in order.",
)
def pipeline(
    workspace_pvc: str = {_source.literal(name + "-workspace")},
) -> None:
{chr(10).join(tasks)}


if __name__ == "__main__":
    compiler.Compiler().compile(pipeline, sys.argv[1] if len(sys.argv) > 1 else "pipeline.yaml")
"""
    )
