"""Pin the image a Kustomize overlay deploys: the GitOps half of a Kubernetes deploy.

CI pushes the image, then writes its digest into ``deploy/k8s/overlays/<env>/kustomization.yaml``
(the ``images:`` entry) and commits that; ArgoCD syncs the cluster to the commit. This module is
that edit, without the kustomize binary (``kustomize edit set image`` does the same edit):

>>> from mlops_common.deploy.kustomize import pin_image
>>> pin_image("deploy/k8s/overlays/staging", "repo/churn@sha256:" + "0" * 64)  # doctest: +SKIP
ImagePin(overlay='deploy/k8s/overlays/staging', name='repo/churn', ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_common.deploy.base import immutable_image
from mlops_common.errors import DeployError
from mlops_common.results import Result

__all__ = ["ImagePin", "pin_image", "pinned_entry"]

KUSTOMIZATION = "kustomization.yaml"


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
        header = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            header.append(line)
        body = yaml.dump(config, Dumper=_literal_dumper(), sort_keys=False)
        path.write_text("\n".join([*header, body]) if header else body, encoding="utf-8")
    return ImagePin(
        overlay=str(overlay), name=name, image=image, previous=previous, changed=changed
    )
