"""`mlops validate` skips Typer on a plain call and answers exactly as Typer does.

Each command line runs twice through the real `mlops` script: once as users run it (a plain call
takes the direct path) and once with the direct path switched off, so Typer parses it. Output,
files written and exit codes must be the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_common.cli._direct import parse
from mlops_common.cli.validate import validate

# The same entry point as the `mlops` script, optionally with the direct path switched off.
ENTRY = (
    "import sys\n"
    "from mlops_common.cli import _direct, main\n"
    "if sys.argv.pop(1) == 'typer':\n"
    "    _direct.DIRECT_COMMANDS.clear()\n"
    "main()\n"
)
SUITE = {
    "name": "orders",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 10},
        },
    ],
}


def _mlops(how: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, how, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "suite.json").write_text(json.dumps(SUITE), encoding="utf-8")
    (tmp_path / "orders.csv").write_text("id,amount\n1,5\n2,50\n3,\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    return tmp_path


PLAIN_CALLS = [
    ["suite.json", "orders.csv"],
    ["suite.json", "orders.csv", "--verbose"],
    ["suite.json", "orders.csv", "-v", "--json"],
    ["--json", "suite.json", "orders.csv", "-o", "out/result.json"],
    ["suite.json", "orders.csv", "--engine", "pandas", "--output", "out/result.json"],
    ["suite.json", "missing.csv"],
    ["suite.json", "orders.csv", "--engine", "nope"],
    ["suite.json", "orders.csv", "--table", "t"],
]
FOR_TYPER = [
    ["suite.json"],
    ["suite.json", "orders.csv", "extra"],
    ["suite.json", "orders.csv", "--bogus"],
    ["suite.json", "orders.csv", "--output"],
    ["suite.json", "orders.csv", "--output", "folder"],
    ["suite.json", "orders.csv", "--engine=pandas"],
    ["--help"],
]


@pytest.mark.parametrize(
    "args", PLAIN_CALLS + FOR_TYPER, ids=lambda args: " ".join(args) if args else "-"
)
def test_direct_path_answers_as_typer_does(files, args, monkeypatch):
    monkeypatch.chdir(files)
    assert (parse(validate, args) is not None) == (args in PLAIN_CALLS)
    direct = _mlops("direct", "validate", *args, cwd=files)
    written = (files / "out" / "result.json").read_text() if "out/result.json" in args else None
    typer_run = _mlops("typer", "validate", *args, cwd=files)
    assert (direct.returncode, direct.stdout, direct.stderr) == (
        typer_run.returncode,
        typer_run.stdout,
        typer_run.stderr,
    )
    if written is not None:
        assert written == (files / "out" / "result.json").read_text()
    assert direct.returncode in (0, 1, 2), direct.stderr


def test_plain_validate_call_loads_neither_pydantic_nor_other_commands(files):
    probe = (
        "import sys\n"
        "from mlops_common.cli import _direct\n"
        "try:\n"
        "    _direct.run(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "loaded = [m for m in ('pydantic', 'rich', 'mlops_common.cli._app',\n"
        "          'mlops_common.cli.registry', 'great_expectations') if m in sys.modules]\n"
        "print(code, loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "validate", "suite.json", "orders.csv"],
        capture_output=True,
        text=True,
        cwd=files,
        timeout=120,
    )
    assert result.stderr.strip().splitlines()[-1] == "1 []", result.stderr
    assert result.stdout.startswith("suite orders on orders.csv: FAILED")


def test_parse_reads_the_options_from_the_command_signature():
    parsed = parse(validate, ["s.json", "d.csv", "-o", "r.json", "--engine", "sql", "-v"])
    assert parsed == {
        "suite": Path("s.json"),
        "data": "d.csv",
        "engine": "sql",
        "table": None,
        "schema": None,
        "output": Path("r.json"),
        "as_json": False,
        "verbose": True,
    }
    for needs_typer in (["s.json"], ["s.json", "d.csv", "-h"], ["s.json", "d.csv", "-vo", "x"]):
        assert parse(validate, needs_typer) is None


def test_a_reader_that_leaves_early_ends_both_paths_the_same_way(files):
    ended = {}
    for how in ("direct", "typer"):
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, how, "validate", "suite.json", "orders.csv", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=files,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # like `| head -0`: the first write hits a closed pipe
        ended[how] = (process.wait(timeout=120), process.stderr.read())
    assert ended["direct"] == ended["typer"]
    assert ended["direct"][0] == 1 and b"Traceback" not in ended["direct"][1]
