"""Every task of this project is a nox session (`python -m pip install nox uv`, then `nox -s X`).

nox -s lint       ruff check + ruff format --check
nox -s tests      the project's tests (data suites, model, service)
nox -s pipeline   dvc repro (prepare -> validate -> train -> evaluate -> register), then metrics
nox -s drift      continuous training's check: the captured traffic against the champion
nox -s retrain    retrain on fresh data (dvc repro --force up to evaluate)
nox -s challenge  the gate's verdict on the retrained candidate vs the champion, same holdout
nox -s wheels     every wheel the service image installs, into wheels/ (before docker build)

CI runs these same sessions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]
# Precompiled bytecode in every environment: under PYTHONDONTWRITEBYTECODE=1 (common in
# containers and CI) uv would otherwise leave every import to compile from source, every run.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

ROOT = Path(__file__).parent
REPORTS = ROOT / "reports"
# [tool.mlops] and params.yaml as the library reads them, from the project's own environment.
SETTINGS = (
    "import json; from mlops_common.config import load_params, load_project_config; "
    "c = load_project_config(); labels = (load_params().get('monitor') or {}).get('labels'); "
    "print(json.dumps({'model': c.model_name, 'capture': c.capture_uri, "
    "'window': c.capture_window, 'labels': labels or ''}))"
)


def install_project(session: nox.Session) -> None:
    """The project and its dev tools: exactly uv.lock when it is committed."""
    # Never with --no-venv: uv would make the interpreter's own environment match the lock.
    if (ROOT / "uv.lock").is_file() and shutil.which("uv") and session.venv_backend != "none":
        session.run_install(
            "uv",
            "sync",
            "--locked",
            "--extra",
            "dev",
            env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
            external=True,
        )
    else:
        session.install("-e", ".[dev]")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """The project's tests; extra arguments go to pytest (`nox -s tests -- -k data`)."""
    install_project(session)
    session.run("pytest", *session.posargs)


@nox.session
def pipeline(session: nox.Session) -> None:
    """Run the DVC pipeline (only the stages whose inputs changed) and show the metrics."""
    install_project(session)
    session.run("dvc", "repro", *session.posargs)
    session.run("dvc", "metrics", "show")


def settings(session: nox.Session) -> dict[str, str]:
    """Model name, capture destination and window, monitor labels (see SETTINGS)."""
    output = session.run("python", "-c", SETTINGS, silent=True) or "{}"
    return json.loads(output.strip().splitlines()[-1])


def answer(session: nox.Session, *command: str) -> int:
    """Exit code of a check whose 0 and 1 are both answers (anything else fails the session)."""
    path = os.pathsep.join([*(session.bin_paths or []), os.environ.get("PATH", "")])
    session.log(" ".join(command))
    code = subprocess.run(command, cwd=ROOT, env={**os.environ, "PATH": path}).returncode
    if code not in (0, 1):
        session.error(f"`{' '.join(command[:2])}` exited {code}")
    return code


