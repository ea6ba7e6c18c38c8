"""One pipeline, any orchestrator: ``dvc.yaml`` rendered as an Airflow DAG, a Prefect flow or a
Kubeflow pipeline (``mlops export``).

``dvc.yaml`` stays the one source of truth. :func:`read_pipeline` reads its stages, inputs,
outputs and params and orders them; one small adapter per orchestrator (``airflow``, ``prefect``,
``kfp``) writes the definition, whose every task runs ``dvc repro --single-item <stage>``: DVC
still runs the stage's own ``cmd``, skips it when nothing changed, caches its outputs and records
``dvc.lock``, which is where the training run's lineage tags come from. Running the bare ``cmd``
instead would leave ``dvc.lock`` and the cache behind, and the run would carry the hashes of the
previous data. :func:`export` writes the file, or with ``check=True`` says whether the committed
one is stale.

>>> from mlops_common.orchestrate import export
>>> export(".", "prefect", check=True).state  # doctest: +SKIP
'current'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops_common.errors import InputError
from mlops_common.orchestrate.pipeline import Pipeline, Stage, pipeline_from_dict, read_pipeline
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result

__all__ = [
    "ORCHESTRATORS",
    "TARGETS",
    "ExportResult",
    "Pipeline",
    "Stage",
    "default_path",
    "export",
    "pipeline_from_dict",
    "read_pipeline",
    "render",
    "target_of",
]

#: ``mlops export`` targets.
TARGETS = ("airflow", "prefect", "kfp")
#: The ``orchestrator`` answer of the template (``[tool.mlops] orchestrator``) -> export target.
ORCHESTRATORS = {"dvc": None, "airflow": "airflow", "prefect": "prefect", "kubeflow": "kfp"}


def target_of(orchestrator: str) -> str | None:
    """The export target of an ``orchestrator`` answer (``None`` for plain ``dvc``)."""
    if orchestrator not in ORCHESTRATORS:
        choices = ", ".join(ORCHESTRATORS)
        raise InputError(f"[tool.mlops] orchestrator = {orchestrator!r}: choose one of {choices}")
    return ORCHESTRATORS[orchestrator]


def default_path(target: str) -> str:
    """Where the project commits the definition of ``target``."""
    return _adapter(target).PATH


def _adapter(target: str):
    if target == "airflow":
        from mlops_common.orchestrate import airflow as adapter
    elif target == "prefect":
        from mlops_common.orchestrate import prefect as adapter
    elif target == "kfp":
        from mlops_common.orchestrate import kfp as adapter
    else:
        raise InputError(f"unknown export target {target!r}: choose one of {', '.join(TARGETS)}")
    return adapter


def render(pipeline: Pipeline, target: str, *, name: str, image: str | None = None) -> str:
    """The definition's source text for ``target`` (pure: same pipeline, same text)."""
    adapter = _adapter(target)
    if target == "kfp":
        return adapter.render(pipeline, name, image or f"{name}:latest")
    return adapter.render(pipeline, name)


@dataclass
class ExportResult(Result):
    """What ``mlops export`` did: ``written``/``unchanged``, or under ``--check`` ``current``,
    ``stale`` or ``missing`` (the last two exit 1); ``nothing`` for a plain DVC project."""

    target: str
    path: str
    state: str
    check: bool = False

    @property
    def exit_code(self) -> int:
        return EXIT_NEGATIVE if self.state in ("stale", "missing") else EXIT_OK

    def summary(self) -> str:
        if self.state in ("stale", "missing"):
            why = "does not exist" if self.state == "missing" else "no longer matches dvc.yaml"
            return (
                f"{self.path}: {self.state} ({why}); run `mlops export {self.target}` and commit it"
            )
        if self.state == "current":
            return f"{self.path}: up to date with dvc.yaml"
        if self.state == "nothing":
            return "orchestrator = dvc: dvc.yaml is the whole pipeline, nothing is exported"
        return f"{self.path}: {self.state} from dvc.yaml ({self.target})"


def export(
    root: Path | str,
    target: str,
    *,
    output: Path | str | None = None,
    check: bool = False,
) -> ExportResult:
    """Write the ``target`` definition of the project at ``root`` (default path
    :func:`default_path`, relative to ``root``), or with ``check`` compare it and write nothing.

    The project's name and, for ``kfp``, its image come from ``[tool.mlops]`` (``image``, default
    ``<name>:latest``) and ``[project] name`` of its ``pyproject.toml``.
    """
    folder = Path(root)
    name, image = _project_identity(folder)
    text = render(read_pipeline(folder), target, name=name, image=image)
    path = Path(output) if output is not None else Path(default_path(target))
    shown = str(path)
    if not path.is_absolute():
        path = folder / path
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check:
        state = "missing" if current is None else "current" if current == text else "stale"
    elif current == text:
        state = "unchanged"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        state = "written"
    return ExportResult(target=target, path=shown, state=state, check=check)


def _project_identity(root: Path) -> tuple[str, str | None]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return root.resolve().name, None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{pyproject}: invalid TOML ({exc})") from exc
    mlops = data.get("tool", {}).get("mlops", {})
    name = str(data.get("project", {}).get("name") or root.resolve().name)
    image = mlops.get("image")
    return name, str(image) if image else None
