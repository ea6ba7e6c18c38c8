"""``mlops drift``: compare current data (e.g. logged predictions) with the training baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson, Output
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "drift"]


def drift(
    reference: Annotated[Path, typer.Argument(help="Baseline data (the training set).")],
    current: Annotated[Path, typer.Argument(help="Current data (e.g. logs/predictions.jsonl).")],
    columns: Annotated[
        list[str] | None, typer.Option("--column", "-c", help="Only these columns.")
    ] = None,
    categorical: Annotated[
        list[str] | None,
        typer.Option(help="Compare these columns as categories (e.g. int codes)."),
    ] = None,
    psi_threshold: Annotated[
        float, typer.Option(help="PSI above this marks a column drifted.")
    ] = 0.2,
    p_value: Annotated[
        float, typer.Option(help="KS / chi-square p-value below this marks drift.")
    ] = 0.05,
    output: Output = None,
    html: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Also write the self-contained HTML report here."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Detect drift of CURRENT against REFERENCE; exit 1 when drift is detected."""
    from mlops_common.monitoring import DriftConfig, detect_drift

    config = DriftConfig(psi_threshold=psi_threshold, p_value=p_value)
    report = detect_drift(
        reference, current, columns=columns or None, categorical=categorical, config=config
    )
    if html is not None:
        report.write_html(html)
    emit(report, as_json=as_json, output=output)


COMMANDS = (drift,)
