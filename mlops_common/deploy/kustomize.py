"""Pin the image and the model a Kustomize overlay deploys: the GitOps half of a Kubernetes deploy.

CI pushes the image, then writes its digest into ``deploy/k8s/overlays/<env>/kustomization.yaml``
(the ``images:`` entry) and commits that; ArgoCD syncs the cluster to the commit. This module is
that edit, without the kustomize binary (``kustomize edit set image`` does the same edit):

>>> from mlops_common.deploy.kustomize import pin_image
>>> pin_image("deploy/k8s/overlays/staging", "repo/churn@sha256:" + "0" * 64)  # doctest: +SKIP
ImagePin(overlay='deploy/k8s/overlays/staging', name='repo/churn', ...)

A promotion reaches the cluster the same way: :func:`pin_model` writes the exact model version
(``MLOPS_MODEL_URI=models:/<name>/<version>``, which ``mlops serve`` reads) into the overlay's
``configMapGenerator``. Kustomize names the generated ConfigMap after a hash of its contents and
rewrites the pods' reference to it, so the new version is a new pod template: ArgoCD's sync rolls
the Deployment, and reverting the commit rolls it back.

>>> pin_model("deploy/k8s/overlays/production", "models:/churn/7")  # doctest: +SKIP
ModelPin(overlay='deploy/k8s/overlays/production', model_uri='models:/churn/7', ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_common.deploy.base import immutable_image
from mlops_common.errors import DeployError
from mlops_common.results import Result

__all__ = ["MODEL_SETTING", "ImagePin", "ModelPin", "pin_image", "pin_model", "pinned_entry"]

KUSTOMIZATION = "kustomization.yaml"
# The setting `mlops serve` reads (its --model-uri option's environment variable).
MODEL_SETTING = "MLOPS_MODEL_URI"
# An exact registered version: an alias (`models:/name@champion`) moves without a commit.
_VERSION_URI = re.compile(r"^models:/[^/@\s]+/[0-9]+$")


@dataclass(frozen=True)
class ImagePin(Result):
    """What ``pin_image`` changed: the overlay, the image name and the reference before/after."""

    overlay: str
    name: str
    image: str
    previous: str | None
    changed: bool

    def summary(self) -> str:
        if not self.changed:
            return f"{self.overlay}: {self.name} already runs {self.image}"
        before = f" (was {self.previous})" if self.previous else ""
        return f"{self.overlay}: {self.name} now runs {self.image}{before}"


def pinned_entry(name: str, reference: str) -> dict[str, str]:
    """The kustomize ``images:`` entry that makes ``name`` run ``reference`` (digest or tag).

    >>> pinned_entry("churn", "registry.example.com/churn@sha256:" + "a" * 64)["digest"][:9]
    'sha256:aa'
    >>> pinned_entry("churn", "registry.example.com/churn:0123abc")
    {'name': 'churn', 'newName': 'registry.example.com/churn', 'newTag': '0123abc'}
    """
    reference = immutable_image(reference)
    if "@" in reference:
        repository, digest = reference.split("@", 1)
        repository = repository.rsplit(":", 1)[0] if _has_tag(repository) else repository
        return {"name": name, "newName": repository, "digest": digest}
    repository, tag = reference.rsplit(":", 1)
    return {"name": name, "newName": repository, "newTag": tag}


def _has_tag(repository: str) -> bool:
    """``host:5000/repo:tag`` has a tag; ``host:5000/repo`` has a port only."""
    return ":" in repository.rsplit("/", 1)[-1]


def _literal_dumper() -> Any:
    """A safe YAML dumper that writes multi-line strings (inline patches) as ``|`` blocks."""
    import yaml

    class LiteralDumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    LiteralDumper.add_representer(str, text)
    return LiteralDumper


def _load(overlay: str | Path) -> tuple[Path, str, dict[str, Any]]:
    """The overlay's kustomization file, its text and its parsed mapping (one-line errors)."""
    import yaml

    path = Path(overlay) / KUSTOMIZATION
    if not path.is_file():
        raise DeployError(f"{path} not found: give the overlay folder (deploy/k8s/overlays/<env>)")
    text = path.read_text(encoding="utf-8")
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DeployError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(config, dict):
        raise DeployError(f"{path} must be a mapping (a kustomization)")
    return path, text, config


