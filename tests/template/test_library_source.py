"""The library pin a project gets: from the template's own repository at the rendered release.

copier.yml computes the pin in Jinja (Copier renders it; no Python runs at render time) and
mlops_common.template_source computes it in Python (fleet trust check, doctor); the first tests
keep the two equal for every form a source is typed in. The others render for real from
throwaway git clones of this working tree, tagged there (tags never reach the repository).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_common.orchestrate import ORCHESTRATORS
from mlops_common.template_source import canonical_source, library_ref, library_requirement
from tools.project_workflow import QUIET_ENV, REPO_ROOT, render_project, template_clone

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.xdist_group("library-source")

COPIER_YML = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
HASH = "0123456789abcdef0123456789abcdef01234567"


def jinja_values(
    src_path: str, described: str | None, *, cloud: str = "local", orchestrator: str = "dvc"
) -> dict:
    """The hidden library_* values of copier.yml, rendered by Copier's own Jinja environment."""
    from copier._jinja_ext import SandboxedEnvironment

    env = SandboxedEnvironment(
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        **COPIER_YML.get("_envops", {}),
    )
    answers = {"_src_path": src_path, **({"_commit": described} if described else {})}
    context = {
        "_copier_answers": answers,
        "_copier_conf": {"vcs_ref_hash": HASH if described else None},
        "cloud": cloud,
        "orchestrator": orchestrator,
        "package_index_url": "",
    }
    for name in ("library_git_url", "library_ref", "library_git_url_missing", "library_extras"):
        context[name] = env.from_string(COPIER_YML[name]["default"]).render(context)
    context["library_requirement"] = env.from_string(
        COPIER_YML["library_requirement"]["default"]
    ).render(context)
    return context


SOURCES = [
    "/srv/templates/mlops",
    "/srv/templates/mlops/",
    "/srv/templates/../templates/./mlops",
    "/srv/my templates/mlops",
    "file:///srv/templates/mlops/",
    "gh:acme/mlops-template",
    "gh:/acme/mlops-template.git",
    "gl:group/sub/mlops-template",
    "https://github.com/acme/mlops-template",
    "https://GitHub.com/acme/mlops-template.git/",
    "git+https://git.example.com/ml/mlops-template.git",
    "git@github.com:acme/mlops-template.git",
    "ssh://git@git.example.com:2222/ml/mlops-template.git",
]


@pytest.mark.parametrize("src", SOURCES)
@pytest.mark.parametrize("described", ["v1.4.0", "v1.4.0-3-gabc1234"])
@pytest.mark.parametrize("cloud", ["local", "aws"])
@pytest.mark.parametrize("orchestrator", ["dvc", "kubeflow"])
def test_jinja_pin_equals_library_requirement(src, described, cloud, orchestrator):
    values = jinja_values(src, described, cloud=cloud, orchestrator=orchestrator)
    # The cloud's adapters and the orchestrator's SDK (mlops_common.orchestrate.ORCHESTRATORS).
    extra = ",".join(filter(None, ["" if cloud == "local" else cloud, ORCHESTRATORS[orchestrator]]))
    expected = library_requirement(src, library_ref(described, HASH), extra=extra)
    assert values["library_requirement"] == expected
    assert values["library_git_url"] == canonical_source(src)


@pytest.mark.parametrize("src", ["../mlops-template", ".", "~/mlops-template"])
def test_relative_source_has_no_pin_in_jinja_and_is_refused(src):
    # Jinja cannot see the directory Copier ran in; the Python function needs relative_to.
    values = jinja_values(src, "v1.4.0")
    assert values["library_requirement"] == ""
    assert values["library_git_url_missing"] == "True"
    assert canonical_source(src, relative_to=Path("/srv/p")).startswith("file:///")


def test_template_without_git_pins_a_version_range():
    values = jinja_values("/srv/templates/mlops", None)
    assert values["library_requirement"] == ""
    assert values["library_git_url_missing"] == "False"


# ------------------------------------------------------------------- real renders from clones


@pytest.fixture(scope="module")
def tagged_template(tmp_path_factory) -> Path:
    return template_clone(tmp_path_factory.mktemp("tpl") / "mlops-template", tag="v9.9.0")


