"""A throwaway git repository of the template with three releases, for update and fleet tests.

v2.0.0 is the current tree (copier.yml, template/) plus an example migration. v1.0.0 is that tree
with one known change reverted, so every kind of update is exercised:
- v2 adds a file: the rendered .pre-commit-config.yaml (merge-conflict and *.rej guards);
- v2 changes a line in a template-owned file: pyproject's prediction_log moved into logs/;
- v2 adds a 2.0.0 migration (tests/update/migrations/: moves an old ./predictions.jsonl into
  logs/), registered in copier.yml the way a real breaking release would ship it;
- v2 adds a question with a default: package_index_url.
v2.1.0 changes a template-owned file and adds no migration.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.project_workflow import render_project

REPO_ROOT = Path(__file__).resolve().parents[1]
# What Copier needs from this repository to render and migrate.
TEMPLATE_PARTS = ("copier.yml", "template")
MIGRATION_SCRIPT = REPO_ROOT / "tests" / "update" / "migrations" / "v2_0_0_prediction_log.py"
MIGRATIONS_ENTRY = (
    "_migrations:\n"
    '  - version: "{version}"\n'
    '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/'
    'v2_0_0_prediction_log.py"]\n'
)

NEW_LINE = 'prediction_log = "logs/predictions.jsonl"'
OLD_LINE = 'prediction_log = "predictions.jsonl"'
V2_1_LINE = "# Local scratch space (added in 2.1.0)\n/scratch/\n"
PRECOMMIT_GLOB = ".pre-commit-config.yaml*"


@dataclass(frozen=True)
class TemplateRepo:
    path: Path
    tags: tuple[str, ...] = ("v1.0.0", "v2.0.0", "v2.1.0")


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity; fail loudly with git's own message."""
    result = subprocess.run(
        ["git", "-c", "user.name=Template", "-c", "user.email=template@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


def _copy_current_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache", ".pytest_cache")
    for part in TEMPLATE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, dest / part)


def _remove_question(copier_yml: str, name: str) -> str:
    """Drop one top-level question block (its key line and indented lines) from copier.yml."""
    pattern = re.compile(rf"^{name}:\n(?:[ \t]+.*\n|\n(?=[ \t]))*", re.MULTILINE)
    result, count = pattern.subn("", copier_yml)
    assert count == 1, f"question {name} not found in copier.yml"
    return result


def _add_v2_migration(root: Path, version: str = "2.0.0") -> None:
    """Ship the example 2.0.0 migration the way a breaking release does: script + entry."""
    copier_yml = root / "copier.yml"
    text = copier_yml.read_text()
    assert "_migrations: []\n" in text, "copier.yml no longer has the empty _migrations list"
    entry = MIGRATIONS_ENTRY.replace("{version}", version)
    copier_yml.write_text(text.replace("_migrations: []\n", entry))
    (root / "migrations").mkdir()
    shutil.copy2(MIGRATION_SCRIPT, root / "migrations" / MIGRATION_SCRIPT.name)


def _revert_to_v1(root: Path) -> None:
    copier_yml = root / "copier.yml"
    copier_yml.write_text(_remove_question(copier_yml.read_text(), "package_index_url"))
    pyproject = root / "template" / "pyproject.toml.jinja"
    text = pyproject.read_text()
    assert NEW_LINE in text, f"{pyproject} no longer has the line the v1 revert changes"
    pyproject.write_text(text.replace(NEW_LINE, OLD_LINE))
    guards = list((root / "template").glob(PRECOMMIT_GLOB))
    assert guards, "template/ has no .pre-commit-config.yaml for v2 to add"
    for path in guards:
        path.unlink()


DEFAULT_TAGS = ("v1.0.0", "v2.0.0", "v2.1.0")
# Releases a project can run its pipeline with under the development library (0.x): `mlops
# doctor`, first call of every stage, refuses a template release newer than the installed library.
RUNNABLE_TAGS = ("v0.0.1", "v0.0.2", "v0.0.3")


def build_template_repo(dest: Path, tags: tuple[str, str, str] = DEFAULT_TAGS) -> TemplateRepo:
    """Create the repository with tags v1.0.0, v2.0.0 (current tree) and v2.1.0 (or ``tags``)."""
    first, second, third = tags
    dest.mkdir(parents=True)
    git(dest, "init", "--quiet", "--initial-branch=main")
    _copy_current_tree(dest)
    saved = dest.parent / f"{dest.name}-v2-tree"
    shutil.copytree(dest, saved, ignore=shutil.ignore_patterns(".git"))
    _revert_to_v1(dest)
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "Release 1.0.0")
    git(dest, "tag", first)

    for part in TEMPLATE_PARTS:
        target = dest / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for part in TEMPLATE_PARTS:
        if (saved / part).is_dir():
            shutil.copytree(saved / part, dest / part)
        elif (saved / part).exists():
            shutil.copy2(saved / part, dest / part)
    shutil.rmtree(saved)
    _add_v2_migration(dest, second.removeprefix("v"))
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "Release 2.0.0: prediction log in logs/, guards")
    git(dest, "tag", second)

    gitignore = dest / "template" / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "\n" + V2_1_LINE)
    git(dest, "commit", "--quiet", "-am", "Release 2.1.0: ignore scratch/")
    git(dest, "tag", third)
    return TemplateRepo(dest, tags)