def _write(path: Path, text: str, config: dict[str, Any]) -> None:
    """Rewrite the kustomization as plain YAML, keeping its leading comment block."""
    import yaml

    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    body = yaml.dump(config, Dumper=_literal_dumper(), sort_keys=False)
    path.write_text("\n".join([*header, body]) if header else body, encoding="utf-8")


def _reference(entry: dict[str, Any]) -> str | None:
    if not entry.get("newName") and not entry.get("digest") and not entry.get("newTag"):
        return None
    repository = entry.get("newName") or entry["name"]
    if entry.get("digest"):
        return f"{repository}@{entry['digest']}"
    return f"{repository}:{entry['newTag']}" if entry.get("newTag") else repository


def pin_image(overlay: str | Path, reference: str, *, name: str | None = None) -> ImagePin:
    """Make the overlay run ``reference`` (by digest or commit-SHA tag, never a moving tag).

    ``name`` is the image name the base manifests use; by default the overlay's one ``images:``
    entry. The file's leading comment block is kept; the rest is rewritten as plain YAML.
    """
    path, text, config = _load(overlay)
    images = config.setdefault("images", [])
    if not isinstance(images, list) or not all(isinstance(e, dict) for e in images):
        raise DeployError(f"{path}: images: must be a list of entries with a name")
    if name is None:
        if len(images) != 1:
            raise DeployError(
                f"{path} has {len(images)} images: entries; say which with --name (the image "
                "name the base manifests use)"
            )
        name = str(images[0]["name"])
    entry = pinned_entry(name, reference)
    index = next((i for i, e in enumerate(images) if e.get("name") == name), None)
    previous = _reference(images[index]) if index is not None else None
    if index is None:
        images.append(entry)
    else:
        images[index] = entry
    image = _reference(entry) or ""
    changed = previous != image
    if changed:
        _write(path, text, config)
    return ImagePin(
        overlay=str(overlay), name=name, image=image, previous=previous, changed=changed
    )


@dataclass(frozen=True)
class ModelPin(Result):
    """What ``pin_model`` changed: the overlay, the generated ConfigMap and the model URI."""

    overlay: str
    config_map: str
    model_uri: str
    previous: str | None
    changed: bool

    def summary(self) -> str:
        if not self.changed:
            return f"{self.overlay}: the pods already serve {self.model_uri}"
        before = f" (was {self.previous})" if self.previous else " (was the alias at start)"
        return (
            f"{self.overlay}: the pods serve {self.model_uri}{before}; commit it and the sync "
            "rolls them"
        )


def pin_model(overlay: str | Path, model_uri: str, *, config_map: str | None = None) -> ModelPin:
    """Make the overlay's pods serve ``model_uri`` (``models:/<name>/<version>``, never an alias).

    The URI goes into the ``configMapGenerator`` entry ``config_map`` (by default the overlay's
    only one) as ``MLOPS_MODEL_URI``; the pods must read that ConfigMap (``envFrom``).
    """
    if not _VERSION_URI.match(model_uri):
        raise DeployError(
            f"model URI {model_uri!r} is not an exact version: give models:/<name>/<version> "
            "(an alias moves without a commit, so the pods would not roll)"
        )
    path, text, config = _load(overlay)
    generators = config.get("configMapGenerator")
    if not isinstance(generators, list) or not all(isinstance(g, dict) for g in generators):
        raise DeployError(
            f"{path} has no configMapGenerator: add one whose ConfigMap the pods read with envFrom"
        )
    if config_map is None:
        if len(generators) != 1:
            raise DeployError(
                f"{path} has {len(generators)} configMapGenerator entries; say which the pods "
                "read with --config-map"
            )
        entry = generators[0]
    else:
        entry = next((g for g in generators if g.get("name") == config_map), None)
        if entry is None:
            raise DeployError(f"{path} has no configMapGenerator entry named {config_map}")
    literals = entry.setdefault("literals", [])
    if not isinstance(literals, list):
        raise DeployError(f"{path}: configMapGenerator literals must be a list of KEY=value")
    prefix = f"{MODEL_SETTING}="
    index = next((i for i, item in enumerate(literals) if str(item).startswith(prefix)), None)
    previous = str(literals[index]).removeprefix(prefix) if index is not None else None
    if index is None:
        literals.append(prefix + model_uri)
    else:
        literals[index] = prefix + model_uri
    changed = previous != model_uri
    if changed:
        _write(path, text, config)
    return ModelPin(
        overlay=str(overlay),
        config_map=str(entry.get("name", "")),
        model_uri=model_uri,
        previous=previous,
        changed=changed,
    )
