"""The `mlops` command as a whole: --version, the exit-code rule, --json/--output everywhere.

Exit codes go through the real `mlops` script (a subprocess, so `main()` maps errors); results go
through Typer's CliRunner on real files and a real sqlite MLflow store.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import mlops_common
from mlops_common import errors, results
from mlops_common.cli import EXIT_CODES, app

MLOPS = Path(sys.executable).parent / "mlops"

PASSING_SUITE = {
    "name": "orders",
    "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}],
}
FAILING_SUITE = {
    "name": "orders",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}}
    ],
}


def mlops(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [str(MLOPS), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("id,amount\n1,10.0\n2,\n3,7.5\n", encoding="utf-8")
    return path


@pytest.fixture
def suites(tmp_path: Path) -> dict[str, Path]:
    paths = {"pass": tmp_path / "pass.json", "fail": tmp_path / "fail.json"}
    paths["pass"].write_text(json.dumps(PASSING_SUITE), encoding="utf-8")
    paths["fail"].write_text(json.dumps(FAILING_SUITE), encoding="utf-8")
    return paths


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------ the app itself


def test_mlops_version_option_and_command_print_the_installed_version():
    for args in (["--version"], ["version"]):
        result = mlops(*args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == mlops_common.__version__


def test_mlops_help_states_the_one_exit_code_rule():
    result = mlops("--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Exit codes, the same for every command" in text
    for code in (0, 1, 2, 3):
        assert f"{code} {' '.join(EXIT_CODES[code].split())[:30]}" in text
    assert "not enough data to judge" in text and "verdict" in text
    assert "--install-completion" in text  # shell completion is on


def test_exit_code_constants_are_the_documented_rule():
    assert (results.EXIT_OK, results.EXIT_NEGATIVE) == (0, 1)
    assert (results.EXIT_INPUT, results.EXIT_ENVIRONMENT) == (2, 3)
    assert errors.InputError("x").exit_code == results.EXIT_INPUT
    assert errors.DeployError("x").exit_code == results.EXIT_INPUT
    for environment in (
        errors.EnvironmentProblem,
        errors.TrackingUnavailable,
        errors.CredentialsMissing,
        errors.TargetUnavailable,
    ):
        assert environment("x").exit_code == results.EXIT_ENVIRONMENT, environment
    assert issubclass(errors.CredentialsMissing, errors.DeployError)


def _leaf_commands(command, path=("mlops",)):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _leaf_commands(sub, (*path, name))
    else:
        yield " ".join(path), command


# Commands that return no result: the service runs until stopped; version prints one string.
NO_RESULT = {"mlops serve", "mlops version"}


def test_every_result_command_takes_json_and_output():
    commands = dict(_leaf_commands(typer.main.get_command(app)))
    assert {"mlops validate", "mlops drift", "mlops promote", "mlops rollback"} <= set(commands)
    for path, command in commands.items():
        if path in NO_RESULT:
            continue
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"--json", "--output", "-o"} <= options, path


def test_a_model_version_is_always_the_positional_version():
    commands = dict(_leaf_commands(typer.main.get_command(app)))
    for path in ("mlops promote", "mlops rollback", "mlops deploy up"):
        arguments = [p for p in commands[path].params if p.param_type_name == "argument"]
        assert [argument.name for argument in arguments] == ["version"], path
        assert arguments[0].metavar == "VERSION", path
        visible = {opt for p in commands[path].params if not p.hidden for opt in p.opts}
        assert not {"--to", "--version"} & visible, path


# ---------------------------------------------------------------------- --json and --output


def test_validate_json_on_stdout_and_output_file_hold_the_same_result(data, suites, tmp_path):
    out = tmp_path / "reports" / "validation.json"
    result = CliRunner().invoke(
        app, ["validate", str(suites["pass"]), str(data), "--json", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["success"] is True
    assert json.loads(out.read_text(encoding="utf-8")) == printed


def test_validate_without_json_prints_the_table_and_says_where_it_wrote(data, suites, tmp_path):
    out = tmp_path / "validation.json"
    result = CliRunner().invoke(app, ["validate", str(suites["fail"]), str(data), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.stdout and "expect_column_values_to_not_be_null" in result.stdout
    assert f"wrote {out}" in result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["success"] is False


def test_output_to_html_for_a_result_without_a_page_is_bad_input(data, suites, tmp_path):
    result = mlops("validate", str(suites["pass"]), str(data), "--output", str(tmp_path / "v.html"))
    assert result.returncode == 2, result.stderr
    assert "has no HTML page; give a .json path" in result.stderr


def test_drift_json_and_output(tmp_path):
    reference, current = tmp_path / "train.csv", tmp_path / "current.csv"
    rows = "\n".join(f"{i},{i % 3}" for i in range(200))
    reference.write_text("x,y\n" + rows + "\n", encoding="utf-8")
    current.write_text("x,y\n" + rows + "\n", encoding="utf-8")
    out = tmp_path / "drift.json"
    result = CliRunner().invoke(
        app, ["drift", str(reference), str(current), "--json", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["drift_detected"] is False
    assert json.loads(out.read_text(encoding="utf-8"))["drift_detected"] is False


# ------------------------------------------------------------------- registry, on a real store


@pytest.fixture
def registered(mlflow_store, tiny_classifier, tmp_path, unique_name) -> tuple[str, list[str]]:
    """Two registered versions of a fresh model, from one training run (accuracy 0.9)."""
    import mlflow

    from mlops_common.registry import register_model
    from mlops_common.tracking import log_model, tracked_run

    model, features, _ = tiny_classifier
    name = unique_name("cli")
    config = mlflow_store.config(tmp_path, experiment=name)
    with tracked_run("train", config=config) as run:
        mlflow.log_metric("accuracy", 0.9)
        log_model(model, input_example=features.head(5))
    uri = mlflow_store.tracking_uri
    return name, [register_model(run.info.run_id, name, tracking_uri=uri) for _ in range(2)]


def test_promote_and_rollback_take_json_output_and_a_positional_version(
    registered, mlflow_store, tmp_path
):
    name, (first, second) = registered
    params = tmp_path / "params.yaml"
    params.write_text(
        # Both versions come from one run: equal metrics, so only `ties: promote` crowns the second.
        "gate:\n  ties: promote\n  metrics:\n    accuracy: {min: 0.8, direction: higher}\n",
        encoding="utf-8",
    )
    store = ["--model", name, "--tracking-uri", mlflow_store.tracking_uri]
    runner = CliRunner()
    for version in (first, second):
        out = tmp_path / f"gate-{version}.json"
        promoted = runner.invoke(
            app,
            ["promote", version, "--params", str(params), *store, "--json", "-o", str(out)],
        )
        assert promoted.exit_code == 0, promoted.output
        assert json.loads(promoted.stdout)["promoted"] is True
        assert json.loads(out.read_text(encoding="utf-8"))["version"] == version

    out = tmp_path / "rollback.json"
    rolled = runner.invoke(app, ["rollback", first, *store, "--json", "--output", str(out)])
    assert rolled.exit_code == 0, rolled.output
    printed = json.loads(rolled.stdout)
    assert (printed["from_version"], printed["to_version"]) == (second, first)
    assert json.loads(out.read_text(encoding="utf-8")) == printed


def test_deprecated_to_still_rolls_back_with_one_warning_line(registered, mlflow_store, tmp_path):
    name, (first, second) = registered
    uri = mlflow_store.tracking_uri
    from mlops_common.registry import GateConfig, promote

    gate = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}})
    for version, accuracy in ((first, 0.9), (second, 0.91)):
        promote(
            name, version, {"accuracy": accuracy}, gate, validation_passed=True, tracking_uri=uri
        )

    result = mlops("rollback", "--to", first, "--model", name, "--tracking-uri", uri)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"warning: --to is deprecated; pass the version as an argument: `mlops rollback {first}`"
    ]
    assert f"champion moved from v{second} back to v{first}" in result.stdout

    both = mlops("rollback", second, "--to", first, "--model", name, "--tracking-uri", uri)
    assert both.returncode == 2
    assert both.stderr.strip().splitlines()[-1] == (
        f"error: two versions given (VERSION {second} and --to {first}); pass only VERSION"
    )


# ------------------------------------------------------------------ one exit code per class


def test_exit_0_ok_and_1_negative_verdict(data, suites):
    assert mlops("validate", str(suites["pass"]), str(data)).returncode == 0
    failed = mlops("validate", str(suites["fail"]), str(data))
    assert failed.returncode == 1, failed.stderr
    assert failed.stderr == ""  # a verdict, not an error


def test_exit_2_bad_input_files_and_arguments(suites, tmp_path):
    missing = mlops("validate", str(suites["pass"]), str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: ") and len(missing.stderr.splitlines()) == 1
    assert mlops("validate", str(suites["pass"])).returncode == 2  # missing argument
    assert mlops("promote", "1", "--no-such-option").returncode == 2


def test_exit_3_when_the_tracking_store_does_not_answer(tmp_path):
    uri = f"http://127.0.0.1:{_closed_port()}"
    result = mlops("rollback", "--model", "churn", "--tracking-uri", uri, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"error: MLflow tracking server {uri} did not answer")


def test_exit_3_when_cloud_credentials_are_missing(tmp_path):
    pytest.importorskip("boto3")
    from mlops_common.deploy.aws import CREDENTIALS_HINT

    (tmp_path / "pyproject.toml").write_text(
        "[tool.mlops]\nmodel_name = 'churn'\ncloud = 'aws'\naws_region = 'us-east-1'\n",
        encoding="utf-8",
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }
    result = subprocess.run(
        [str(MLOPS), "deploy", "status"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == f"error: {CREDENTIALS_HINT}"


def test_exit_4_on_an_unexpected_exception_never_1():
    boom = (
        "from mlops_common.cli import app, main\n"
        "app.command('boom')(lambda: {}['missing'])\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", boom, "boom"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" in result.stderr and "KeyError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: unexpected KeyError")


def test_the_script_exit_still_runs_atexit_callbacks_and_waits_for_threads():
    # main() skips finalizing the loaded modules; what a normal exit promises must still hold.
    script = (
        "import atexit, threading, time\n"
        "from mlops_common.cli import app, main\n"
        "atexit.register(lambda: print('atexit ran', flush=True))\n"
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    print('thread finished', flush=True)\n"
        "@app.command('work')\n"
        "def work(threaded: bool = False):\n"
        "    print('partial line without newline', end='')\n"
        "    if threaded:\n"
        "        threading.Thread(target=late).start()\n"
        "main()\n"
    )
    plain = subprocess.run(
        [sys.executable, "-c", script, "work"], capture_output=True, text=True, timeout=120
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "partial line without newlineatexit ran\n"
    threaded = subprocess.run(
        [sys.executable, "-c", script, "work", "--threaded"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert threaded.returncode == 0, threaded.stderr
    assert "thread finished" in threaded.stdout and "atexit ran" in threaded.stdout
