"""Loading the model behind a registry alias (or a model URI) for the service.

:func:`load_served_model` resolves ``models:/<name>@<alias>`` through :mod:`mlops_common.store`,
downloads that exact version, reads its MLflow signature into :class:`ColumnSpec` columns and its
run's git/DVC tags into lineage, and wraps the model in a predictor
(:mod:`mlops_common.serving.predictors`).

>>> served = load_served_model(model_name="churn-model")  # doctest: +SKIP
>>> served.version, [column.name for column in served.columns]  # doctest: +SKIP
('3', ['tenure', 'monthly_charges'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_common import tags as tag_names
from mlops_common.errors import ConfigError, RegistryError
from mlops_common.serving.predictors import pyfunc_predictor, sklearn_predictor

__all__ = ["SCHEMA_TYPES", "ColumnSpec", "ServedModel", "load_served_model", "parse_models_uri"]

# MLflow signature column type -> the Python type a JSON value must already have (strict).
SCHEMA_TYPES: dict[str, type] = {
    "double": float,
    "float": float,
    "long": int,
    "integer": int,
    "string": str,
    "boolean": bool,
}


@dataclass(frozen=True)
class ColumnSpec:
    """One input column of the model signature."""

    name: str
    type: str  # MLflow DataType name: double, float, long, integer, string, boolean
    required: bool = True


@dataclass
class ServedModel:
    """A loaded model with what the service needs to validate, predict and describe it."""

    uri: str
    flavor: str  # "sklearn" (native call) or "pyfunc"
    columns: list[ColumnSpec]
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    run_id: str | None = None
    git_commit: str | None = None
    data_version: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, str] = field(default_factory=dict)
    model_version_tags: dict[str, str] = field(default_factory=dict)
    signature: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None
    #: "verified" (files match the digest recorded at logging) or "unrecorded" (no digest).
    integrity: str = "unrecorded"
    predict: Callable[[list[tuple[Any, ...]]], list[Any]] | None = field(
        default=None, repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("predict")
        data["columns"] = [asdict(column) for column in self.columns]
        return data


def parse_models_uri(uri: str) -> tuple[str | None, str | None, str | None]:
    """``models:/name/3`` -> (name, "3", None); ``models:/name@champion`` -> (name, None, alias)."""
    if not uri.startswith("models:/"):
        return None, None, None
    body = uri[len("models:/") :].strip("/").split("/")[0]
    if "@" in body:
        name, alias = body.split("@", 1)
        return name, None, alias
    parts = uri[len("models:/") :].strip("/").split("/")
    if len(parts) >= 2 and parts[1].isdigit():
        return parts[0], parts[1], None
    return (parts[0] or None), None, None


def _columns_from_signature(signature: Any, uri: str) -> list[ColumnSpec]:
    hint = "log the model with a signature (mlflow.models.infer_signature) and register it again"
    if signature is None or signature.inputs is None:
        raise ConfigError(
            f"{uri}: the model has no signature, so requests cannot be validated; {hint}"
        )
    schema = signature.inputs
    if schema.is_tensor_spec() or not schema.has_input_names():
        raise ConfigError(f"{uri}: the signature is not a list of named columns; {hint}")
    columns = []
    for spec in schema.inputs:
        type_name = getattr(getattr(spec, "type", None), "name", None)
        if type_name not in SCHEMA_TYPES:
            raise ConfigError(
                f"{uri}: column {spec.name!r} has type {spec.type!s}, which the service cannot "
                f"validate (supported: {', '.join(SCHEMA_TYPES)}); cast it before logging"
            )
        columns.append(ColumnSpec(spec.name, type_name, bool(getattr(spec, "required", True))))
    return columns


def _lineage_from_tags(tags: dict[str, str]) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """The git commit, the DVC hashes (path -> md5) and every git/DVC tag the run recorded.

    ``mlops_common.tracking`` writes ``mlops.git.commit``, ``mlops.git.dirty`` and
    ``mlops.dvc.<path>``; MLflow itself may add ``mlflow.source.git.commit``. Tags from other
    tools are kept too, as long as their key names git or DVC.
    """
    lineage = {
        key: value
        for key, value in sorted(tags.items())
        if "git" in key.lower() or "dvc" in key.lower()
    }
    commit_keys = [key for key in lineage if "git" in key.lower() and "commit" in key.lower()]
    commit_keys.sort(key=lambda key: (key != tag_names.GIT_COMMIT, key.startswith("mlflow."), key))
    git_commit = lineage[commit_keys[0]] if commit_keys else None
    data_version = {}
    for key, value in lineage.items():
        if "dvc" in key.lower():
            ours = key.startswith(tag_names.PREFIX)
            path = key.split("dvc", 1)[1].lstrip("._:/") if ours else key
            data_version[path or key] = value
    return git_commit, data_version, lineage


def load_served_model(
    model_uri: str | None = None,
    *,
    model_name: str | None = None,
    alias: str = "champion",
    tracking_uri: str | None = None,
) -> ServedModel:
    """Resolve, download and load the model, with its signature columns and lineage.

    ``model_uri`` wins; otherwise ``models:/<model_name>@<alias>`` where ``model_name`` defaults
    to the project's ``[tool.mlops] model_name``. Raises ``ConfigError`` for a model without a
    usable signature and ``RegistryError`` when the name, alias or URI does not resolve.

    >>> served = load_served_model(model_name="churn-model")  # doctest: +SKIP
    >>> served.version, [column.name for column in served.columns]  # doctest: +SKIP
    ('3', ['tenure', 'monthly_charges'])
    """
    from mlops_common.config import load_project_config

    config = None
    if tracking_uri is None or (model_uri is None and model_name is None):
        config = load_project_config()
    from mlops_common import store

    if tracking_uri is None:
        tracking_uri = store.resolve_tracking_uri(None, config)
    if model_uri is None:
        model_name = model_name or config.model_name
        model_uri = f"models:/{model_name}@{alias}"
        served_alias: str | None = alias
    else:
        parsed_name, _, served_alias = parse_models_uri(model_uri)
        model_name = parsed_name or model_name

    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    client = store.client(tracking_uri, probe=False)
    version = None
    run_id = None
    model_version_tags: dict[str, str] = {}
    name_in_uri, version_in_uri, alias_in_uri = parse_models_uri(model_uri)
    try:
        if name_in_uri and (alias_in_uri or version_in_uri):
            model_version = store.model_version(
                client, name_in_uri, version=version_in_uri, alias=alias_in_uri
            )
            version = str(model_version.version)
            run_id = model_version.run_id or None
            model_version_tags = dict(model_version.tags or {})
            # The storage location of this exact version: a promotion during startup cannot
            # mix two versions, and MLflow's own models:/ resolution would ignore our client's
            # registry URI in favour of the process-wide one.
            download_uri = client.get_model_version_download_uri(name_in_uri, version)
        elif name_in_uri:  # models:/<model_id>, a logged (unregistered) model
            logged = client.get_logged_model(name_in_uri)
            run_id = logged.source_run_id or None
            download_uri = logged.artifact_location
            if model_name == name_in_uri:  # the URI held an id, not a registered name
                model_name = logged.name or model_name
        else:
            download_uri = model_uri
        local_path = mlflow.artifacts.download_artifacts(
            artifact_uri=download_uri,
            tracking_uri=tracking_uri,
            registry_uri=store.resolve_registry_uri(tracking_uri),
        )
    except (MlflowException, RegistryError) as exc:
        reason = exc.message if isinstance(exc, MlflowException) else str(exc)
        raise RegistryError(
            f"{model_uri}: cannot resolve the model at {tracking_uri} ({reason}); check the "
            f"model name and alias (`dvc repro` registers a champion) or pass --model-uri"
        ) from exc
    except OSError as exc:
        raise RegistryError(
            f"{model_uri}: cannot download the model ({exc}); check the tracking URI and "
            f"artifact location"
        ) from exc

    mlmodel_path = Path(local_path) / "MLmodel"
    if not mlmodel_path.is_file():
        raise RegistryError(f"{model_uri}: no MLmodel file at {local_path}; is it an MLflow model?")
    meta = Model.load(str(mlmodel_path))
    columns = _columns_from_signature(meta.signature, model_uri)
    run_id = run_id or meta.run_id or None

    tags: dict[str, str] = {}
    if run_id:
        try:
            tags = dict(client.get_run(run_id).data.tags)
        except MlflowException:
            tags = {}  # the run was deleted or lives in another store: serve without lineage
    git_commit, data_version, lineage = _lineage_from_tags(tags)

    # Check the files before unpickling them (trust model: mlops_common.integrity).
    from mlops_common.integrity import verify_model

    integrity = verify_model(local_path, model_version_tags.get(tag_names.MODEL_DIGEST), model_uri)

    if "sklearn" in meta.flavors:
        import mlflow.sklearn

        predictor = sklearn_predictor(mlflow.sklearn.load_model(local_path), columns)
        flavor = "sklearn"
    else:
        import mlflow.pyfunc

        predictor = pyfunc_predictor(mlflow.pyfunc.load_model(local_path), columns)
        flavor = "pyfunc"

    signature = {
        "inputs": meta.signature.inputs.to_dict(),
        "outputs": meta.signature.outputs.to_dict() if meta.signature.outputs else None,
    }
    return ServedModel(
        uri=model_uri,
        flavor=flavor,
        columns=columns,
        name=model_name,
        version=version,
        alias=served_alias,
        run_id=run_id,
        git_commit=git_commit,
        data_version=data_version,
        lineage=lineage,
        model_version_tags=model_version_tags,
        signature=signature,
        tracking_uri=tracking_uri,
        integrity=integrity,
        predict=predictor,
    )
