"""``mlops fleet``: status and bulk update across many client projects."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    fleet_app = typer.Typer(
        help="Status and bulk update of many client projects.", no_args_is_help=True
    )
    app.add_typer(fleet_app, name="fleet")

    @fleet_app.command("status")
    def status(
        projects: list[str] | None = typer.Argument(None, help="Project paths or git URLs."),
        inventory: Path | None = typer.Option(None, help="YAML inventory file listing projects."),
        scan: Path | None = typer.Option(None, help="Folder to scan for .copier-answers.yml."),
        template: str | None = typer.Option(
            None, help="Template repository to read releases from (default: each _src_path)."
        ),
        as_json: bool = typer.Option(False, "--json"),
        html: Path | None = typer.Option(None, help="Write a self-contained HTML report here."),
    ) -> None:
        """Versions, conformance and metrics per project; exit 1 if any is out of policy."""
        from mlops_common.fleet import collect_projects, fleet_status

        report = fleet_status(
            collect_projects(projects or [], inventory=inventory, scan=scan), template=template
        )
        _show(report, as_json=as_json, html=html)
        raise typer.Exit(0 if report.in_policy else 1)

    @fleet_app.command("update")
    def update(
        projects: list[str] | None = typer.Argument(None, help="Project paths or git URLs."),
        inventory: Path | None = typer.Option(None, help="YAML inventory file listing projects."),
        scan: Path | None = typer.Option(None, help="Folder to scan for .copier-answers.yml."),
        to: str | None = typer.Option(None, "--to", help="Template release (default: newest)."),
        jobs: int = typer.Option(4, "--jobs", "-j", min=1, help="Projects updated in parallel."),
        check: str | None = typer.Option(
            None,
            "--check",
            help="Shell command run in each updated project (default: ruff check + pytest).",
        ),
        as_json: bool = typer.Option(False, "--json"),
        html: Path | None = typer.Option(None, help="Write a self-contained HTML report here."),
    ) -> None:
        """Update each project on a new branch, run its checks; exit 1 unless all clean."""
        from mlops_common.fleet import collect_projects, fleet_update

        report = fleet_update(
            collect_projects(projects or [], inventory=inventory, scan=scan),
            to=to,
            jobs=jobs,
            check=check,
        )
        _show(report, as_json=as_json, html=html)
        raise typer.Exit(0 if report.all_clean else 1)


def _show(report, *, as_json: bool, html: Path | None) -> None:
    from mlops_common.cli._render import emit_json, emit_table

    if html is not None:
        report.write_html(html)
    if as_json:
        emit_json(report)
    else:
        emit_table(report.title, report.columns, report.rows())
        summary = report.summary()
        typer.echo(", ".join(f"{name}: {count}" for name, count in summary.items()))
