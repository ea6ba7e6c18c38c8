"""Render a client project and run it for real: environment, pipeline, service, drift.

One home for the steps that the end-to-end tests (``tests/conftest.py``), ``nox -s demo`` and
``benchmarks/bench_template.py`` all take, so they cannot drift apart. Only the standard library
is imported at module level: ``copier`` is imported by :func:`render_project` alone, and every
project command runs in the project's own virtualenv through :func:`run`.

    python -m tools.project_workflow demo --dest demo
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tools.processes import free_port, stop

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]
# Answers every render needs; everything else takes its copier.yml default.
BASE_ANSWERS: dict[str, Any] = {"project_name": "Churn Model"}
# Offline and quiet: no analytics, telemetry or update checks from DVC and MLflow.
QUIET_ENV = {
    "DVC_NO_ANALYTICS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "GIT_AUTHOR_NAME": "mlops template tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "mlops template tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


def render_project(
    destination: Path, src: Path | str = REPO_ROOT, vcs_ref: str | None = None, **answers: Any
) -> Path:
    """Render the template with real Copier (non-interactive, defaults for the rest)."""
    import copier

    copier.run_copy(
        str(src),
        str(destination),
        data={**BASE_ANSWERS, **answers},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=vcs_ref,
    )
    return destination


def template_snapshot(destination: Path) -> Path:
    """copier.yml and template/ copied without git, for many cheap renders.

    Rendering from the checkout makes Copier clone it (and copy uncommitted changes) each time;
    a plain folder skips that. Its renders have no ``_commit``, so they pin the fallback version.
    """
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "copier.yml", destination / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", destination / "template")
    return destination


def template_clone(destination: Path, *, tag: str | None = None) -> Path:
    """This checkout's working tree (tracked and new files, not ignored ones) committed into a
    fresh git repository at ``destination``, tagged ``tag`` if given.

    Rendering from it gives a project whose library pin (``git+file://...@tag``) installs exactly
    the code under test, by the route a client takes; the tag exists only in the throwaway clone.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    destination.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a deleted-but-tracked file is listed too
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    env = {**os.environ, **QUIET_ENV}
    for command in (
        ["git", "init", "--quiet", "--initial-branch", "main"],
        ["git", "add", "--all"],
        ["git", "commit", "--quiet", "--no-verify", "--message", "Working tree under test"],
        *([["git", "tag", tag]] if tag else []),
    ):
        subprocess.run(command, cwd=destination, env=env, check=True, capture_output=True)
    return destination


def uv_command() -> list[str]:
    """uv from this interpreter's environment when installed there, else from PATH."""
    with contextlib.suppress(ImportError):
        import uv  # noqa: F401

        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is not installed: `python -m pip install uv`")
    return [found]


def build_library_wheel(out_dir: Path) -> Path:
    """``uv build --wheel`` of this checkout's mlops-common into ``out_dir``; the wheel's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [*uv_command(), "build", "--wheel", "--quiet", "--out-dir", str(out_dir), str(REPO_ROOT)],
        check=True,
    )
    wheels = sorted(out_dir.glob("mlops_common-*.whl"), key=lambda path: path.stat().st_mtime)
    if not wheels:
        raise RuntimeError(f"uv build wrote no mlops_common wheel into {out_dir}")
    return wheels[-1]


def project_requirements(project: Path) -> list[str]:
    """The rendered project's dependencies plus its ``dev`` extra (without the project)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*meta["dependencies"], *meta.get("optional-dependencies", {}).get("dev", [])]


def create_project_env(
    venv: Path,
    project: Path,
    wheel: Path,
    *,
    install_project: bool = False,
    compile_bytecode: bool = True,
) -> Path:
    """A virtualenv with the project's dependencies, mlops-common coming from ``wheel``.

    The project pins the released range of mlops-common (``>=0.1,<1``); a checkout between
    releases builds a dev version outside it, so the wheel is given as an override: the project's
    pin is still read, the local build answers it. Unless ``install_project``, the project itself
    is not installed: its code runs from ``src/`` (PYTHONPATH), so any number of rendered projects
    can share one environment. Bytecode is precompiled (``--compile-bytecode``): under
    ``PYTHONDONTWRITEBYTECODE=1`` a uv venv without it recompiles every module on every import.
    """
    uv = uv_command()
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    requirements = venv / "requirements.txt"
    requirements.write_text("\n".join(project_requirements(project)) + "\n", encoding="utf-8")
    overrides = venv / "overrides.txt"
    overrides.write_text(f"mlops-common @ {wheel.resolve().as_uri()}\n", encoding="utf-8")
    subprocess.run(
        [
            *uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv_python(venv)),
            *(["--compile-bytecode"] if compile_bytecode else []),
            *(["--editable", f"{project}[dev]"] if install_project else []),
            "--requirement",
            str(requirements),
            "--override",
            str(overrides),
        ],
        check=True,
    )
    return venv


