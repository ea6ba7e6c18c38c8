"""``mlops promote`` and ``mlops rollback``: the promotion gate and its undo."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mlops_common.cli._render import emit_json


def register(app: typer.Typer) -> None:
    @app.command()
    def promote(
        version: str = typer.Argument(..., help="Model version to consider for champion."),
        metrics: Path | None = typer.Option(
            None,
            "--metrics",
            help="JSON file of the candidate's metrics (default: the metrics of its run).",
        ),
        params: Path = typer.Option(
            Path("params.yaml"), help="params.yaml holding the `gate` section."
        ),
        validation: Path | None = typer.Option(
            None,
            "--validation",
            help="Validation result JSON of the training data (default: the run's "
            "mlops.validation.success tag; passed when the run recorded none).",
        ),
        model: str | None = typer.Option(None, "--model", help="Registered model name."),
        tracking_uri: str | None = typer.Option(None, help="MLflow tracking URI."),
        as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
    ) -> None:
        """Apply the promotion gate to VERSION; exit 1 when the gate refuses it."""
        from mlops_common.config import load_params, load_project_config
        from mlops_common.errors import InputError
        from mlops_common.registry import GateConfig, validation_status
        from mlops_common.registry import promote as run_promote

        model_name = model or load_project_config().model_name
        gate = GateConfig.from_dict(load_params(params).get("gate", {}))
        candidate = None if metrics is None else _read_json(metrics, InputError)
        if validation is not None:
            report = _read_json(validation, InputError)
            validation_passed = report.get("success") is True
        else:
            status = validation_status(model_name, version, tracking_uri=tracking_uri)
            validation_passed = status is not False
        decision = run_promote(
            model_name,
            version,
            candidate,
            gate,
            validation_passed=validation_passed,
            tracking_uri=tracking_uri,
        )
        if as_json:
            emit_json(decision)
        else:
            typer.echo(decision.summary())
        raise typer.Exit(0 if decision.promoted else 1)

    @app.command()
    def rollback(
        to: str | None = typer.Option(
            None, "--to", help="Version to make champion (default: the previous champion)."
        ),
        model: str | None = typer.Option(None, "--model", help="Registered model name."),
        tracking_uri: str | None = typer.Option(None, help="MLflow tracking URI."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Move the `champion` alias back to an earlier version."""
        from mlops_common.config import load_project_config
        from mlops_common.registry import rollback as run_rollback

        model_name = model or load_project_config().model_name
        result = run_rollback(model_name, to_version=to, tracking_uri=tracking_uri)
        if as_json:
            emit_json(result)
        else:
            typer.echo(result.summary())


def _read_json(path: Path, error: type[Exception]) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found; check the path") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object")
    return data
