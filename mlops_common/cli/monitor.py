"""``mlops monitor``: the model's quality on captured traffic once labels arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson, Output, TrackingUri
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "monitor"]


def monitor(
    model: Annotated[
        str,
        typer.Argument(
            help="The model whose recorded test metrics are the bar: models:/NAME@champion "
            "or models:/NAME/VERSION."
        ),
    ],
    window: Annotated[
        str,
        typer.Argument(
            help="Captured predictions, as `mlops drift` takes them: the service's capture "
            "destination (a folder, glob or s3://, gs://, az:// URL of date=/hour= files) or "
            "a file."
        ),
    ],
    labels: Annotated[
        str | None,
        typer.Option(
            help="Labels (CSV, Parquet or JSON lines; a path or s3://, gs://, az:// URI) with "
            "request_id, the target column and, for requests of several records, row. "
            "Default: monitor.labels in --params."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only the capture window of the last 7d, 12h, 30m, ..."),
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Read labels, tolerance, min_rows and target from the `monitor:` section of "
            "this file (e.g. params.yaml); flags override it.",
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(help="Allowed absolute drop of a metric against the champion (default)."),
    ] = None,
    min_rows: Annotated[
        int | None,
        typer.Option(help="Fewer labelled rows than this is 'insufficient data' (exit 0)."),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="The labels' target column (default: target).")
    ] = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    as_json: AsJson = False,
) -> None:
    """Score captured predictions against labels and compare with MODEL's test metrics.

    Exit 1 when a metric fell behind the champion's by more than its tolerance; 0 when none
    did, or when fewer than min_rows rows have labels ("insufficient data", see `verdict` in
    --json); 2 on bad input.
    """
    from mlops_common.monitoring.performance import MonitorConfig, monitor_performance

    config = MonitorConfig.from_params(
        params, tolerance=tolerance, min_rows=min_rows, target=target
    )
    report = monitor_performance(
        model, window, labels, since=since, config=config, tracking_uri=tracking_uri
    )
    emit(report, as_json=as_json, output=output)


COMMANDS = (monitor,)