def install_like_a_client(project: Path, installer: str, *, compile_bytecode: bool = True) -> Path:
    """The project's own README route into ``project/.venv``; returns the venv.

    ``pip``: a fresh ``python -m venv``, pip upgraded to >= 24 (23.2 rejects ``name @
    git+file://...@ref``), then ``pip install -e ".[dev]"``. ``uv``: ``uv sync --extra dev``
    (writes ``uv.lock``). Nothing else: mlops-common comes from wherever the project pins it.
    """
    venv = project / ".venv"
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(QUIET_ENV)
    if installer == "pip":
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv_python(venv))
        run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=24"], project, env)
        compile_flag = [] if compile_bytecode else ["--no-compile"]
        run(
            [python, "-m", "pip", "install", "--quiet", *compile_flag, "-e", ".[dev]"], project, env
        )
    elif installer == "uv":
        # The project's own .venv, named explicitly: given a venv's interpreter (this test
        # environment's), uv would sync that environment instead, removing what it holds.
        env["UV_PROJECT_ENVIRONMENT"] = str(venv)
        base_python = getattr(sys, "_base_executable", sys.executable)
        command = [*uv_command(), "sync", "--quiet", "--extra", "dev", "--python", base_python]
        run([*command, *(["--compile-bytecode"] if compile_bytecode else [])], project, env)
    else:
        raise ValueError(f"installer must be pip or uv, not {installer!r}")
    return venv


@contextlib.contextmanager
def package_index(directory: Path, *, uploads: bool = False) -> Iterator[str]:
    """A real package index (pypiserver) on 127.0.0.1 serving ``directory``; yields its
    ``/simple/`` URL. ``uploads`` accepts unauthenticated uploads (``twine``/``uv publish``).
    The server is always stopped when the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port)]
    command += ["--disable-fallback", "--log-stream", "none"]
    if uploads:
        command += ["-a", ".", "-P", "."]
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [*command, str(directory)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{base}/health", timeout=2) as response,
            ):
                if response.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pypiserver did not start on {base} ({process.returncode})")
            time.sleep(0.2)
        yield f"{base}/simple/"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def project_env(venv: Path, project: Path) -> dict[str, str]:
    """Environment to run the project's commands with: the venv first on PATH, ``src`` importable,
    the project's own embedded MLflow store (no inherited MLFLOW_TRACKING_URI)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.pop("PYTHONHOME", None)
    env.update(QUIET_ENV)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv_python(venv).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project / "src")
    return env


