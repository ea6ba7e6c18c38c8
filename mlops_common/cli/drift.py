"""``mlops drift``: compare current data (e.g. logged predictions) with the training baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlops_common.cli._options import AsJson, Output, TrackingUri
from mlops_common.cli._render import emit

__all__ = ["COMMANDS", "drift"]


def drift(
    reference: Annotated[
        str,
        typer.Argument(
            help="Baseline: the training data (CSV, Parquet, JSON lines), a profile file "
            "(*profile.json), or a model URI (models:/NAME@champion) whose logged profile is used."
        ),
    ],
    current: Annotated[
        str,
        typer.Argument(
            help="Current data: a file (e.g. logs/predictions.jsonl), or the service's capture "
            "destination (a folder, glob or s3://, gs://, az:// URL of date=/hour= files)."
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(help="Only the capture window of the last 7d, 12h, 30m, ..."),
    ] = None,
    columns: Annotated[
        list[str] | None, typer.Option("--column", "-c", help="Only these columns.")
    ] = None,
    categorical: Annotated[
        list[str] | None,
        typer.Option(help="Compare these columns as categories (e.g. int codes)."),
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Read thresholds from the `drift:` section of this file (e.g. params.yaml); "
            "flags override it, the library's defaults fill the rest.",
        ),
    ] = None,
    min_rows: Annotated[
        int | None,
        typer.Option(help="Fewer current rows than this is 'insufficient data' (exit 0)."),
    ] = None,
    p_value: Annotated[
        float | None,
        typer.Option(help="KS / chi-square p-value below this marks drift (small windows)."),
    ] = None,
    wasserstein_threshold: Annotated[
        float | None,
        typer.Option(help="Normed Wasserstein above this marks drift (large windows, numeric)."),
    ] = None,
    jensenshannon_threshold: Annotated[
        float | None,
        typer.Option(help="Jensen-Shannon distance above this marks drift (large, categorical)."),
    ] = None,
    drift_share: Annotated[
        float | None,
        typer.Option(help="The data drifts when at least this share of columns drifted."),
    ] = None,
    psi_threshold: Annotated[
        float | None, typer.Option(help="PSI above this marks drift where the test is psi.")
    ] = None,
    dataset_rule: Annotated[
        str | None,
        typer.Option(
            help="share: the data drifts when drift_share of the columns drifted; "
            "any_corrected: when one column does, p-values corrected for the number of columns "
            "(Holm), so a one-column shift is caught.",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="spark: CURRENT (and a data REFERENCE) are Parquet datasets that Spark profiles "
            "in place (s3a://, gs://, abfss:// too); only aggregates reach this machine. sql: "
            "CURRENT is a database URL and --table its table, profiled by queries in the "
            "database (the default with --table)."
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(help="The current window is this table of the database at CURRENT."),
    ] = None,
    schema: Annotated[str | None, typer.Option(help="The table's schema (with --table).")] = None,
    tracking_uri: TrackingUri = None,
    output: Output = None,
    html: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Also write the self-contained HTML report here."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Detect drift of CURRENT against REFERENCE.

    Exit 1 when the data drifted (at least drift_share of the columns); 0 when it did not or
    when the window has fewer than min_rows rows ("insufficient data", see `verdict` in --json).
    """
    from mlops_common.monitoring import DriftConfig, detect_drift

    config = DriftConfig.from_params(
        params,
        min_rows=min_rows,
        p_value=p_value,
        wasserstein_threshold=wasserstein_threshold,
        jensenshannon_threshold=jensenshannon_threshold,
        drift_share=drift_share,
        psi_threshold=psi_threshold,
        dataset_rule=dataset_rule,
    )
    if engine not in (None, "pandas", "spark", "sql"):
        from mlops_common.errors import InputError

        raise InputError(f"--engine {engine!r} is not one of pandas, spark, sql")
    if engine == "sql" or (engine is None and table is not None):
        report = _sql_drift(
            reference, current, table, schema, since, columns, categorical, config, tracking_uri
        )
        if html is not None:
            report.write_html(html)
        emit(report, as_json=as_json, output=output)
        return
    if table is not None or schema is not None:
        from mlops_common.errors import InputError

        raise InputError("--table and --schema name a database table: use them with --engine sql")
    if engine == "spark":
        report = _spark_drift(reference, current, since, columns, categorical, config, tracking_uri)
        if html is not None:
            report.write_html(html)
        emit(report, as_json=as_json, output=output)
        return
    baseline: object = reference
    if reference.startswith("models:/"):
        from mlops_common.monitoring.profile import load_logged_profile

        baseline = load_logged_profile(reference, tracking_uri=tracking_uri)
    from mlops_common.serving.capture import read_window

    window, source = read_window(current, since=since)
    report = detect_drift(
        baseline, window, columns=columns or None, categorical=categorical, config=config
    )
    report.current_source = source
    if html is not None:
        report.write_html(html)
    emit(report, as_json=as_json, output=output)


def _spark_drift(reference, current, since, columns, categorical, config, tracking_uri):
    from mlops_common.errors import InputError
    from mlops_common.monitoring import spark as spark_drift
    from mlops_common.monitoring.profile import is_profile_path
    from mlops_common.validation.spark import read_dataset

    if since is not None:
        raise InputError("--since reads the service's capture files: use it without --engine spark")
    current_df, current_source = read_dataset(current)
    baseline: object = reference
    if not reference.startswith("models:/") and not is_profile_path(reference):
        baseline, _ = read_dataset(reference)
    report = spark_drift.detect_drift(
        baseline,
        current_df,
        columns=columns or None,
        categorical=categorical,
        config=config,
        current_source=current_source,
        tracking_uri=tracking_uri,
    )
    if baseline is not reference and not isinstance(baseline, str):
        report.reference_source = reference
    return report


def _sql_drift(reference, current, table, schema, since, columns, categorical, config, uri):
    from mlops_common.errors import InputError
    from mlops_common.monitoring import sql as sql_drift
    from mlops_common.validation.sql import is_database_url

    if since is not None:
        raise InputError("--since reads the service's capture files: use it without --engine sql")
    if table is None:
        raise InputError("--engine sql compares a table: give --table NAME")
    if not is_database_url(current):
        raise InputError(
            f"{current}: not a database URL; give one such as duckdb:///warehouse.duckdb or "
            "sqlite:///monitoring.db (and --table)"
        )
    return sql_drift.detect_drift(
        reference,
        current,
        table,
        schema=schema,
        columns=columns or None,
        categorical=categorical,
        config=config,
        tracking_uri=uri,
    )


COMMANDS = (drift,)