@nox.session
def drift(session: nox.Session) -> None:
    """Continuous training's check: the last capture window against the champion's profile.

    Writes reports/drift.json (and .html), reports/drift.md (the job summary) and
    reports/verdict.env (RETRAIN=true|false). "insufficient data" never retrains. With
    `monitor.labels` in params.yaml, `mlops monitor` also checks the model's quality on the
    window. `nox -s drift -- 30d` reads another window.
    """
    install_project(session)
    found = settings(session)
    capture, model = found["capture"], f"models:/{found['model']}@champion"
    window = session.posargs[0] if session.posargs else found["window"]
    REPORTS.mkdir(exist_ok=True)
    for stale in ("drift.json", "drift.html", "monitor.json"):
        (REPORTS / stale).unlink(missing_ok=True)
    lines, retrain = [f"### Continuous training: {capture}, last {window}", ""], False
    if not capture:
        session.error("no capture destination: set `capture` in [tool.mlops] (pyproject.toml)")
    if "://" not in capture and not Path(capture).is_dir():
        lines.append(f"No capture at {capture} on this machine: nothing to compare, no retraining.")
    else:
        code = answer(
            session,
            "mlops",
            "drift",
            model,
            capture,
            "--since",
            window,
            "--params",
            "params.yaml",
            "--output",
            "reports/drift.json",
            "--html",
            "reports/drift.html",
        )
        report = json.loads((REPORTS / "drift.json").read_text(encoding="utf-8"))
        verdict, retrain = report["verdict"], code == 1
        drifted = report.get("drifted_columns") or []
        shown = ", ".join(drifted[:8]) + (f" and {len(drifted) - 8} more" if drifted[8:] else "")
        named = f": {shown}" if drifted else ""
        lines.append(f"Drift: **{verdict}** ({len(drifted)} drifted columns{named})")
        if verdict == "insufficient data":
            rows = report.get("current_rows")
            lines.append(f"Too few captured rows ({rows}) to judge: no retraining this time.")
        if found["labels"] and verdict != "insufficient data":
            code = answer(
                session,
                "mlops",
                "monitor",
                model,
                capture,
                "--since",
                window,
                "--labels",
                found["labels"],
                "--params",
                "params.yaml",
                "--output",
                "reports/monitor.json",
            )
            quality = json.loads((REPORTS / "monitor.json").read_text(encoding="utf-8"))
            retrain = retrain or code == 1  # degradation
            lines.append(f"Quality on labelled traffic: **{quality['verdict']}**.")
    lines.append("")
    lines.append("Retraining on fresh data." if retrain else "No retraining.")
    (REPORTS / "drift.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (REPORTS / "verdict.env").write_text(f"RETRAIN={str(retrain).lower()}\n", encoding="utf-8")
    session.log(" ".join(lines[2:]))


@nox.session
def retrain(session: nox.Session) -> None:
    """Retrain on fresh data: every stage up to evaluate, forced (the source may have changed
    without any file of the project changing). The registry is not touched."""
    install_project(session)
    session.run("dvc", "repro", "--force", "evaluate")


@nox.session
def challenge(session: nox.Session) -> None:
    """The gate's verdict on the retrained candidate against the champion scored on the same
    fresh test split (reports/challenge.json and .md); reads the registry, never writes it."""
    install_project(session)
    package = next(p.parent.name for p in (ROOT / "src").glob("*/stages.py"))
    session.run("python", "-m", f"{package}.stages", "challenge")
    decision = json.loads((REPORTS / "challenge.json").read_text(encoding="utf-8"))
    verdict = "passes the gate" if decision["passed"] else "is refused by the gate"
    champion = decision.get("champion_version")
    lines = [
        f"### Promotion gate: the retrained candidate {verdict}",
        "",
        f"Compared with the champion (v{champion}) scored on the same fresh holdout."
        if champion
        else "No champion yet: thresholds only.",
        "",
        *(f"- {reason}" for reason in decision["reasons"]),
    ]
    (REPORTS / "challenge.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with (REPORTS / "verdict.env").open("a", encoding="utf-8") as handle:
        handle.write(f"PASSED={str(decision['passed']).lower()}\n")
    session.log(lines[0])


@nox.session
def wheels(session: nox.Session) -> None:
    """Every wheel the service image installs, into wheels/ (the Dockerfile installs only these).

    Runs where git and the index credentials are (a laptop, CI), so the image build needs
    neither. With a committed uv.lock, exactly the locked versions.
    """
    session.install("uv", "pip>=24")
    target = ROOT / "wheels"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    if (ROOT / "uv.lock").is_file():
        requirements = target / "requirements.txt"
        session.run(
            "uv",
            "export",
            "--locked",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--format",
            "requirements-txt",
            "--output-file",
            str(requirements),
        )
        wheel = ["pip", "wheel", "--wheel-dir", str(target), "--no-deps"]
        session.run(*wheel, "--requirement", str(requirements))
        session.run(*wheel, ".")
    else:
        session.run("pip", "wheel", "--wheel-dir", str(target), ".")
    session.log(f"{len(list(target.glob('*.whl')))} wheels in {target}: now `docker build .`")