def commit_all(project: Path, message: str) -> str:
    """Stage everything and commit (client identity, no hooks); return the new HEAD."""
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)
    return git(project, "rev-parse", "HEAD").strip()


def render_client(destination: Path, repo: TemplateRepo, ref: str, **answers: Any) -> Path:
    """Render ``repo`` at ``ref`` with real Copier; make it a git repository with one commit."""
    render_project(destination, repo.path, ref, **answers)
    git(destination, "init", "--quiet", "--initial-branch=main")
    commit_all(destination, f"Render template {ref}")
    return destination


def load_answers(project: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((project / ".copier-answers.yml").read_text())


# v2.2.0 (added by add_rename_release): what issue 13 found losing client work.
RENAMED_FROM, RENAMED_TO = "tests/test_data.py", "tests/test_suites.py"
EVALUATE_PARAMS = (
    "\n# Evaluation (added in 2.2.0): read by the evaluate stage.\nevaluate:\n  threshold: 0.5\n"
)


def add_release(repo: TemplateRepo, tag: str, edit, message: str) -> TemplateRepo:
    """Apply ``edit(root)`` to the template repository, commit it and tag ``tag``."""
    edit(repo.path)
    git(repo.path, "add", "--all")
    git(repo.path, "commit", "--quiet", "-m", message)
    git(repo.path, "tag", tag)
    return TemplateRepo(repo.path, (*repo.tags, tag))


def _rename_and_add_evaluate_params(root: Path) -> None:
    git(root, "mv", f"template/{RENAMED_FROM}", f"template/{RENAMED_TO}")
    dvc = root / "template" / "dvc.yaml.jinja"
    text = dvc.read_text()
    anchor = "      - data/prepared/test.csv\n    metrics:\n"
    assert anchor in text, "dvc.yaml.jinja's evaluate stage changed; update this release"
    dvc.write_text(
        text.replace(
            anchor, "      - data/prepared/test.csv\n    params:\n      - evaluate\n    metrics:\n"
        )
    )
    params = root / "template" / "params.yaml.jinja"
    params.write_text(params.read_text() + EVALUATE_PARAMS)


def add_rename_release(repo: TemplateRepo) -> TemplateRepo:
    """v2.2.0: renames tests/test_data.py and makes the evaluate stage read a new params section."""
    return add_release(
        repo,
        "v2.2.0",
        _rename_and_add_evaluate_params,
        "Release 2.2.0: test_suites, evaluate params",
    )


def build_task_template(dest: Path, marker: Path) -> TemplateRepo:
    """A tiny template whose task and migration write ``marker``: the code a stranger could ship."""
    dest.mkdir(parents=True)
    git(dest, "init", "--quiet", "--initial-branch=main")
    (dest / "copier.yml").write_text(
        "_answers_file: .copier-answers.yml\n"
        f"_tasks:\n  - touch {marker}\n"
        f'_migrations:\n  - version: "1.1.0"\n    command: touch {marker}.migration\n'
        "project_name:\n  type: str\n  default: stranger\n"
    )
    (dest / "README.md.jinja").write_text("# {{ project_name }}\n")
    (dest / "{{_copier_conf.answers_file}}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml -}}\n"
    )
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "Release 1.0.0")
    git(dest, "tag", "v1.0.0")
    (dest / "README.md.jinja").write_text("# {{ project_name }}\n\nNow with more.\n")
    git(dest, "commit", "--quiet", "-am", "Release 1.1.0")
    git(dest, "tag", "v1.1.0")
    return TemplateRepo(dest, ("v1.0.0", "v1.1.0"))
