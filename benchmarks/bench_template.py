"""Wall time of a client's first hour: `copier copy`, the first `dvc repro`, the project's tests.

Renders the template (default answers) into a temp folder, builds the mlops-common wheel and a
virtualenv for the project (not timed: uv's cache makes it a one-off), then times, each as a
whole process the way a client runs it:

- ``copier copy`` of this checkout,
- the first ``dvc repro`` (prepare -> validate -> train -> evaluate -> register, 5 processes),
- a no-op ``dvc repro`` (what every rerun with nothing changed costs),
- both again in a virtualenv without precompiled bytecode (``PYTHONDONTWRITEBYTECODE=1`` in
  both, as in containers), the case ``UV_COMPILE_BYTECODE`` / ``--compile-bytecode`` avoid,
- the project's ``pytest`` (data suites, model, real HTTP service).

It also prints ratios: the first ``dvc repro`` against its 30 s target (2 cores), the no-op rerun
and the tests against the first run. Timings swing widely with other load on the machine, so
compare figures taken side by side.

    python -m benchmarks.bench_template [--ml-task regression]    (from the repository root)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import project_workflow as workflow


def timed(label: str, command: list[str], project: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    workflow.run(command, project, env)
    elapsed = time.perf_counter() - started
    print(f"{label:<28}{elapsed:8.2f} s", flush=True)
    return elapsed


def repro_times(root: Path, project: Path, wheel: Path, *, bytecode: bool) -> dict[str, float]:
    """First and no-op ``dvc repro`` of a fresh copy of ``project`` in its own virtualenv, with
    or without precompiled bytecode, under ``PYTHONDONTWRITEBYTECODE=1`` (as in containers and
    on these machines), so an environment without bytecode stays without it."""
    label = "with bytecode" if bytecode else "without bytecode"
    copy = root / f"project-{'pyc' if bytecode else 'nopyc'}"
    shutil.copytree(project, copy)
    venv = workflow.create_project_env(
        root / f"venv-{'pyc' if bytecode else 'nopyc'}", copy, wheel, compile_bytecode=bytecode
    )
    env = {**workflow.project_env(venv, copy), "PYTHONDONTWRITEBYTECODE": "1"}
    workflow.git_init_commit(copy, env)
    started = time.perf_counter()
    output = workflow.run(["dvc", "repro"], copy, env).stdout
    first = time.perf_counter() - started
    print(f"{'first dvc repro':<28}{first:8.2f} s  ({label})", flush=True)
    noop = timed(f"no-op dvc repro ({label})", ["dvc", "repro"], copy, env)
    return {"first": first, "noop": noop, "output": output, "project": copy, "env": env}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ml-task", default="classification")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-template-") as tmp:
        root = Path(tmp)
        project = root / "project"
        copier_cmd = [
            sys.executable,
            "-c",
            "import sys, warnings, copier; warnings.simplefilter('ignore'); "
            "copier.run_copy(sys.argv[1], sys.argv[2], data={'project_name': 'Churn Model', "
            "'ml_task': sys.argv[3]}, defaults=True, unsafe=True, quiet=True)",
            str(workflow.REPO_ROOT),
            str(project),
            args.ml_task,
        ]
        started = time.perf_counter()
        subprocess.run(copier_cmd, check=True, capture_output=True)
        copy_s = time.perf_counter() - started
        print(f"{'copier copy':<28}{copy_s:8.2f} s", flush=True)

        wheel = workflow.build_library_wheel(root / "dist")
        with_pyc = repro_times(root, project, wheel, bytecode=True)
        without_pyc = repro_times(root, project, wheel, bytecode=False)
        tests_s = timed(
            "project tests (pytest)",
            ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            with_pyc["project"],
            with_pyc["env"],
        )

    first_s, noop_s = with_pyc["first"], with_pyc["noop"]
    stages = re.findall(r"Running stage '(\w+)'", with_pyc["output"])
    print(f"\nstages run by the first dvc repro: {', '.join(stages)}")
    print(f"first dvc repro / 30 s target:     {first_s / 30:.2f}")
    print(f"no-op rerun / first dvc repro:     {noop_s / first_s:.2f}")
    print(f"project tests / first dvc repro:   {tests_s / first_s:.2f}")
    print(f"first repro, no bytecode / bytecode: {without_pyc['first'] / first_s:.2f}")
    print(f"no-op repro, no bytecode / bytecode: {without_pyc['noop'] / noop_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