def run(
    command: Sequence[str],
    project: Path,
    env: dict[str, str],
    *,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``project``; on failure raise with the command's whole output."""
    result = subprocess.run(
        list(command),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(command)}` exited {result.returncode} in {project}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def git_init_commit(project: Path, env: dict[str, str]) -> None:
    """``git init`` and a first commit, as a client does right after ``copier copy``."""
    for command in (
        ["git", "init", "--quiet", "--initial-branch", "main"],
        ["git", "add", "--all"],
        ["git", "commit", "--quiet", "--no-verify", "--message", "Start from the mlops template"],
    ):
        run(command, project, env)


def http_json(url: str, payload: Any | None = None, timeout: float = 10) -> tuple[int, Any]:
    """GET (or POST ``payload`` as JSON) and return (status, decoded body)."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=data, headers={"content-type": "application/json"} if data else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@contextlib.contextmanager
def serving(
    project: Path, env: dict[str, str], *, port: int | None = None, timeout: float = 120
) -> Iterator[str]:
    """``mlops serve`` as a subprocess on 127.0.0.1; yields its base URL once /ready answers 200.

    The process is always stopped (terminate, then kill) when the block ends.
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            ["mlops", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    output = log.read()[-4000:]
                    raise RuntimeError(f"mlops serve exited {process.returncode}:\n{output}")
                with contextlib.suppress(OSError):
                    if http_json(f"{base_url}/ready", timeout=2)[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mlops serve did not become ready at {base_url}")
                time.sleep(0.25)
            yield base_url
        finally:
            stop(process, timeout=15)


def sample_records(project: Path, count: int = 5) -> list[dict[str, float]]:
    """The first ``count`` rows of the prepared test split, without the label, as JSON records."""
    with (project / "data" / "prepared" / "test.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    return [{key: float(value) for key, value in row.items() if key != "target"} for row in rows]


def champion(project: Path, env: dict[str, str]) -> dict[str, Any]:
    """The ``champion`` model version in the project's store, read with the project's MLflow."""
    code = (
        "import json\n"
        "from mlops_common import store\n"
        "from mlops_common.config import load_project_config\n"
        "config = load_project_config()\n"
        "uri = store.resolve_tracking_uri(None, config)\n"
        "version = store.model_version(store.client(uri), config.model_name, alias='champion')\n"
        "print(json.dumps({'name': version.name, 'version': version.version, 'uri': uri,\n"
        "                  'tags': dict(version.tags)}))\n"
    )
    result = run(["python", "-c", code], project, env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def plant_validation_failure(project: Path, min_rows: int = 1_000_000) -> None:
    """Make the ``validate`` stage fail for real: the raw suite asks for more rows than the data
    has, so ``mlops validate`` exits 1 (what an orchestrator sees when the data breaks its
    contract). Stages before it still run; the ones after it must not."""
    suite_path = project / "expectations" / "raw.json"
    suite = json.loads(suite_path.read_text(encoding="utf-8"))
    for expectation in suite["expectations"]:
        if expectation["type"] == "expect_table_row_count_to_be_between":
            expectation["kwargs"]["min_value"] = min_rows
            expectation["kwargs"]["max_value"] = None
            break
    else:
        raise AssertionError(f"{suite_path}: no row-count expectation to plant a failure in")
    suite_path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")


def mlops_settings(project: Path) -> dict[str, Any]:
    """The rendered project's ``[tool.mlops]`` table (model name, capture destination...)."""
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["tool"]["mlops"]


def captured_records(project: Path) -> list[dict[str, Any]]:
    """Every record the service captured into the project's local capture folder."""
    import gzip

    folder = project / mlops_settings(project)["capture"]
    records = []
    for path in sorted(folder.glob("date=*/hour=*/*.jsonl.gz")):
        lines = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
        records += [json.loads(line) for line in lines if line]
    return records


def train_run(project: Path, env: dict[str, str]) -> dict[str, Any]:
    """The tags and params of the MLflow run the last ``train`` stage logged
    (reports/train_run.json), read with the project's MLflow."""
    code = (
        "import json\n"
        "from mlops_common import store\n"
        "from mlops_common.config import load_project_config\n"
        "config = load_project_config()\n"
        "run_id = json.load(open('reports/train_run.json'))['run_id']\n"
        "run = store.client(config=config).get_run(run_id)\n"
        "print(json.dumps({'run_id': run_id, 'tags': run.data.tags,\n"
        "                  'params': run.data.params}))\n"
    )
    result = run(["python", "-c", code], project, env)
    return json.loads(result.stdout.strip().splitlines()[-1])


# Tags that name one run or one checkout rather than what the run was made from: the commit,
# the logged-model history, and the digest of the model's files (its MLmodel names the run).
PER_RUN_TAGS = ("mlflow.log-model.history", "mlops.git.commit", "mlflow.source.git.commit")
PER_RUN_PREFIXES = ("mlops.model.sha256",)  # = mlops_common.tags.MODEL_DIGEST


def lineage_differences(
    ran: tuple[Path, dict[str, str]], reference: tuple[Path, dict[str, str]]
) -> list[str]:
    """How the tags of the training run in ``ran`` differ from those in ``reference`` (two
    projects rendered alike, each ``(project, tags)``), besides the run and the checkout it names:
    empty when an orchestrator left the lineage as plain ``dvc repro`` does."""

    def normalised(project: Path, tags: dict[str, str]) -> dict[str, str]:
        return {
            key: value.replace(str(project), "<project>")
            for key, value in tags.items()
            if key not in PER_RUN_TAGS and not key.startswith(PER_RUN_PREFIXES)
        }

    (ran_project, ran_tags), (ref_project, ref_tags) = ran, reference
    mine, theirs = normalised(ran_project, ran_tags), normalised(ref_project, ref_tags)
    return [
        f"{key}: {mine.get(key)!r} != {theirs.get(key)!r}"
        for key in sorted(mine.keys() | theirs.keys())
        if mine.get(key) != theirs.get(key)
    ]


def drift(project: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], Path]:
    """``mlops drift`` of the captured traffic against the champion's logged training profile."""
    report = project / "reports" / "drift.json"
    settings = mlops_settings(project)
    result = run(
        [
            "mlops",
            "drift",
            f"models:/{settings['model_name']}@champion",
            settings["capture"],
            "--params",
            "params.yaml",
            "--output",
            str(report),
            "--html",
            str(report.with_suffix(".html")),
        ],
        project,
        env,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"mlops drift exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result.returncode, json.loads(report.read_text(encoding="utf-8")), report


# ------------------------------------------------------------------------------------- demo


def demo(destination: Path, *, ml_task: str = "classification") -> None:
    """Render a project into ``destination`` and run all of it, printing where everything is."""
    started = time.perf_counter()
    destination = destination.resolve()
    if destination.exists():
        shutil.rmtree(destination)
    # The working tree committed into a throwaway clone: the project pins mlops-common to that
    # commit by git and installs it the way a client does (no wheel built by hand).
    template = REPO_ROOT / ".nox" / "demo-template"
    if template.exists():
        shutil.rmtree(template)
    step(f"working tree -> {template} (a throwaway git clone)")
    template_clone(template)
    step(f"copier copy {template} -> {destination}")
    render_project(destination, src=template, ml_task=ml_task)
    step(f"uv sync --extra dev --compile-bytecode (virtualenv {destination / '.venv'})")
    venv = install_like_a_client(destination, "uv")
    env = project_env(venv, destination)
    git_init_commit(destination, env)
    step("dvc repro")
    print(run(["dvc", "repro"], destination, env).stdout[-2500:])
    print(run(["dvc", "metrics", "show"], destination, env).stdout)
    step("pytest (the project's own tests)")
    print(run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], destination, env).stdout)
    step("mlops serve + POST /predict")
    with serving(destination, env) as base_url:
        status, body = http_json(f"{base_url}/predict", {"records": sample_records(destination)})
        print(f"POST {base_url}/predict -> {status} {json.dumps(body)}")
    step("mlops drift")
    _, _, report = drift(destination, env)
    best = champion(destination, env)
    step(f"done in {time.perf_counter() - started:.0f} s")
    print(
        "\n".join(
            [
                f"project        {destination}",
                f"virtualenv     {venv}  (. {venv}/bin/activate)",
                f"MLflow store   {best['uri']}  (mlflow ui --backend-store-uri {best['uri']})",
                f"model          models:/{best['name']}@champion -> version {best['version']}",
                f"metrics        {destination / 'metrics' / 'eval.json'}",
                f"promotion      {destination / 'reports' / 'promotion.json'}",
                f"captured       {destination / mlops_settings(destination)['capture']}",
                f"drift report   {report} and {report.with_suffix('.html')} "
                f"({json.loads(report.read_text(encoding='utf-8')).get('verdict', 'unknown')})",
                f"serve again    cd {destination} && .venv/bin/mlops serve",
            ]
        )
    )


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="render ./demo and run its whole pipeline")
    demo_parser.add_argument("--dest", type=Path, default=REPO_ROOT / "demo")
    demo_parser.add_argument("--ml-task", default="classification")
    args = parser.parse_args(argv)
    demo(args.dest, ml_task=args.ml_task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
