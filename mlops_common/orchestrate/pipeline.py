"""The pipeline as ``dvc.yaml`` declares it: stages, their inputs and outputs, and their order.

Every orchestrator adapter reads this one model, so the order, the inputs and the outputs are
the same whichever orchestrator runs the stages. :func:`pipeline_from_dict` is pure (a parsed
``dvc.yaml`` in, a :class:`Pipeline` out); :func:`read_pipeline` adds the file.

>>> pipeline = pipeline_from_dict({"stages": {
...     "train": {"cmd": "python train.py", "deps": ["data.csv"], "outs": ["model.pkl"]},
...     "prepare": {"cmd": "python prepare.py", "outs": ["data.csv"]},
... }})
>>> " -> ".join(stage.name for stage in pipeline.stages)
'prepare -> train'
>>> pipeline.stage("train").after
('prepare',)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mlops_common.errors import InputError

__all__ = ["Pipeline", "Stage", "pipeline_from_dict", "read_pipeline"]

# Stage names become task ids, Python identifiers and command arguments in every adapter: keep
# them to what DVC's own examples use (DVC also allows '@' and ':' for foreach/matrix items).
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_OUT_KINDS = ("outs", "metrics", "plots")


@dataclass(frozen=True)
class Stage:
    """One stage of ``dvc.yaml``: what it runs, reads and writes, and the stages it comes after."""

    name: str
    cmd: tuple[str, ...]
    deps: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()  # outs, metrics and plots files, in dvc.yaml's order
    params: tuple[str, ...] = ()  # params.yaml keys (or file:key for another params file)
    after: tuple[str, ...] = ()  # upstream stages: an out of theirs is a dep of this one

    @property
    def command(self) -> tuple[str, ...]:
        """What an orchestrator task runs for this stage: DVC runs the stage's ``cmd`` itself."""
        return ("dvc", "repro", "--single-item", self.name)


@dataclass(frozen=True)
class Pipeline:
    """The stages in a topological order (ties keep dvc.yaml's order)."""

    stages: tuple[Stage, ...]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """``(upstream, downstream)`` pairs of the task graph."""
        return tuple((before, stage.name) for stage in self.stages for before in stage.after)


def _paths(entries: Any, where: str) -> tuple[str, ...]:
    """dvc.yaml lists paths as strings or as one-key mappings ``{path: {cache: false}}``."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise InputError(f"dvc.yaml: {where} must be a list of paths")
    paths = []
    for entry in entries:
        if isinstance(entry, str):
            paths.append(entry)
        elif isinstance(entry, Mapping) and len(entry) == 1:
            paths.append(str(next(iter(entry))))
        else:
            raise InputError(f"dvc.yaml: {where} has an entry that is not a path: {entry!r}")
    return tuple(paths)


def _params(entries: Any, where: str) -> tuple[str, ...]:
    """``- train`` or ``- other.yaml: [key, ...]`` (keys of another params file)."""
    names: list[str] = []
    for entry in entries or ():
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, Mapping):
            for file, keys in entry.items():
                names += [f"{file}:{key}" for key in keys or ()] or [f"{file}:"]
        else:
            raise InputError(f"dvc.yaml: {where} has an entry that is not a params key")
    return tuple(names)


def _covers(out: str, dep: str) -> bool:
    """DVC links a dep to an out when they are the same path or one is inside the other."""
    out_path, dep_path = PurePosixPath(out), PurePosixPath(dep)
    return out_path == dep_path or out_path in dep_path.parents or dep_path in out_path.parents


def pipeline_from_dict(data: Any) -> Pipeline:
    """The :class:`Pipeline` of a parsed ``dvc.yaml``; one :class:`InputError` line when it has
    no stages, a stage without ``cmd``, ``foreach``/``matrix`` stages, or a cycle."""
    raw = data.get("stages") if isinstance(data, Mapping) else None
    if not isinstance(raw, Mapping) or not raw:
        raise InputError("dvc.yaml: no `stages:`; an orchestrator needs at least one stage")
    declared = []
    for name, spec in raw.items():
        name = str(name)
        if not _STAGE_NAME.match(name):
            raise InputError(
                f"dvc.yaml: stage {name!r}: use letters, digits, _ and - (starting with a letter)"
            )
        if not isinstance(spec, Mapping):
            raise InputError(f"dvc.yaml: stage {name!r} is not a mapping")
        if "foreach" in spec or "matrix" in spec:
            raise InputError(
                f"dvc.yaml: stage {name!r} uses foreach/matrix, which `mlops export` does not "
                "expand; write its items as separate stages"
            )
        cmd = spec.get("cmd")
        commands = [cmd] if isinstance(cmd, str) else cmd
        if not commands or not all(isinstance(c, str) and c.strip() for c in commands):
            raise InputError(f"dvc.yaml: stage {name!r} has no `cmd`")
        outs: tuple[str, ...] = ()
        for kind in _OUT_KINDS:
            outs += _paths(spec.get(kind), f"stage {name!r} {kind}")
        declared.append(
            Stage(
                name=name,
                cmd=tuple(commands),
                deps=_paths(spec.get("deps"), f"stage {name!r} deps"),
                outs=outs,
                params=_params(spec.get("params"), f"stage {name!r} params"),
            )
        )
    return Pipeline(_ordered(declared))


def _ordered(declared: list[Stage]) -> tuple[Stage, ...]:
    from dataclasses import replace
    from graphlib import CycleError, TopologicalSorter

    upstream: dict[str, tuple[str, ...]] = {}
    for stage in declared:
        upstream[stage.name] = tuple(
            other.name
            for other in declared
            if other is not stage
            and any(_covers(out, dep) for out in other.outs for dep in stage.deps)
        )
    position = {stage.name: index for index, stage in enumerate(declared)}
    sorter = TopologicalSorter(upstream)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise InputError(f"dvc.yaml: the stages form a cycle ({cycle})") from exc
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order += ready
        sorter.done(*ready)
    by_name = {stage.name: stage for stage in declared}
    return tuple(
        replace(by_name[name], after=tuple(sorted(upstream[name], key=order.index)))
        for name in order
    )


def read_pipeline(root: Path | str = ".") -> Pipeline:
    """The pipeline of the project at ``root`` (its ``dvc.yaml``)."""
    import yaml

    path = Path(root) / "dvc.yaml"
    if not path.is_file():
        raise InputError(f"{path}: not found; run `mlops export` in the project's root folder")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML ({exc})") from exc
    return pipeline_from_dict(data)
