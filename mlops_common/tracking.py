"""MLflow runs with automatic lineage, and where the tracking store lives.

A training stage wraps its work in :func:`tracked_run`; the run then carries, without any extra
code, what is needed to reproduce it: the git commit and whether the tree was dirty, the DVC
hashes of the data from ``dvc.lock``, every value of ``params.yaml`` (nested keys joined with
``.``), the Python and key package versions, and the validation result of the data used.

The store is the one :func:`mlops_common.store.resolve_tracking_uri` names (the explicit
argument, ``MLFLOW_TRACKING_URI``, ``tracking_uri`` in ``[tool.mlops]``, then the embedded sqlite
store ``<project root>/mlflow.db``); a remote ``http(s)`` server is probed first, so an
unreachable one fails in seconds with :class:`~mlops_common.errors.TrackingUnavailable`. MLflow's
process-wide URIs point at that store for the duration of the run only
(:func:`mlops_common.store.mlflow_uris`).

>>> from mlops_common.tracking import tracked_run, log_model
>>> with tracked_run("train", validation="reports/validation.json") as run:  # doctest: +SKIP
...     model = LogisticRegression().fit(X, y)
...     mlflow.log_metric("accuracy", accuracy)
...     info = log_model(model, input_example=X.head(5))

The same works as a decorator: ``@tracked_run("train")`` above ``def main(): ...``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import platform
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mlops_common import tags as tag_names
from mlops_common.config import ProjectConfig, load_project_config
from mlops_common.errors import InputError

# Where the store is lives in mlops_common.store; these names stay importable from here because
# rendered projects (stages.py of earlier template versions) import them from this module.
from mlops_common.store import (
    check_tracking_server,
    mlflow_uris,
    resolve_artifact_location,
    resolve_tracking_uri,
)

__all__ = [
    "KEY_PACKAGES",
    "MODEL_PACKAGES",
    "Lineage",
    "TrackedRun",
    "collect_lineage",
    "flatten_params",
    "log_model",
    "model_pip_requirements",
    "tracked_run",
]

#: Packages whose installed versions every run records (``mlops.pkg.<name>`` tags).
KEY_PACKAGES = ("mlops-common", "mlflow", "scikit-learn", "pandas", "numpy")

#: What a logged scikit-learn model needs at load time; pinned from the installed versions.
MODEL_PACKAGES = ("mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", "scipy")

# MLflow rejects param values above this length (6000 in MLflow 2.x and 3.x).
_MAX_PARAM_VALUE = 6000
_F = TypeVar("_F", bound=Callable[..., Any])


# --------------------------------------------------------------------------------------- lineage


@dataclass(frozen=True)
class Lineage:
    """What a run was made from: code, data, parameters and environment."""

    git_commit: str = "unknown"
    git_dirty: bool | None = None
    dvc_hashes: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    python_version: str = field(default_factory=platform.python_version)
    packages: dict[str, str] = field(default_factory=dict)
    #: The feature store the training set came from (FeatureSet.lineage()); empty without one.
    features: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def tags(self) -> dict[str, str]:
        """The MLflow run tags for this lineage (params are logged as params, not tags)."""
        dirty = "unknown" if self.git_dirty is None else str(self.git_dirty).lower()
        tags = {
            tag_names.GIT_COMMIT: self.git_commit,
            tag_names.GIT_DIRTY: dirty,
            tag_names.PYTHON: self.python_version,
        }
        if self.git_commit != "unknown":
            # MLflow's UI shows this standard tag as the run's source version.
            tags[tag_names.MLFLOW_GIT_COMMIT] = self.git_commit
        tags.update({tag_names.PKG_PREFIX + name: v for name, v in self.packages.items()})
        tags.update({tag_names.DVC_PREFIX + path: md5 for path, md5 in self.dvc_hashes.items()})
        if self.features:
            tags[tag_names.FEAST_PROJECT] = str(self.features["project"])
            tags[tag_names.FEAST_SERVICE] = str(self.features["service"])
            for view, version in self.features["views"].items():
                tags[tag_names.FEAST_VIEW_PREFIX + view] = f"v{version}"
        return tags


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping to one level, keys joined with ``.``; lists become JSON strings.

    >>> flatten_params({"train": {"C": 1.0, "cols": ["a", "b"]}, "seed": 7})
    {'train.C': 1.0, 'train.cols': '["a", "b"]', 'seed': 7}
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = json.dumps(list(value), default=str)
        else:
            flat[name] = value
    return flat


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _git_state(root: Path) -> tuple[str, bool | None]:
    commit = _git(root, "rev-parse", "HEAD")
    if not commit:
        return "unknown", None
    # dvc.lock is DVC's record of the run in progress: `dvc repro` rewrites it stage by stage and
    # (core.autostage) stages it after each `dvc repro --single-item`, the way orchestrators run
    # the stages. Its content is in the mlops.dvc.* tags; it does not make the code dirty.
    status = _git(
        root,
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude,glob)**/dvc.lock",
    )
    return commit, None if status is None else bool(status)


def _dvc_hashes(root: Path) -> dict[str, str]:
    """``path -> md5`` of every dep and out recorded in ``dvc.lock`` (empty when absent)."""
    lock = root / "dvc.lock"
    if not lock.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(lock.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{lock}: invalid YAML ({exc}); run `dvc repro` to rewrite it") from exc
    hashes: dict[str, str] = {}
    stages = data.get("stages", {}) if isinstance(data, dict) else {}
    for stage in stages.values() if isinstance(stages, dict) else ():
        if not isinstance(stage, dict):
            continue
        entries = [*(stage.get("deps") or ()), *(stage.get("outs") or ())]
        for entry in entries:
            if isinstance(entry, dict) and entry.get("path") and entry.get("md5"):
                hashes[str(entry["path"])] = str(entry["md5"])
    return dict(sorted(hashes.items()))


def _package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def collect_lineage(
    root: Path | str | None = None,
    params_file: Path | str | None = "params.yaml",
    *,
    config: ProjectConfig | None = None,
) -> Lineage:
    """Lineage of the project at ``root`` (default: the project root above the working dir).

    Works outside git (commit ``"unknown"``), without ``dvc.lock`` and without ``params.yaml``.
    A project whose ``config`` (default: read at ``root``) names a Feast feature store also gets
    its feature views and their registry versions.

    >>> collect_lineage(".").python_version  # doctest: +SKIP
    '3.11.7'
    """
    folder = Path(root) if root is not None else load_project_config().root
    commit, dirty = _git_state(folder)
    params: dict[str, Any] = {}
    if params_file is not None:
        params_path = Path(params_file)
        if not params_path.is_absolute():
            params_path = folder / params_path
        if params_path.is_file():
            from mlops_common.config import load_params

            params = flatten_params(load_params(params_path))
    # A project with a feature store: its views and their registry versions (Feast is
    # imported only then).
    from mlops_common.feature_store import FeatureSet, FeatureStoreSettings

    settings = FeatureStoreSettings.from_config(config or load_project_config(folder))
    features = FeatureSet.from_settings(settings).lineage() if settings else {}
    packages = (*KEY_PACKAGES, "feast") if settings else KEY_PACKAGES
    return Lineage(
        git_commit=commit,
        git_dirty=dirty,
        dvc_hashes=_dvc_hashes(folder),
        params=params,
        packages=_package_versions(packages),
        features=features,
    )


def _validation_payload(validation: Any) -> dict[str, Any]:
    """A ValidationResult, its ``to_dict()``, or the path of its JSON file, as a dict."""
    if isinstance(validation, (str, Path)):
        path = Path(validation)
        if not path.is_file():
            raise InputError(
                f"{path}: validation result not found; run `mlops validate ... --output {path}` "
                f"first or pass validation=None"
            )
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc}); rerun the validation") from exc
    elif isinstance(validation, Mapping):
        payload = dict(validation)
    elif hasattr(validation, "to_dict"):
        payload = validation.to_dict()
    else:
        raise InputError(
            f"validation={type(validation).__name__}: expected a ValidationResult, a dict or the "
            f"path of its JSON file"
        )
    if not isinstance(payload, dict) or not isinstance(payload.get("success"), bool):
        raise InputError(
            "validation result has no boolean `success` field; pass the output of "
            "mlops_common.validation.validate()"
        )
    return payload


# ------------------------------------------------------------------------------------ the run


class TrackedRun(contextlib.ContextDecorator):
    """Context manager (yields the MLflow ``ActiveRun``) and decorator; see :func:`tracked_run`."""

    def __init__(
        self,
        run_name: str | None = None,
        *,
        experiment: str | None = None,
        params_file: Path | str | None = "params.yaml",
        validation: Any = None,
        tags: Mapping[str, Any] | None = None,
        tracking_uri: str | None = None,
        config: ProjectConfig | None = None,
    ) -> None:
        self.run_name = run_name
        self.experiment = experiment
        self.params_file = params_file
        self.validation = validation
        self.tags = dict(tags or {})
        self.tracking_uri = tracking_uri
        self.config = config
        self.lineage: Lineage | None = None
        self.run: Any = None
        self._uris: contextlib.ExitStack | None = None

    def _recreate_cm(self) -> TrackedRun:
        # A decorated function may run many times: each call gets its own run and lineage.
        fresh = copy.copy(self)
        fresh.tags = dict(self.tags)
        fresh.lineage = None
        fresh.run = None
        fresh._uris = None
        return fresh

    def __enter__(self) -> Any:
        cfg = self.config if self.config is not None else load_project_config()
        uri = resolve_tracking_uri(self.tracking_uri, cfg)
        check_tracking_server(uri)
        validation = None if self.validation is None else _validation_payload(self.validation)
        _ensure_sqlite_folder(uri)

        import mlflow

        # Left set, the URIs (and the MLFLOW_TRACKING_URI that MLflow exports) would outrank the
        # project config of every later call in this process; __exit__ puts them back.
        self._uris = contextlib.ExitStack()
        self._uris.enter_context(mlflow_uris(uri))
        try:
            experiment_id = _experiment_id(
                mlflow, self.experiment or cfg.experiment, resolve_artifact_location(cfg, uri)
            )
            self.lineage = collect_lineage(cfg.root, self.params_file, config=cfg)
            tags = {**self.lineage.tags(), **{k: str(v) for k, v in self.tags.items()}}
            if validation is not None:
                tags[tag_names.VALIDATION_SUCCESS] = str(validation["success"]).lower()
                if validation.get("suite_name"):
                    tags[tag_names.VALIDATION_SUITE] = str(validation["suite_name"])
            self.run = mlflow.start_run(
                run_name=self.run_name,
                experiment_id=experiment_id,
                tags=tags,
                nested=mlflow.active_run() is not None,
            )
        except BaseException:
            self._restore_uris()
            raise
        try:
            if self.lineage.params:
                mlflow.log_params(
                    {k: _param_value(v) for k, v in self.lineage.params.items()},
                )
            if validation is not None:
                mlflow.log_metric("validation_success", 1.0 if validation["success"] else 0.0)
                mlflow.log_dict(validation, "validation/validation_result.json")
        except BaseException:
            mlflow.end_run(status="FAILED")
            self._restore_uris()
            raise
        return self.run

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        import mlflow

        try:
            mlflow.end_run(status="FINISHED" if exc_type is None else "FAILED")
        finally:
            self._restore_uris()
        return False

    def _restore_uris(self) -> None:
        if self._uris is not None:
            self._uris.close()
            self._uris = None


def tracked_run(
    run_name: str | Callable[..., Any] | None = None,
    *,
    experiment: str | None = None,
    params_file: Path | str | None = "params.yaml",
    validation: Any = None,
    tags: Mapping[str, Any] | None = None,
    tracking_uri: str | None = None,
    config: ProjectConfig | None = None,
) -> Any:
    """An MLflow run that records its lineage; a context manager and a decorator.

    ``experiment`` defaults to ``[tool.mlops] experiment``; ``params_file`` is read relative to
    the project root; ``validation`` is a ``ValidationResult``, its dict, or its JSON path
    (logged as the tag ``mlops.validation.success``, the metric ``validation_success`` and the
    artifact ``validation/validation_result.json``). The run ends ``FAILED`` when the body raises.
    MLflow's process-wide URIs point at the project's store inside the block only; afterwards
    they are what they were before, so MLflow calls after it pass their own URI (or use
    :func:`mlops_common.store.mlflow_uris`).

    >>> with tracked_run("train") as run:  # doctest: +SKIP
    ...     mlflow.log_metric("accuracy", 0.93)
    >>> @tracked_run("train")  # doctest: +SKIP
    ... def main(): ...
    """
    # Bare ``@tracked_run`` above a function: the run is named after it.
    function = run_name if callable(run_name) else None
    run = TrackedRun(
        function.__name__ if function is not None else run_name,
        experiment=experiment,
        params_file=params_file,
        validation=validation,
        tags=tags,
        tracking_uri=tracking_uri,
        config=config,
    )
    return run(function) if function is not None else run


def _param_value(value: Any) -> str:
    # str() like MLflow itself, so a param reads the same whichever way it was logged.
    return str(value)[:_MAX_PARAM_VALUE]


def _ensure_sqlite_folder(uri: str) -> None:
    """sqlite cannot create the folder of its file; MLflow's error then hides the cause."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and ":memory:" not in uri:
        Path(uri[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


def _experiment_id(mlflow: Any, name: str, artifact_location: str | None) -> str:
    from mlflow.exceptions import MlflowException

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            raise InputError(
                f"experiment {name!r} is deleted in the tracking store; restore it with "
                f"`mlflow experiments restore` or choose another name"
            )
        return experiment.experiment_id
    try:
        return mlflow.create_experiment(name, artifact_location=artifact_location)
    except MlflowException:
        # Another process created it between our lookup and create.
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


# -------------------------------------------------------------------------------------- models


def model_pip_requirements(names: tuple[str, ...] = MODEL_PACKAGES) -> list[str]:
    """``name==version`` for the installed packages a scikit-learn model needs to load.

    Passing these to MLflow skips its requirement inference, which reloads the model in a
    subprocess (~2.7 s per ``log_model``).

    >>> model_pip_requirements()  # doctest: +SKIP
    ['mlflow==3.17.2', 'scikit-learn==1.9.1', 'cloudpickle==3.1.1', 'numpy==2.4.6', ...]
    """
    return [
        f"{name}=={version}"
        for name, version in _package_versions(names).items()
        if version != "not installed"
    ]


def log_model(
    model: Any,
    *,
    input_example: Any,
    name: str = "model",
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
    reference: Any = None,
    categorical: tuple[str, ...] = (),
) -> Any:
    """Log a scikit-learn model in the active run, with a signature inferred from
    ``input_example`` and explicit pip requirements; returns MLflow's ``ModelInfo``.

    ``reference`` (the training features) is summarised into a drift reference profile
    (:func:`mlops_common.monitoring.profile.build_profile`; ``categorical`` forces columns to
    categories) logged in the same run, so ``mlops drift models:/NAME@champion WINDOW`` needs no
    training data.

    >>> info = log_model(model, input_example=X_train.head(5))  # doctest: +SKIP
    >>> info.model_uri  # doctest: +SKIP
    'models:/m-...'
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    predictions = model.predict(input_example)
    signature = infer_signature(input_example, predictions)
    kwargs: dict[str, Any] = {
        "signature": signature,
        "input_example": input_example,
        "pip_requirements": pip_requirements
        if pip_requirements is not None
        else model_pip_requirements(),
        "registered_model_name": registered_model_name,
        # We trained the model in this process, so cloudpickle is safe; MLflow 3's default (skops)
        # refuses tree ensembles unless every type is listed as trusted.
        "serialization_format": mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
    }
    if int(mlflow.__version__.split(".")[0]) >= 3:
        kwargs["name"] = name
    else:  # pragma: no cover - MLflow 2.x names the argument artifact_path
        kwargs["artifact_path"] = name
    info = mlflow.sklearn.log_model(model, **kwargs)
    _record_model_digest(info.model_uri, name)
    if reference is not None:
        from mlops_common.monitoring.profile import PROFILE_ARTIFACT, build_profile

        profile = build_profile(reference, categorical=categorical, source="training data")
        mlflow.log_dict(profile.to_dict(), PROFILE_ARTIFACT)
    return info


def _record_model_digest(model_uri: str, name: str) -> None:
    """Tag the active run with the digest of the files just logged (see mlops_common.integrity):
    hashed from a fresh download, so it is what a later load will download and check."""
    import tempfile

    import mlflow

    from mlops_common import tags
    from mlops_common.integrity import model_digest

    with tempfile.TemporaryDirectory(prefix="mlops-digest-") as scratch:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=scratch)
        mlflow.set_tag(f"{tags.MODEL_DIGEST}.{name}", model_digest(local))
