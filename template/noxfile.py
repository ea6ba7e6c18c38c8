"""Every task of this project is a nox session (`python -m pip install nox uv`, then `nox -s X`).

nox -s lint       ruff check + ruff format --check
nox -s tests      the project's tests (data suites, model, service)
nox -s pipeline   dvc repro (prepare -> validate -> train -> evaluate -> register), then metrics
nox -s drift      mlops drift of the logged predictions against the training data
nox -s wheels     every wheel the service image installs, into wheels/ (before docker build)

CI runs these same sessions.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]
# Precompiled bytecode in every environment: under PYTHONDONTWRITEBYTECODE=1 (common in
# containers and CI) uv would otherwise leave every import to compile from source, every run.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

ROOT = Path(__file__).parent
TRAINING_DATA = "data/prepared/train.csv"
PREDICTION_LOG = "logs/predictions.jsonl"


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


@nox.session
def drift(session: nox.Session) -> None:
    """Compare the service's logged inputs with the training data (exit 1 when they drifted)."""
    install_project(session)
    for path in (TRAINING_DATA, PREDICTION_LOG):
        if not (ROOT / path).is_file():
            session.error(f"{path} is missing: run `nox -s pipeline`, then serve some predictions")
    with (ROOT / TRAINING_DATA).open(encoding="utf-8") as handle:
        features = [name for name in next(csv.reader(handle)) if name != "target"]
    session.run(
        "mlops",
        "drift",
        TRAINING_DATA,
        PREDICTION_LOG,
        *(arg for name in features for arg in ("--column", name)),
        "--params",
        "params.yaml",
        "--output",
        "reports/drift.json",
        "--html",
        "reports/drift.html",
        success_codes=[0, 1],
    )
    session.log("drift report: reports/drift.json and reports/drift.html")


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
