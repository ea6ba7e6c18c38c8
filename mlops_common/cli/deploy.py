"""``mlops deploy``: ship the champion to the cloud's serving target, check it, roll it back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import (
    AsJson,
    ModelName,
    Output,
    TrackingUri,
    deprecated_version_option,
    model_name,
    version_argument,
    version_from,
)
from mlops_common.cli._render import emit

__all__ = ["app", "down", "pin_image", "pin_model", "rollback", "status", "up"]

app = typer.Typer(
    name="deploy",
    help="Deploy the champion model to the project's target.",
    no_args_is_help=True,
)

Target = Annotated[
    str | None,
    typer.Option(help="local, aws, gcp or azure (default: the project's cloud)."),
]


@app.command("up")
def up(
    version: Annotated[
        str | None, version_argument("Deploy exactly this version (default: the one behind ALIAS).")
    ] = None,
    target: Target = None,
    alias: Annotated[str, typer.Option(help="Registry alias to deploy.")] = "champion",
    port: Annotated[int | None, typer.Option(help="local target: port to serve on.")] = None,
    image: Annotated[
        str | None,
        typer.Option(
            help="Cloud targets: the image to run, by digest (repo@sha256:...) or commit-SHA "
            "tag; a moving tag such as :latest is refused (default: the registry's image)."
        ),
    ] = None,
    deprecated_version: Annotated[str | None, deprecated_version_option("--version")] = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Deploy VERSION, or the model behind ALIAS, to the target."""
    from mlops_common.deploy import get_target, immutable_image

    wanted = version_from(version, deprecated_version, option="--version", usage="mlops deploy up")
    settings: dict[str, object] = {"port": port} if port is not None else {}
    if image is not None:
        settings["image_uri"] = immutable_image(image)
    result = get_target(target, **settings).deploy(alias=alias, version=wanted)
    emit(result, as_json=as_json, output=output)


@app.command("status")
def status(target: Target = None, output: Output = None, as_json: AsJson = False) -> None:
    """Show what is deployed and whether it is healthy; exit 1 when it is not."""
    from mlops_common.deploy import get_target

    emit(get_target(target).status(), as_json=as_json, output=output)


@app.command("rollback")
def rollback(target: Target = None, output: Output = None, as_json: AsJson = False) -> None:
    """Redeploy the previously deployed model version."""
    from mlops_common.deploy import get_target

    emit(get_target(target).rollback(), as_json=as_json, output=output)


@app.command("down")
def down(output: Output = None, as_json: AsJson = False) -> None:
    """Stop the local server started by `mlops deploy up --target local` (keeps history)."""
    from mlops_common.deploy import get_target
    from mlops_common.results import EXIT_OK

    # The status after stopping says "not healthy"; for this command that is the success.
    emit(get_target("local").stop(), as_json=as_json, output=output, exit_code=EXIT_OK)


@app.command("pin-image")
def pin_image(
    overlay: Annotated[
        Path, typer.Argument(help="Kustomize overlay folder, e.g. deploy/k8s/overlays/staging.")
    ],
    image: Annotated[
        str, typer.Argument(help="The image by digest (repo@sha256:...) or commit-SHA tag.")
    ],
    name: Annotated[
        str | None,
        typer.Option(help="Image name the base manifests use (default: the overlay's only one)."),
    ] = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Make a Kubernetes overlay run IMAGE (GitOps: commit the change, ArgoCD syncs it).

    Refuses a moving tag such as latest; needs no kustomize binary.
    """
    from mlops_common.deploy.kustomize import pin_image as pin

    emit(pin(overlay, image, name=name), as_json=as_json, output=output)


@app.command("pin-model")
def pin_model(
    overlay: Annotated[
        Path, typer.Argument(help="Kustomize overlay folder, e.g. deploy/k8s/overlays/production.")
    ],
    version: Annotated[
        str | None, version_argument("Pin exactly this version (default: the one behind ALIAS).")
    ] = None,
    alias: Annotated[str, typer.Option(help="Registry alias whose version to pin.")] = "champion",
    model: ModelName = None,
    config_map: Annotated[
        str | None,
        typer.Option(
            help="configMapGenerator entry the pods read (default: the overlay's only one)."
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Make a Kubernetes overlay serve VERSION, or the version behind ALIAS, of the model.

    Writes MLOPS_MODEL_URI=models:/<name>/<version> into the overlay's configMapGenerator: the
    ConfigMap's name hash changes, so committing it makes ArgoCD roll the pods (GitOps).
    """
    from mlops_common.deploy.base import resolve_model
    from mlops_common.deploy.kustomize import pin_model as pin

    found = resolve_model(
        model_name(model), alias=alias, version=version, tracking_uri=tracking_uri
    )
    emit(pin(overlay, found.uri, config_map=config_map), as_json=as_json, output=output)
