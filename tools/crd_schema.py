"""Turn a CustomResourceDefinition into the JSON Schema its custom resources are validated with.

The Kubernetes target renders two custom resources (a KServe InferenceService, ArgoCD
Applications); kubernetes-validate ships core schemas only, so their CRDs' ``openAPIV3Schema`` is
vendored as JSON Schema (draft 2020-12) in ``tests/integrations/kubernetes/k8s_schemas/``. The
upstream CRD file is the input; its repository, path and commit are recorded in the output::

    git --git-dir=<mirror> show <commit>:manifests/crds/application-crd.yaml > app-crd.yaml
    python -m tools.crd_schema app-crd.yaml --repo argoproj/argo-cd \\
        --path manifests/crds/application-crd.yaml --commit <commit> \\
        --output tests/integrations/kubernetes/k8s_schemas/application-argoproj.io-v1alpha1.json

``--check`` compares instead of writing (exit 1 when the vendored file is stale).

What the conversion keeps and maps, so the JSON Schema rejects what the API server would:

- every validation keyword (type, enum, pattern, lengths, bounds, required, anyOf/oneOf/allOf/not,
  items, additionalProperties) as is; ``nullable: true`` adds ``"null"`` to the type; OpenAPI
  3.0's boolean ``exclusiveMinimum``/``exclusiveMaximum`` become draft 2020-12 numbers;
- an object with no ``x-kubernetes-preserve-unknown-fields`` gets ``additionalProperties: false``
  unless it declares its own ``additionalProperties``: the API server drops unknown fields
  (``kubectl apply --validate=strict`` rejects them), which in a file means a misspelt field;
- ``x-kubernetes-list-type: set`` becomes ``uniqueItems: true``;
- the resource's ``apiVersion`` and ``kind`` become constants (the CRD's group/version and kind),
  and its ``metadata`` refers to the core ``ObjectMeta`` definition
  (``https://kubernetes.io/api/_definitions.json``, resolved by the test to kubernetes-validate's
  strict definitions).

Dropped, because JSON Schema cannot say them or they do not validate: descriptions, ``default``,
``format`` on integers (int32/int64), ``x-kubernetes-int-or-string`` (its ``anyOf`` stays),
``x-kubernetes-list-map-keys`` (key uniqueness in list maps), ``x-kubernetes-map-type`` and
``x-kubernetes-validations`` (CEL rules; the CRDs vendored here have none).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["convert", "crd_json_schema", "main"]

OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
SCHEMA_ID = "https://mlops-template.invalid/schemas/{name}"
# Keys that only describe, or that draft 2020-12 has no validating counterpart for.
DROPPED = {
    "description",
    "default",
    "example",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
    "x-kubernetes-embedded-resource",
}
SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf")


def convert(node: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI v3 (structural) schema node as draft 2020-12, recursively.

    >>> convert({"type": "object", "properties": {"a": {"type": "integer", "format": "int32"}}})
    {'type': 'object', 'properties': {'a': {'type': 'integer'}}, 'additionalProperties': False}
    >>> convert({"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    {'type': 'object'}
    """
    out: dict[str, Any] = {}
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    for key, value in node.items():
        # nullable and preserve-unknown-fields are applied after the loop.
        skipped = key in DROPPED or key in ("nullable", "x-kubernetes-preserve-unknown-fields")
        if skipped or (key == "format" and node.get("type") == "integer"):
            continue
        if key == "properties":
            out[key] = {name: convert(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = convert(value)
        elif key in SUBSCHEMA_LISTS:
            out[key] = [convert(child) for child in value]
        elif key == "x-kubernetes-list-type":
            if value == "set":
                out["uniqueItems"] = True
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in node:
                out[key] = node[bound]
        elif key.startswith("x-kubernetes-"):
            raise ValueError(f"unknown Kubernetes extension {key}: map it in tools/crd_schema.py")
        else:
            out[key] = value
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        bound = "minimum" if key == "exclusiveMinimum" else "maximum"
        if isinstance(out.get(key), (int, float)) and not isinstance(out[key], bool):
            out.pop(bound, None)
    if node.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
    if out.get("type") == "object" and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def crd_json_schema(
    crd: dict[str, Any], *, version: str | None, source: dict[str, str]
) -> dict[str, Any]:
    """The draft 2020-12 schema of one version of ``crd`` (default: its storage version)."""
    if crd.get("kind") != "CustomResourceDefinition":
        raise ValueError(f"not a CustomResourceDefinition (kind: {crd.get('kind')})")
    spec = crd["spec"]
    versions = {entry["name"]: entry for entry in spec["versions"]}
    if version is None:
        version = next(name for name, entry in versions.items() if entry.get("storage"))
    if version not in versions:
        raise ValueError(f"the CRD has no version {version} (it has {', '.join(versions)})")
    kind, group = spec["names"]["kind"], spec["group"]
    schema = convert(versions[version]["schema"]["openAPIV3Schema"])
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"const": f"{group}/{version}"}
    properties["kind"] = {"const": kind}
    properties["metadata"] = {"$ref": OBJECT_META}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    name = f"{kind.lower()}-{group}-{version}.json"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(name=name),
        "title": f"{kind} ({group}/{version}), from its CustomResourceDefinition",
        "$comment": (
            f"Generated by tools/crd_schema.py from {source['repo']} {source['path']} at commit "
            f"{source['commit']} (sha256 {source['sha256']}); do not edit, regenerate."
        ),
        **schema,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crd", type=Path, help="the upstream CRD YAML file")
    parser.add_argument("--repo", required=True, help="upstream repository, e.g. kserve/kserve")
    parser.add_argument("--path", required=True, help="the CRD's path in that repository")
    parser.add_argument("--commit", required=True, help="the upstream commit the file is from")
    parser.add_argument("--version", help="CRD version to convert (default: the storage one)")
    parser.add_argument("--output", type=Path, required=True, help="the JSON Schema file")
    parser.add_argument("--check", action="store_true", help="fail if --output is stale")
    args = parser.parse_args(argv)
    data = args.crd.read_bytes()
    source = {
        "repo": args.repo,
        "path": args.path,
        "commit": args.commit,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    try:
        schema = crd_json_schema(yaml.safe_load(data), version=args.version, source=source)
    except (ValueError, KeyError, yaml.YAMLError) as exc:
        print(f"error: {args.crd}: {exc}", file=sys.stderr)
        return 2
    text = render(schema)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is stale: regenerate it from {args.crd}", file=sys.stderr)
            return 1
        print(f"{args.output} is current ({args.repo}@{args.commit[:12]})")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} from {args.repo} {args.path}@{args.commit[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