def pyproject_pin(project: Path) -> str:
    """The git pin if there is one, else the version range (the range is always there too)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [dep for dep in meta["dependencies"] if dep.startswith("mlops-common")]
    assert len(pins) == 1 or " @ git+" in pins[1], pins
    return pins[-1]


def git(cwd: Path, *args: str) -> str:
    env = {**QUIET_ENV, "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_render_from_a_tag_pins_the_library_at_that_tag(tagged_template, tmp_path):
    project = render_project(tmp_path / "p", src=tagged_template, cloud="aws")
    assert pyproject_pin(project) == library_requirement(
        str(tagged_template), "v9.9.0", extra="aws"
    )
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] == "v9.9.0"
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["dependencies"][0] == "mlops-common[aws]>=9.9,<10"
    assert meta["tool"]["hatch"]["metadata"]["allow-direct-references"] is True


def test_render_between_tags_pins_the_full_commit(tmp_path):
    template = template_clone(tmp_path / "tpl", tag="v9.9.0")
    (template / "CHANGELOG.md").write_text("unreleased\n", encoding="utf-8")
    git(template, "commit", "-qam", "after the release")
    head = git(template, "rev-parse", "HEAD")
    project = render_project(tmp_path / "p", src=template, vcs_ref="HEAD")
    assert pyproject_pin(project) == f"mlops-common @ git+{template.as_uri()}@{head}"


def test_copier_update_moves_the_ref(tmp_path):
    template = template_clone(tmp_path / "tpl", tag="v9.9.0")
    project = render_project(tmp_path / "p", src=template)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "start")
    (template / "CHANGELOG.md").write_text("next release\n", encoding="utf-8")
    git(template, "commit", "-qam", "release 9.10.0")
    git(template, "tag", "v9.10.0")
    import copier

    copier.run_update(str(project), defaults=True, unsafe=True, quiet=True, overwrite=True)
    assert pyproject_pin(project) == f"mlops-common @ git+{template.as_uri()}@v9.10.0"


def test_relative_template_path_is_refused_and_nothing_is_written(tagged_template, monkeypatch):
    monkeypatch.chdir(tagged_template.parent)
    destination = tagged_template.parent / "project"
    with pytest.raises(ValueError, match="copy from its absolute path or git URL"):
        render_project(destination, src=tagged_template.name)
    assert not destination.exists()


def test_package_index_pins_a_range_and_uv_to_that_index_only(tagged_template, tmp_path):
    project = render_project(
        tmp_path / "p", src=tagged_template, package_index_url="https://pypi.example.com/simple"
    )
    assert pyproject_pin(project) == "mlops-common>=9.9,<10"
    uv = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["uv"]
    assert uv["index"] == [
        {"name": "team", "url": "https://pypi.example.com/simple", "explicit": True}
    ]
    assert uv["sources"]["mlops-common"] == {"index": "team"}


# ------------------------------------------------------------------------- answers, first contact


def test_project_name_defaults_to_the_folder_name(tagged_template, tmp_path):
    import copier

    destination = tmp_path / "fraud-detector"
    copier.run_copy(str(tagged_template), str(destination), defaults=True, quiet=True)
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["project_name"] == "Fraud Detector"
    assert answers["project_slug"] == "fraud-detector"


def test_copy_prints_the_next_steps(tagged_template, tmp_path, capfd):
    import copier

    destination = tmp_path / "churn"
    copier.run_copy(str(tagged_template), str(destination), defaults=True, quiet=False)
    message = capfd.readouterr().err
    assert f"cd {destination}" in message
    assert 'pip install -e ".[dev]"' in message and "uv sync" in message
    assert "mlops doctor" in message and "dvc repro" in message


def test_backslashes_and_quotes_in_answers_are_escaped_not_broken(tagged_template, tmp_path):
    project = render_project(
        tmp_path / "p",
        src=tagged_template,
        author_name='Data \\ "Platform"',
        project_description='Scores C:\\churn "risk"',
    )
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["authors"][0]["name"] == 'Data \\ "Platform"'
    assert meta["description"] == 'Scores C:\\churn "risk"'
    workflow = project / ".github" / "workflows" / "ci.yml"
    assert yaml.safe_load(workflow.read_text(encoding="utf-8"))["name"] == "CI"
