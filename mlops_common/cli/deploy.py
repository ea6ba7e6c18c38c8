"""``mlops deploy``: ship the champion to the cloud's serving target, check it, roll it back."""

from __future__ import annotations

import typer

from mlops_common.cli._render import emit_json


def register(app: typer.Typer) -> None:
    deploy_app = typer.Typer(
        help="Deploy the champion model to the project's target.", no_args_is_help=True
    )
    app.add_typer(deploy_app, name="deploy")

    @deploy_app.command("up")
    def up(
        target: str | None = typer.Option(
            None, help="local, aws, gcp or azure (default: the project's cloud)."
        ),
        alias: str = typer.Option("champion", help="Registry alias to deploy."),
        version: str | None = typer.Option(None, help="Deploy exactly this version instead."),
        port: int | None = typer.Option(None, help="local target: port to serve on."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Deploy the model behind ALIAS."""
        from mlops_common.deploy import get_target

        settings = {"port": port} if port is not None else {}
        result = get_target(target, **settings).deploy(alias=alias, version=version)
        emit_json(result) if as_json else typer.echo(result.summary())

    @deploy_app.command("status")
    def status(
        target: str | None = typer.Option(None, help="local, aws, gcp or azure."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show what is deployed and whether it is healthy; exit 1 when it is not."""
        from mlops_common.deploy import get_target

        result = get_target(target).status()
        emit_json(result) if as_json else typer.echo(result.summary())
        raise typer.Exit(0 if result.healthy else 1)

    @deploy_app.command("rollback")
    def rollback(
        target: str | None = typer.Option(None, help="local, aws, gcp or azure."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Redeploy the previously deployed model version."""
        from mlops_common.deploy import get_target

        result = get_target(target).rollback()
        emit_json(result) if as_json else typer.echo(result.summary())

    @deploy_app.command("down")
    def down(as_json: bool = typer.Option(False, "--json")) -> None:
        """Stop the local server started by `mlops deploy up --target local` (keeps history)."""
        from mlops_common.deploy import get_target

        result = get_target("local").stop()
        emit_json(result) if as_json else typer.echo(result.summary())
