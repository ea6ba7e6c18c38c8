"""The deploy interface every target implements, and the results it returns.

A target ships the model version behind a registry alias to where it serves traffic, reports
whether that is healthy, and puts the previously deployed version back:

>>> from mlops_common.deploy import get_target
>>> target = get_target("local", port=8123)  # doctest: +SKIP
>>> target.deploy(alias="champion").summary()  # doctest: +SKIP
'local: churn-model-model v3 deployed at http://127.0.0.1:8123'
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mlops_common.errors import CredentialsMissing, DeployError, RegistryError, TargetUnavailable
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK, Result

__all__ = [
    "CloudTarget",
    "DeployResult",
    "DeployStatus",
    "DeployTarget",
    "ModelRef",
    "immutable_image",
    "most_traffic",
    "resolve_model",
]

# An image by digest (`repo[:tag]@sha256:<64 hex>`) or by a commit-SHA tag (`repo:<7-40 hex>`):
# the two references CI can deploy and later name exactly again. `:latest` or a branch tag moves.
_DIGEST_REFERENCE = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")
_COMMIT_TAG_REFERENCE = re.compile(r"^[^\s@]+:[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class ModelRef:
    """One registered model version: what a target deploys."""

    name: str
    version: str
    source: str = ""  # where the model's files are (s3://, gs://, wasbs://, file://, ...)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def serving_env(self, model_uri: str | None = None) -> dict[str, str]:
        """What ``mlops serve`` reads in a cloud's container: the model's files and its version.

        ``model_uri`` is where the container finds the files (default: ``source``).

        >>> ModelRef("m", "3", "gs://b/m").serving_env()["MLOPS_MODEL_VERSION"]
        '3'
        """
        return {
            "MLOPS_MODEL_URI": model_uri or self.source,
            "MLOPS_MODEL_NAME": self.name,
            "MLOPS_MODEL_VERSION": self.version,
        }

    def require_source(self, *schemes: str, service: str, storage: str, example: str) -> None:
        """Fail when the model's files are not where ``service`` can read them (``schemes``).

        >>> ModelRef("m", "1", "file:///tmp/m").require_source(
        ...     "s3://", service="SageMaker", storage="S3", example="an s3://"
        ... )  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        mlops_common.errors.DeployError: models:/m/1: its files are at file:///tmp/m, but ...
        """
        if not self.source.startswith(schemes):
            raise DeployError(
                f"{self.uri}: its files are at {self.source or 'an unknown place'}, but {service} "
                f"reads models from {storage}; set artifact_location to {example} URI in "
                "[tool.mlops] and register the model again"
            )


@dataclass(frozen=True)
class DeployResult(Result):
    """What ``deploy`` or ``rollback`` did (``to_json(path)`` writes it, like every result)."""

    target: str
    action: str  # "deploy" or "rollback"
    model_name: str
    model_version: str
    endpoint: str  # URL (local) or the cloud endpoint's name
    state: str  # e.g. "running", "Creating", "Updating"
    previous_version: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        verb = "deployed" if self.action == "deploy" else "rolled back to"
        before = f" (was v{self.previous_version})" if self.previous_version else ""
        return (
            f"{self.target}: {self.model_name} {verb} v{self.model_version} "
            f"at {self.endpoint} [{self.state}]{before}"
        )


@dataclass(frozen=True)
class DeployStatus(Result):
    """What is deployed on a target and whether it answers (``exit_code`` 1 when not healthy)."""

    target: str
    healthy: bool
    state: str  # "running", "stopped", "not deployed", "InService", ...
    endpoint: str = ""
    model_name: str = ""
    model_version: str = ""
    detail: str = ""

    def summary(self) -> str:
        verdict = "healthy" if self.healthy else "NOT healthy"
        what = f"{self.model_name} v{self.model_version}" if self.model_version else "nothing"
        where = f" at {self.endpoint}" if self.endpoint else ""
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.target}: {what}{where} is {verdict} [{self.state}]{extra}"

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.healthy else EXIT_NEGATIVE


class DeployTarget(ABC):
    """One place a model can serve from. Subclasses take their settings as keyword arguments."""

    name: ClassVar[str]

    def __init__(
        self,
        *,
        project_root: Path | str = ".",
        model_name: str = "model",
        tracking_uri: str | None = None,
    ) -> None:
        # The settings every target has; a subclass declares only its own and passes the rest on.
        self.project_root = Path(project_root)
        self.model_name = model_name
        self.tracking_uri = tracking_uri

    @classmethod
    def settings(cls) -> frozenset[str]:
        """Every setting the target takes: its own keyword arguments and those of its bases.

        >>> sorted(DeployTarget.settings())
        ['model_name', 'project_root', 'tracking_uri']
        """
        import inspect

        return frozenset(
            parameter.name
            for klass in cls.__mro__
            if issubclass(klass, DeployTarget) and "__init__" in vars(klass)
            for parameter in inspect.signature(klass.__init__).parameters.values()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        )

    @abstractmethod
    def deploy(self, *, alias: str = "champion", version: str | None = None) -> DeployResult:
        """Deploy the version behind ``alias`` (or exactly ``version``)."""

    @abstractmethod
    def status(self) -> DeployStatus:
        """What is deployed and whether it is healthy."""

    @abstractmethod
    def rollback(self) -> DeployResult:
        """Serve the previously deployed version again."""

    # ---- helpers for subclasses ------------------------------------------------------------

    def _resolve(self, alias: str, version: str | None) -> ModelRef:
        """This target's model version behind ``alias`` (or ``version``) in its registry."""
        return resolve_model(
            self.model_name, alias=alias, version=version, tracking_uri=self.tracking_uri
        )

    def _result(
        self,
        action: str,
        model: ModelRef,
        *,
        endpoint: str,
        state: str,
        previous_version: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> DeployResult:
        """What ``action`` did: ``model`` now serves at ``endpoint``."""
        return DeployResult(
            target=self.name,
            action=action,
            model_name=model.name,
            model_version=model.version,
            endpoint=endpoint,
            state=state,
            previous_version=previous_version,
            details=dict(details or {}),
        )

    def _status(
        self, *, healthy: bool, state: str, endpoint: str, version: str, detail: str
    ) -> DeployStatus:
        """What serves at ``endpoint``: this target's model at ``version`` ("" when none)."""
        return DeployStatus(
            target=self.name,
            healthy=healthy,
            state=state,
            endpoint=endpoint,
            model_name=self.model_name,
            model_version=version,
            detail=detail,
        )

    def _not_deployed(self, detail: str, endpoint: str = "") -> DeployStatus:
        """The status of a target where nothing is deployed yet."""
        return DeployStatus(
            target=self.name, healthy=False, state="not deployed", endpoint=endpoint, detail=detail
        )


class CloudTarget(DeployTarget):
    """A target served by a cloud SDK: install hint, credentials hint and required settings."""

    #: The one-line ``CredentialsMissing`` message for missing credentials: how to get them.
    credentials_hint: ClassVar[str]

    def __init__(
        self,
        *,
        endpoint_name: str | None = None,
        image_tag: str = "latest",
        image_uri: str | None = None,
        **common: Any,
    ) -> None:
        """``common``: the settings of every target (``project_root``, ``model_name``, ...).

        The endpoint is named after the model unless ``endpoint_name`` says otherwise, either
        way within the cloud's naming rules; ``image_uri`` replaces the project's image in the
        cloud's registry (tagged ``image_tag``).
        """
        super().__init__(**common)
        self.endpoint_name = self._valid_endpoint_name(endpoint_name or self.model_name)
        self.image_tag = image_tag
        self._image_uri = image_uri

    @property
    def image_uri(self) -> str:
        """The image the endpoint runs: ``image_uri`` when set, else the registry's image."""
        return self._image_uri or self._registry_image_uri()

    @abstractmethod
    def _valid_endpoint_name(self, text: str) -> str:
        """``text`` within the cloud's rules for endpoint names."""

    @abstractmethod
    def _registry_image_uri(self) -> str:
        """The project's image (``image_tag``) in the cloud's container registry."""

    def deploy(self, *, alias: str = "champion", version: str | None = None) -> DeployResult:
        return self.deploy_model(self._resolve(alias, version))

    @abstractmethod
    def deploy_model(self, model: ModelRef) -> DeployResult:
        """Ship exactly ``model`` (a registered version) to the endpoint."""

    def _require(self, *names: str) -> None:
        """Fail before any call when a setting the cloud needs is empty."""
        missing = [name for name in names if not getattr(self, name)]
        if missing:
            raise DeployError(
                f"{self.name} deploy needs {', '.join(missing)}: set it in "
                f"[tool.mlops.deploy.{self.name}] of pyproject.toml"
            )

    @contextmanager
    def _sdk(self, packages: str) -> Iterator[None]:
        """Imports in this block that fail name the extra that installs ``packages``."""
        try:
            yield
        except ImportError as exc:
            raise TargetUnavailable(
                f"the {self.name} target needs {packages}: pip install 'mlops-common[{self.name}]'"
            ) from exc

    @contextmanager
    def _credentials(self, *errors: type[BaseException]) -> Iterator[None]:
        """``errors`` raised in this block mean missing credentials: one line saying the fix."""
        try:
            yield
        except errors as exc:
            raise CredentialsMissing(self.credentials_hint) from exc


def immutable_image(reference: str) -> str:
    """``reference`` when it names one image for good (by digest or commit-SHA tag), else an error.

    Deploying ``:latest`` (or any moving tag) means the endpoint runs whatever was pushed last,
    not what CI built and tested for this commit, and a rollback cannot name it again.

    >>> immutable_image("registry.example.com/churn@sha256:" + "0" * 64)[-8:]
    '00000000'
    >>> immutable_image("registry.example.com/churn:latest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mlops_common.errors.DeployError: image 'registry.example.com/churn:latest' can change after...
    """
    text = reference.strip()
    if not text:
        raise DeployError("no image to deploy: give it by digest (repo@sha256:<digest>)")
    if _DIGEST_REFERENCE.match(text) or _COMMIT_TAG_REFERENCE.match(text):
        return text
    raise DeployError(
        f"image {reference!r} can change after it is deployed: give it by digest "
        "(repo@sha256:<digest>, what CI's image job outputs) or by its commit-SHA tag"
    )


def most_traffic(traffic: Mapping[str, int]) -> str | None:
    """The deployment that gets the largest share of ``traffic`` (None when none gets any).

    >>> most_traffic({"v1": 0, "v2": 100})
    'v2'
    """
    serving = [(share, key) for key, share in traffic.items() if share > 0]
    return max(serving)[1] if serving else None


def resolve_model(
    model_name: str,
    *,
    alias: str = "champion",
    version: str | None = None,
    tracking_uri: str | None = None,
) -> ModelRef:
    """The registered version behind ``alias`` (or ``version``) of ``model_name``.

    >>> resolve_model("churn-model-model", alias="champion")  # doctest: +SKIP
    ModelRef(name='churn-model-model', version='3', source='file:///.../artifacts')
    """
    from mlops_common import store

    client = store.client(tracking_uri)
    try:
        found = store.model_version(client, model_name, version=version, alias=alias)
    except RegistryError as exc:
        wanted = f"version {version}" if version is not None else f"alias '{alias}'"
        raise DeployError(
            f"model '{model_name}' has no {wanted} in the registry at {client.tracking_uri}; "
            "train and promote a model first (`dvc repro`, `mlops promote`)"
        ) from exc
    # MLflow 3 records `models:/<id>` as the source; the download URI is where the files are.
    source = client.get_model_version_download_uri(model_name, str(found.version))
    return ModelRef(name=model_name, version=str(found.version), source=source or "")
