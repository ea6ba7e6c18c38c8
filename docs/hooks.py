"""MkDocs hooks: pages that are generated from the code, so they cannot drift from it.

- ``reference/answers.md`` from ``copier.yml`` (every question, its help, choices, default, when)
- ``reference/cli.md`` from the Typer app behind ``mlops``
- ``examples/drift-report.html`` and ``examples/fleet-report.html`` produced by the real code
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import yaml
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.mlops")
ROOT = Path(__file__).resolve().parent.parent


def on_files(files: Files, config) -> Files:
    generated = {
        "reference/answers.md": answers_reference(ROOT / "copier.yml"),
        "reference/cli.md": cli_reference(),
        "examples/drift-report.html": drift_report_example(),
        "examples/fleet-report.html": fleet_report_example(),
    }
    for src_uri, content in generated.items():
        files.append(File.generated(config, src_uri, content=content))
    return files


# ---- copier.yml -------------------------------------------------------------------------------
def answers_reference(copier_yml: Path) -> str:
    questions = {
        name: spec
        for name, spec in yaml.safe_load(copier_yml.read_text(encoding="utf-8")).items()
        if not name.startswith("_")
    }
    asked = {name: spec for name, spec in questions.items() if spec.get("when") is not False}
    derived = {name: spec for name, spec in questions.items() if spec.get("when") is False}
    lines = [
        "# Template answers",
        "",
        "Generated from `copier.yml` at build time. Every answer is saved in the project's",
        "`.copier-answers.yml`, so `copier update --defaults` replays them unattended.",
        "",
        "| Answer | Type | Help | Choices | Default | Asked when |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, spec in asked.items():
        choices = spec.get("choices")
        if isinstance(choices, dict):
            choices = list(choices.values())
        lines.append(
            "| `{}` | {} | {}{} | {} | {} | {} |".format(
                name,
                spec.get("type", "str"),
                _cell(spec.get("help", "")),
                " (validated)" if spec.get("validator") else "",
                ", ".join(f"`{choice}`" for choice in choices) if choices else "",
                _code_cell(spec.get("default")),
                _code_cell(spec.get("when")) if "when" in spec else "always",
            )
        )
    lines += ["", "## Derived values (never asked)", ""]
    for name, spec in derived.items():
        lines.append(f"- `{name}`: {_code_cell(spec.get('default'))}")
    return "\n".join(lines) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _code_cell(value: object) -> str:
    if value is None or value == "":
        return "*(empty)*"
    text = _cell(value)
    return f"`{text}`" if "`" not in text else text


# ---- the mlops CLI ----------------------------------------------------------------------------
def cli_reference() -> str:
    import typer.main

    from mlops_common.cli import EXIT_CODES, app

    root = typer.main.get_command(app)
    lines = [
        "# `mlops` command reference",
        "",
        "Generated from the Typer app at build time. Every command accepts `--help`; "
        "`mlops --version` prints the installed version, and `mlops --install-completion` "
        "installs shell completion.",
        "",
        "Every command that returns a result takes `--json` (the result as JSON on stdout, "
        "nothing else) and `--output PATH` (also write it: JSON, or the HTML page for a `.html` "
        "path where the result has one). A model version is always the positional `VERSION`.",
        "",
        "## Exit codes",
        "",
        "The same rule for every command (`mlops --help` shows it too):",
        "",
        "| Code | Meaning |",
        "| --- | --- |",
        *(f"| `{code}` | {_cell(meaning)} |" for code, meaning in EXIT_CODES.items()),
        "",
        "Errors print one line on stderr that says what to fix (`error: ...`); a negative verdict "
        "is not an error: the summary (or `--json`) says why.",
        "",
    ]

    def walk(command, path: list[str]) -> None:
        if hasattr(command, "commands"):  # a group (Typer vendors its own click)
            if len(path) == 1:
                _params_table(command, path, lines)
            for name in sorted(command.commands):
                walk(command.commands[name], [*path, name])
            return
        _params_table(command, path, lines)

    walk(root, ["mlops"])
    return "\n".join(lines) + "\n"


def _params_table(command, path: list[str], lines: list[str]) -> None:
    lines.extend([f"## `{' '.join(path)}`", "", (command.help or "").strip(), ""])
    params = [param for param in command.params if param.name != "help" and not param.hidden]
    if not params:
        return
    lines.extend(["| Argument / option | Type | Default | Help |", "| --- | --- | --- | --- |"])
    for param in params:
        if param.param_type_name == "option":
            names = ", ".join(f"`{opt}`" for opt in param.opts)
        else:
            names = f"`{(param.metavar or param.name).upper()}`"
        default = "" if param.default in (None, (), [], False) else f"`{param.default}`"
        help_text = _cell(getattr(param, "help", "") or "")
        lines.append(f"| {names} | {param.bare_type()} | {default} | {help_text} |")
    lines.append("")
    deprecated = [param for param in command.params if param.hidden]
    if deprecated:
        aliases = ", ".join(f"`{opt}`" for param in deprecated for opt in param.opts)
        lines.extend(
            [f"Deprecated, still accepted with a warning: {aliases} (pass `VERSION`).", ""]
        )


# ---- examples produced by the real code -------------------------------------------------------
def drift_report_example() -> str:
    import numpy as np
    import pandas as pd

    from mlops_common.monitoring import detect_drift

    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {
            "mean_radius": rng.normal(14, 3.5, 2_000),
            "mean_texture": rng.normal(19, 4, 2_000),
            "tumor_site": rng.choice(["left", "right"], 2_000),
        }
    )
    current = pd.DataFrame(
        {
            "mean_radius": rng.normal(16, 3.5, 500),  # shifted: should be flagged
            "mean_texture": rng.normal(19, 4, 500),
            "tumor_site": rng.choice(["left", "right", "bilateral"], 500, p=[0.4, 0.4, 0.2]),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drift.html"
        detect_drift(reference, current).write_html(path)
        return path.read_text(encoding="utf-8")


def fleet_report_example() -> str:
    import copier

    from mlops_common.fleet import collect_projects, fleet_status

    with tempfile.TemporaryDirectory() as tmp:
        fleet_dir = Path(tmp)
        for name, answers in {
            "churn-model": {"project_name": "Churn Model"},
            "demand-forecast": {
                "project_name": "Demand Forecast",
                "ml_task": "regression",
                "cloud": "aws",
                "ci": "gitlab",
            },
        }.items():
            copier.run_copy(
                str(ROOT),
                str(fleet_dir / name),
                data=answers,
                defaults=True,
                unsafe=True,
                quiet=True,
            )
        (fleet_dir / "legacy-notebooks").mkdir()  # not a Copier project: reported, not crashed
        report = fleet_status(collect_projects([], scan=fleet_dir))
        path = fleet_dir / "fleet.html"
        report.write_html(path)
        return path.read_text(encoding="utf-8")
