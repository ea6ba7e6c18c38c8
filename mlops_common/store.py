"""Where the MLflow store lives, and the one way to talk to it.

Every module that reads or writes runs, models or registry entries goes through here:

- :func:`resolve_tracking_uri`: the explicit argument, then ``MLFLOW_TRACKING_URI``, then
  ``tracking_uri`` in ``[tool.mlops]``, and finally the embedded sqlite store
  ``<project root>/mlflow.db`` (no server needed). The registry lives in the same store
  (:func:`resolve_registry_uri`); :func:`resolve_artifact_location` says where a new
  experiment keeps its artifacts.
- :func:`check_tracking_server`: a 3 s ``/health`` probe of an ``http(s)`` server, so an
  unreachable one fails in seconds with :class:`~mlops_common.errors.TrackingUnavailable`
  instead of MLflow's minutes of retries.
- :func:`client`: the only place an ``MlflowClient`` is built (tracking and registry URIs both
  resolved, the server probed first).
- :func:`model_version`: a registered version by number or by alias.
- :func:`mlflow_uris`: the one context manager that sets MLflow's process-wide tracking and
  registry URIs and puts everything back on exit, including the ``MLFLOW_TRACKING_URI`` and
  ``MLFLOW_REGISTRY_URI`` variables MLflow exports (``set_registry_uri(None)`` leaves its
  variable set, and a left-over variable would outrank the project config of every later call).

>>> from mlops_common import store
>>> store.resolve_tracking_uri("http://127.0.0.1:5000")
'http://127.0.0.1:5000'
>>> registry = store.client()  # doctest: +SKIP
>>> store.model_version(registry, "churn-model", alias="champion").version  # doctest: +SKIP
'3'
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlops_common.config import ProjectConfig, load_project_config
from mlops_common.errors import RegistryError, TrackingUnavailable

__all__ = [
    "URI_VARIABLES",
    "check_tracking_server",
    "client",
    "is_http",
    "mlflow_uris",
    "model_version",
    "parse_model_uri",
    "resolve_artifact_location",
    "resolve_registry_uri",
    "resolve_tracking_uri",
]

#: The environment variables MLflow reads its process-wide URIs from (and exports them to).
URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


# --------------------------------------------------------------------------- where the store is


def resolve_tracking_uri(explicit: str | None = None, config: ProjectConfig | None = None) -> str:
    """The tracking URI: ``explicit`` > ``MLFLOW_TRACKING_URI`` > ``[tool.mlops]`` > embedded.

    >>> resolve_tracking_uri("http://127.0.0.1:5000")
    'http://127.0.0.1:5000'
    """
    if explicit:
        return explicit
    from_env = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if from_env:
        return from_env
    cfg = config if config is not None else load_project_config()
    if cfg.tracking_uri:
        return cfg.tracking_uri
    return cfg.default_tracking_uri


def resolve_registry_uri(tracking_uri: str) -> str:
    """The model registry's URI: the tracking store itself (one store holds runs and models).

    Always passed explicitly, so a ``MLFLOW_REGISTRY_URI`` left in the environment never sends
    registrations to another store than the runs they come from.

    >>> resolve_registry_uri("sqlite:///mlflow.db")
    'sqlite:///mlflow.db'
    """
    return tracking_uri


def resolve_artifact_location(
    config: ProjectConfig | None = None, tracking_uri: str | None = None
) -> str | None:
    """Where a new experiment stores its artifacts.

    ``artifact_location`` from ``[tool.mlops]`` when set (a relative path is taken from the project
    root); otherwise ``<root>/mlartifacts`` for a local store, and ``None`` for an ``http(s)``
    server so that the server's own ``--artifacts-destination`` applies.
    """
    cfg = config if config is not None else load_project_config()
    if cfg.artifact_location:
        location = cfg.artifact_location
        if "://" not in location and not Path(location).is_absolute():
            return (cfg.root / location).resolve().as_uri()
        return location
    if tracking_uri and is_http(tracking_uri):
        return None
    return cfg.default_artifact_location


def is_http(uri: str) -> bool:
    """Whether ``uri`` names a tracking server (``http(s)``) rather than a local store.

    >>> is_http("https://mlflow.example.com"), is_http("sqlite:///mlflow.db")
    (True, False)
    """
    return urlparse(uri).scheme in {"http", "https"}


def check_tracking_server(uri: str, timeout: float = 3.0) -> None:
    """Fail fast when an ``http(s)`` tracking server does not answer ``/health``.

    Local stores (sqlite, file, postgres, ...) are not probed. Uses urllib only, so MLflow's client,
    which retries for minutes, is never reached for a dead server.

    >>> check_tracking_server("sqlite:///mlflow.db")  # nothing to probe
    """
    if not is_http(uri):
        return
    health = uri.rstrip("/") + "/health"
    fix = (
        f"start it (mlflow server --host {urlparse(uri).hostname} --port "
        f"{urlparse(uri).port or 5000}) or unset MLFLOW_TRACKING_URI to use the embedded store"
    )
    try:
        with urllib.request.urlopen(health, timeout=timeout) as response:
            response.read(64)
    except urllib.error.HTTPError as exc:
        # Something answered: only a server error means the tracking server is unusable.
        if exc.code >= 500:
            raise TrackingUnavailable(
                f"MLflow tracking server {uri} answered {health} with HTTP {exc.code}; "
                f"check its logs, or unset MLFLOW_TRACKING_URI to use the embedded store"
            ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingUnavailable(
            f"MLflow tracking server {uri} did not answer within {timeout:g}s ({reason}); {fix}"
        ) from exc


# ------------------------------------------------------------------------------------ the client


def client(
    tracking_uri: str | None = None, *, config: ProjectConfig | None = None, probe: bool = True
) -> Any:
    """An ``MlflowClient`` on the resolved tracking URI, with the registry in the same store.

    ``probe`` checks an ``http(s)`` server first (:func:`check_tracking_server`). The client's
    ``tracking_uri`` attribute says which store it talks to.

    >>> client("sqlite:///mlflow.db").tracking_uri  # doctest: +SKIP
    'sqlite:///mlflow.db'
    """
    uri = resolve_tracking_uri(tracking_uri, config)
    if probe:
        check_tracking_server(uri)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=resolve_registry_uri(uri))


def model_version(
    mlflow_client: Any,
    model_name: str,
    *,
    version: str | int | None = None,
    alias: str | None = None,
    required: bool = True,
) -> Any:
    """The registered ``ModelVersion`` numbered ``version``, else the one behind ``alias``.

    A missing version or alias raises :class:`~mlops_common.errors.RegistryError` (or returns
    None with ``required=False``).

    >>> model_version(client(), "churn-model", alias="champion").version  # doctest: +SKIP
    '3'
    >>> model_version(client(), "churn-model", version=9, required=False) is None  # doctest: +SKIP
    True
    """
    from mlflow.exceptions import MlflowException

    if version is None and alias is None:
        raise ValueError("model_version needs a version or an alias")
    try:
        if version is not None:
            return mlflow_client.get_model_version(model_name, str(version))
        return mlflow_client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if not required:
            return None
        if version is not None:
            raise RegistryError(
                f"model {model_name!r} has no version {version}; list versions with "
                f"`mlflow models` or the MLflow UI and pass an existing one"
            ) from exc
        raise RegistryError(
            f"model {model_name!r} has no alias {alias!r} at {mlflow_client.tracking_uri}; "
            f"promote a version first (`mlops promote VERSION`)"
        ) from exc


def parse_model_uri(model_uri: str) -> tuple[str, str | None, str | None]:
    """``(name, version, alias)`` of ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``; any
    other text is an ``InputError``.

    >>> parse_model_uri("models:/churn-model@champion"), parse_model_uri("models:/churn/3")
    (('churn-model', None, 'champion'), ('churn', '3', None))
    """
    from mlops_common.errors import InputError

    spec = model_uri.removeprefix("models:/")
    if "@" in spec:
        name, alias = spec.rsplit("@", 1)
        version = None
    else:
        name, _, version = spec.rpartition("/")
        alias = None
    if spec == model_uri or not name or not (alias or version):
        raise InputError(f"{model_uri}: expected models:/NAME@ALIAS or models:/NAME/VERSION")
    return name, version or None, alias or None


# --------------------------------------------------------------------- process-wide MLflow URIs


@contextmanager
def mlflow_uris(tracking_uri: str | None = None, registry_uri: str | None = None) -> Iterator[None]:
    """Set MLflow's process-wide tracking and registry URIs for the block, then restore both.

    ``registry_uri`` defaults to the tracking URI. On exit MLflow's own settings and the
    ``MLFLOW_TRACKING_URI`` / ``MLFLOW_REGISTRY_URI`` variables are back to what they were
    before, whatever the block did. With no ``tracking_uri`` nothing is set: the block's own
    changes are undone on exit (and MLflow is not imported when it was not already).

    >>> with mlflow_uris("sqlite:///mlflow.db"):  # doctest: +SKIP
    ...     mlflow.sklearn.load_model("models:/churn-model@champion")
    """
    saved_env = {name: os.environ.get(name) for name in URI_VARIABLES}
    loaded = "mlflow" in sys.modules
    saved = _process_uris() if loaded or tracking_uri else (None, None)
    if tracking_uri:
        import mlflow

        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(registry_uri or resolve_registry_uri(tracking_uri))
    try:
        yield
    finally:
        if "mlflow" in sys.modules:  # imported before or inside the block
            _set_process_uris(*saved)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _process_uris() -> tuple[str | None, str | None]:
    # MLflow has no public "is it set?": its getters answer with a default. The module globals
    # are None while unset, which is the state to restore.
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    return tracking_utils._tracking_uri, registry_utils._registry_uri


def _set_process_uris(tracking_uri: str | None, registry_uri: str | None) -> None:
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils

    mlflow.set_tracking_uri(tracking_uri)  # also resets the tracer that cached the old URI
    registry_utils._registry_uri = registry_uri  # set_registry_uri(None) would keep the variable
