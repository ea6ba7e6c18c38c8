"""``mlops doctor``: is this environment fit to run the project?"""

from __future__ import annotations

from typing import Annotated

import typer

from mlops_common.cli._options import AsJson, Output, TrackingUri

__all__ = ["COMMANDS", "doctor"]


def doctor(
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="Run only this check (repeatable): library, template, tracking, dvc_remote.",
        ),
    ] = None,
    tracking_uri: TrackingUri = None,
    as_json: AsJson = False,
    output: Output = None,
) -> None:
    """Check the installed mlops-common against the project's pin, the template release, the
    tracking store and the DVC remote; each failure is one line with its fix (exit code 3)."""
    from mlops_common.cli._render import emit
    from mlops_common.doctor import CHECKS, run_doctor
    from mlops_common.errors import InputError

    unknown = sorted(set(check or ()) - set(CHECKS))
    if unknown:
        raise InputError(f"unknown check {', '.join(unknown)}; choose from {', '.join(CHECKS)}")
    result = run_doctor(checks=check or CHECKS, tracking_uri=tracking_uri)
    emit(result, as_json=as_json, output=output)


COMMANDS = (doctor,)
