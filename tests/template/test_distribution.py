"""A rendered project installs and runs on a client's machine, by the routes its README gives.

The working tree is committed into a throwaway clone and tagged ``v9.9.0`` there (tags never
reach the repository); projects are rendered from that clone, so the library they install is
the code under test, fetched the way a client fetches it:

- git route, pip alone: a fresh ``python -m venv``, pip >= 24, ``pip install -e ".[dev]"``, then
  ``dvc repro`` to a champion;
- git route, uv: ``uv sync --extra dev``, ``dvc repro`` to a champion, then ``copier update`` to
  ``v9.10.0``: the pin moves, ``mlops doctor`` and the first stage stop with exit 3 until
  ``uv sync`` installs the new library;
- index route: a real pypiserver on 127.0.0.1 serves the built wheel; a second index serving a
  higher ``mlops-common`` in the pinned range must not win with uv (and does win with pip's
  ``--extra-index-url``, the hole the docs warn about).

Slow (a few minutes, most of it installing the project's dependencies twice): marked ``e2e``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.project_workflow import (
    QUIET_ENV,
    champion,
    git_init_commit,
    install_like_a_client,
    package_index,
    project_env,
    render_project,
    run,
    template_clone,
    uv_command,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("distribution")]

TAG = "v9.9.0"


def git(cwd: Path, *args: str) -> str:
    env = {**QUIET_ENV, "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_clone(tmp_path_factory.mktemp("release") / "mlops-template", tag=TAG)


@pytest.fixture(scope="module")
def wheel(template, tmp_path_factory) -> Path:
    """``uv build`` of the library at the tag: what a release publishes to an index."""
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [*uv_command(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(template)],
        check=True,
    )
    [built] = out.glob("mlops_common-*.whl")
    assert built.name.startswith("mlops_common-9.9.0-"), built.name
    return built


def installed_library(env: dict[str, str], project: Path) -> dict:
    code = (
        "import json, importlib.metadata as m\n"
        "d = m.distribution('mlops-common')\n"
        "print(json.dumps({'version': d.version, "
        "'direct_url': json.loads(d.read_text('direct_url.json') or 'null')}))\n"
    )
    return json.loads(run(["python", "-c", code], project, env).stdout.strip().splitlines()[-1])


def repro_to_champion(project: Path, env: dict[str, str]) -> dict:
    git_init_commit(project, env)
    run(["dvc", "repro"], project, env, timeout=900)
    return champion(project, env)


def test_pip_alone_installs_the_library_from_the_tag_and_runs_to_a_champion(template, tmp_path):
    project = render_project(tmp_path / "churn", src=template)
    venv = install_like_a_client(project, "pip")
    env = project_env(venv, project)
    library = installed_library(env, project)
    assert library["version"] == "9.9.0"
    assert library["direct_url"]["vcs_info"]["requested_revision"] == TAG
    assert library["direct_url"]["url"] == template.as_uri()
    doctor = run(["mlops", "doctor", "--check", "library", "--check", "template"], project, env)
    assert "ok   library    mlops-common 9.9.0 from git v9.9.0" in doctor.stdout
    assert str(repro_to_champion(project, env)["version"]) == "1"


def test_uv_sync_runs_to_a_champion_and_copier_update_moves_the_library(tmp_path):
    template = template_clone(tmp_path / "mlops-template", tag=TAG)  # its own: it gets a release
    project = render_project(tmp_path / "churn", src=template)
    venv = install_like_a_client(project, "uv")
    env = project_env(venv, project)
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    assert f'source = {{ git = "{template.as_uri()}?tag={TAG}#' in lock or (
        f'source = {{ git = "{template.as_uri()}?rev={TAG}#' in lock
    )
    assert installed_library(env, project)["version"] == "9.9.0"
    assert str(repro_to_champion(project, env)["version"]) == "1"

    # A new release of template and library; the client updates the project but not the env.
    (template / "CHANGELOG.md").write_text("## 9.10.0\n", encoding="utf-8")
    git(template, "commit", "-qam", "Release 9.10.0")
    git(template, "tag", "v9.10.0")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Lock the environment")
    import copier

    copier.run_update(str(project), defaults=True, unsafe=True, quiet=True, overwrite=True)
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert f"mlops-common @ git+{template.as_uri()}@v9.10.0" in meta["dependencies"]

    doctor = run(["mlops", "doctor"], project, env, check=False)
    assert doctor.returncode == 3, doctor.stdout + doctor.stderr
    failure = next(line for line in doctor.stdout.splitlines() if line.startswith("FAIL"))
    assert "comes from v9.9.0, the project pins v9.10.0" in failure
    assert "fix: pip install -e . (or uv sync)" in failure
    stage = run(["dvc", "repro", "--force", "prepare"], project, env, check=False)
    assert stage.returncode != 0
    assert "the project pins v9.10.0; fix: pip install -e . (or uv sync)" in (
        stage.stdout + stage.stderr
    )

    install_like_a_client(project, "uv")
    assert installed_library(env, project)["version"] == "9.10.0"
    assert run(["mlops", "doctor", "--check", "library"], project, env).returncode == 0


def fake_library(directory: Path, version: str) -> Path:
    """A wheel named mlops-common at ``version`` that only an attacker would publish."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"mlops_common-{version}-py3-none-any.whl"
    info = f"mlops_common-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mlops_common/__init__.py", "PWNED = True\n")
        archive.writestr(
            f"{info}/METADATA",
            f"Metadata-Version: 2.1\nName: mlops-common\nVersion: {version}\n",
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")
    return path


def test_package_index_route_cannot_be_confused_by_a_higher_version_elsewhere(
    template, wheel, tmp_path
):
    team_dir, public_dir = tmp_path / "team", tmp_path / "public"
    team_dir.mkdir()
    shutil.copy2(wheel, team_dir)
    fake_library(public_dir, "9.99.0")  # inside the pinned range >=9.9,<10, and higher
    with package_index(team_dir) as team, package_index(public_dir) as public:
        project = render_project(
            tmp_path / "churn", src=template, package_index_url="https://pypi.example.com/simple/"
        )
        pyproject = project / "pyproject.toml"
        # The answer must be https (validator); the test index speaks http on 127.0.0.1.
        pyproject.write_text(
            pyproject.read_text(encoding="utf-8").replace("https://pypi.example.com/simple/", team),
            encoding="utf-8",
        )
        env = {key: value for key, value in project_env(project / ".venv", project).items()}
        env["UV_INDEX"] = public  # another index, asked before the default one: still loses
        run([*uv_command(), "lock", "--quiet"], project, env, timeout=600)
        lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
        [library] = [pkg for pkg in lock["package"] if pkg["name"] == "mlops-common"]
        assert (library["version"], library["source"]) == ("9.9.0", {"registry": team})

        # pip cannot pin a package to an index: with --extra-index-url the higher version wins.
        report = tmp_path / "report.json"
        # This machine's pip configuration (extra indexes, find-links) stays out of the way.
        env = {key: value for key, value in env.items() if not key.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = "/dev/null"
        pip = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps"]
        pip += ["--ignore-installed", "--report", str(report), "mlops-common>=9.9,<10"]
        run([*pip, "--index-url", team, "--extra-index-url", public], project, env)
        [picked] = json.loads(report.read_text(encoding="utf-8"))["install"]
        assert picked["metadata"]["version"] == "9.99.0"
        # ...and with one index (PIP_INDEX_URL at the team's index, proxying PyPI) it cannot.
        run([*pip, "--index-url", team], project, env)
        [picked] = json.loads(report.read_text(encoding="utf-8"))["install"]
        assert picked["metadata"]["version"] == "9.9.0"
