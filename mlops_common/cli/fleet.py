"""``mlops fleet status|check|update`` across many client projects, and ``mlops update`` for one.

Every command ends in :func:`mlops_common.cli._render.emit`: ``--json`` prints the report,
``--output report.html`` (or ``.json``) also writes it, and the exit code is the report's:
0 nothing to do, 1 a project needs a person (out of policy, too far behind, needs review,
conflicts, failed checks), 2 bad input, 3 the environment (Copier missing, no token).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["fleet_app", "register"]

fleet_app = typer.Typer(
    help="Status, CI check and safe bulk update of many client projects.", no_args_is_help=True
)

Projects = Annotated[
    list[str] | None, typer.Argument(help="Project paths or git URLs.", show_default=False)
]
Inventory = Annotated[
    Path | None, typer.Option(help="YAML inventory: projects: and templates: lists.")
]
Scan = Annotated[Path | None, typer.Option(help="Folder to scan for .copier-answers.yml.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Also write the report: .html for the page, else JSON."),
]
Trusted = Annotated[
    list[str] | None,
    typer.Option(
        "--template",
        help="A template source this run may apply (repeatable); others are skipped.",
    ),
]
To = Annotated[str | None, typer.Option("--to", help="Template release (default: newest).")]
Check = Annotated[
    str | None,
    typer.Option(
        help="Shell command run in each updated project "
        "(default: ruff check, pytest, dvc status and the pipeline's params)."
    ),
]
Base = Annotated[
    str | None, typer.Option(help="Branch to cut the update from (default: the default branch).")
]
Refresh = Annotated[bool, typer.Option(help="Rebuild an update branch that already exists.")]
DryRun = Annotated[bool, typer.Option(help="Print each project's diff; write nothing.")]
Push = Annotated[bool, typer.Option(help="Push the update branch to the project's origin.")]
OpenPr = Annotated[
    bool, typer.Option(help="Push and open a GitHub PR / GitLab MR (token from the environment).")
]
Forge = Annotated[
    str | None, typer.Option(help="github or gitlab, when the remote's host does not say.")
]
ForgeApi = Annotated[str | None, typer.Option(help="API root of the forge (default: from host).")]


def _collect(projects, inventory, scan):
    from mlops_common.fleet import collect_projects

    return collect_projects(projects or [], inventory=inventory, scan=scan)


def _emit(report, as_json: bool, output: Path | None) -> None:
    from mlops_common.cli._render import emit

    emit(report, as_json=as_json, output=output)


@fleet_app.command("status")
def status(
    projects: Projects = None,
    inventory: Inventory = None,
    scan: Scan = None,
    template: Annotated[
        str | None, typer.Option(help="Read releases from here (default: each _src_path).")
    ] = None,
    as_json: AsJson = False,
    output: Output = None,
) -> None:
    """Versions, conformance and metrics per project; exit 1 if any is out of policy."""
    from mlops_common.fleet import fleet_status

    _emit(fleet_status(_collect(projects, inventory, scan), template=template), as_json, output)


@fleet_app.command("check")
def check(
    projects: Projects = None,
    inventory: Inventory = None,
    scan: Scan = None,
    template: Annotated[
        str | None, typer.Option(help="Read releases from here (default: each _src_path).")
    ] = None,
    max_behind: Annotated[
        int, typer.Option(min=0, help="Releases a project may lag behind the newest.")
    ] = 2,
    as_json: AsJson = False,
    output: Output = None,
) -> None:
    """CI gate: exit 1 when a project is more than --max-behind releases behind."""
    from mlops_common.fleet import fleet_check

    report = fleet_check(
        _collect(projects or ([] if inventory or scan else ["."]), inventory, scan),
        template=template,
        max_behind=max_behind,
    )
    _emit(report, as_json, output)


# The options `mlops fleet update` and `mlops update` share, forwarded to fleet_update by name.
UPDATE_OPTIONS = (
    "to",
    "check",
    "base",
    "refresh",
    "dry_run",
    "push",
    "open_pr",
    "forge",
    "forge_api",
)


def _update_and_emit(projects, *, inventory, templates, jobs, command_locals) -> None:
    """Run fleet_update with the shared options taken from the command's own parameters."""
    from mlops_common.fleet import fleet_update, inventory_templates

    named = list(templates or [])
    if inventory is not None:
        named += inventory_templates(inventory)
    options = {name: command_locals[name] for name in UPDATE_OPTIONS}
    report = fleet_update(projects, templates=named, jobs=jobs, **options)
    _emit(report, command_locals["as_json"], command_locals["output"])


@fleet_app.command("update")
def update(
    projects: Projects = None,
    inventory: Inventory = None,
    scan: Scan = None,
    template: Trusted = None,
    to: To = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Projects in parallel.")] = 4,
    check: Check = None,
    base: Base = None,
    refresh: Refresh = False,
    dry_run: DryRun = False,
    push: Push = False,
    open_pr: OpenPr = False,
    forge: Forge = None,
    forge_api: ForgeApi = None,
    as_json: AsJson = False,
    output: Output = None,
) -> None:
    """Update each project on a review branch and check it; exit 1 unless nothing needs a person."""
    _update_and_emit(
        _collect(projects, inventory, scan),
        inventory=inventory,
        templates=template,
        jobs=jobs,
        command_locals=locals(),
    )


def update_project(
    path: Annotated[Path, typer.Argument(help="The project (default: here).")] = Path("."),
    template: Trusted = None,
    to: To = None,
    check: Check = None,
    base: Base = None,
    refresh: Refresh = False,
    dry_run: DryRun = False,
    push: Push = False,
    open_pr: OpenPr = False,
    forge: Forge = None,
    forge_api: ForgeApi = None,
    as_json: AsJson = False,
    output: Output = None,
) -> None:
    """Update this project on a review branch, by the fleet's safe path (name --template)."""
    if not template:
        from mlops_common.errors import FleetError
        from mlops_common.fleet.status import read_answers

        recorded = (read_answers(path) or {}).get("_src_path", "SRC")
        raise FleetError(
            f"name the template this update may apply: mlops update --template {recorded} "
            "(tasks and migrations run only from a source you name)"
        )
    _update_and_emit(
        _collect([str(path)], None, None),
        inventory=None,
        templates=template,
        jobs=1,
        command_locals=locals(),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(fleet_app, name="fleet")
    app.command("update")(update_project)
