"""`copier update` from v1.0.0 to v2.0.0 (and on to v2.1.0) on real client projects, real git.

The template repository is built by tools/template_repo.py: v2.0.0 is the current tree,
v1.0.0 the same tree without the pre-commit guards, with the old prediction_log line, without
the 2.0.0 migration and without the package_index_url question.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import copier
import pytest
import yaml

# Every test here shares module-scoped projects that later tests extend: keep them on one worker.
pytestmark = pytest.mark.xdist_group("update")
BIN_DIR = Path(sys.executable).parent

CLIENT_RULE = '''

def retention_weight(tenure_months: float) -> float:
    """Client rule: customers past two years count double in retention campaigns."""
    return 2.0 if tenure_months >= 24 else 1.0
'''
OLD_LOG = '{"inputs": {"x": 1}, "prediction": 0}\n'


def update(project: Path, ref: str, **kwargs) -> float:
    """`copier update --defaults --trust --vcs-ref REF`; return its wall time."""
    started = time.perf_counter()
    copier.run_update(
        str(project), defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref=ref, **kwargs
    )
    return time.perf_counter() - started


def make_client_edits(project: Path, package: str) -> None:
    train = project / "src" / package / "train.py"
    train.write_text(train.read_text() + CLIENT_RULE)
    params = project / "params.yaml"
    assert "  test_size: 0.2\n" in params.read_text()
    params.write_text(params.read_text().replace("  test_size: 0.2\n", "  test_size: 0.25\n"))
    (project / "notes").mkdir()
    (project / "notes" / "decisions.md").write_text(
        "# Decisions\n\nWe hold out a quarter of the data.\n"
    )
    (project / ".dvcignore").unlink()
    # What the 1.x service wrote at the project root; the 2.0.0 migration moves it into logs/.
    (project / "predictions.jsonl").write_text(OLD_LOG)


def text_files_with_markers(project: Path) -> list[str]:
    hits = []
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            hits.append(path.relative_to(project).as_posix())
    return sorted(hits)


@pytest.fixture(scope="module")
def updated(tmp_path_factory, template_repo, tpl):
    """A v1.0.0 project with client edits, committed, then updated to v2.0.0."""
    project = tpl.render_client(tmp_path_factory.mktemp("upd") / "churn", template_repo, "v1.0.0")
    make_client_edits(project, "churn_model")
    tpl.commit_all(project, "Client work on 1.0.0")
    seconds = update(project, "v2.0.0")
    print(f"\ncopier update v1.0.0 -> v2.0.0 of the default project: {seconds:.2f} s")
    return SimpleNamespace(path=project, seconds=seconds)


def test_update_keeps_client_edit_to_train_py(updated):
    assert CLIENT_RULE in (updated.path / "src" / "churn_model" / "train.py").read_text()


def test_update_keeps_tuned_value_in_params_yaml(updated):
    text = (updated.path / "params.yaml").read_text()
    assert "  test_size: 0.25\n" in text
    assert "  test_size: 0.2\n" not in text


def test_update_keeps_new_client_file(updated):
    assert (updated.path / "notes" / "decisions.md").read_text().startswith("# Decisions")


def test_update_keeps_deleted_template_file_deleted(updated):
    assert not (updated.path / ".dvcignore").exists()


def test_update_adds_file_new_in_v2(updated):
    config = (updated.path / ".pre-commit-config.yaml").read_text()
    assert "check-merge-conflict" in config


def test_update_applies_changed_line_in_template_owned_file(updated, tpl):
    pyproject = (updated.path / "pyproject.toml").read_text()
    assert tpl.NEW_LINE in pyproject
    assert tpl.OLD_LINE not in pyproject


def test_update_moves_mlops_common_pin_to_new_major_minor(updated):
    pyproject = (updated.path / "pyproject.toml").read_text()
    assert '"mlops-common>=2.0,<3"' in pyproject
    assert ">=1.0,<2" not in pyproject


def test_update_records_new_commit_and_new_question_default(updated, tpl):
    answers = tpl.load_answers(updated.path)
    assert answers["_commit"] == "v2.0.0"
    assert answers["package_index_url"] == ""
    assert answers["project_name"] == "Churn Model"


def test_update_runs_v2_migration_when_crossing_2_0_0(updated):
    assert not (updated.path / "predictions.jsonl").exists()
    assert (updated.path / "logs" / "predictions.jsonl").read_text() == OLD_LOG


def test_update_leaves_no_conflict_markers_without_conflicting_edits(updated):
    assert text_files_with_markers(updated.path) == []


def test_migration_does_not_run_again_on_later_update(updated, tpl):
    project = updated.path
    tpl.commit_all(project, "Template 2.0.0")
    newer_log = '{"inputs": {"x": 2}, "prediction": 1}\n'
    (project / "predictions.jsonl").write_text(newer_log)
    tpl.commit_all(project, "A root log written after 2.0.0")

    update(project, "v2.1.0")

    assert tpl.load_answers(project)["_commit"] == "v2.1.0"
    assert tpl.V2_1_LINE in (project / ".gitignore").read_text()
    # 2.1.0 crosses no migration: the root file stays and logs/ is untouched.
    assert (project / "predictions.jsonl").read_text() == newer_log
    assert (project / "logs" / "predictions.jsonl").read_text() == OLD_LOG
    assert CLIENT_RULE in (project / "src" / "churn_model" / "train.py").read_text()


def snapshot(project: Path) -> dict[str, str]:
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


@pytest.mark.parametrize("dirt", ["modified", "untracked"])
def test_update_refuses_dirty_project_and_changes_nothing(client_project, tpl, dirt):
    project = client_project("v1.0.0")
    if dirt == "modified":
        params = project / "params.yaml"
        params.write_text(params.read_text() + "# uncommitted\n")
    else:
        (project / "scratch.txt").write_text("not committed\n")
    before, head = snapshot(project), tpl.git(project, "rev-parse", "HEAD")

    with pytest.raises(copier.errors.UserMessageError, match="dirty"):
        update(project, "v2.0.0")

    assert snapshot(project) == before
    assert tpl.git(project, "rev-parse", "HEAD") == head
    assert tpl.load_answers(project)["_commit"] == "v1.0.0"


@pytest.fixture(scope="module")
def conflicted(tmp_path_factory, template_repo, tpl):
    """A v1.0.0 project whose client edited the very line v2.0.0 changes, then updated."""
    project = tpl.render_client(tmp_path_factory.mktemp("conf") / "churn", template_repo, "v1.0.0")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(tpl.OLD_LINE, 'prediction_log = "var/predictions.jsonl"')
    )
    make_client_edits(project, "churn_model")
    tpl.commit_all(project, "Client moved the prediction log")
    update(project, "v2.0.0", conflict="inline")
    return project


def test_conflicting_edit_leaves_inline_markers_in_exactly_that_file(conflicted, tpl):
    assert text_files_with_markers(conflicted) == ["pyproject.toml"]
    text = (conflicted / "pyproject.toml").read_text()
    assert 'prediction_log = "var/predictions.jsonl"' in text
    assert tpl.NEW_LINE in text
    unmerged = tpl.git(conflicted, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == ["pyproject.toml"]


def test_conflicting_update_keeps_other_client_changes(conflicted):
    assert CLIENT_RULE in (conflicted / "src" / "churn_model" / "train.py").read_text()
    assert "  test_size: 0.25\n" in (conflicted / "params.yaml").read_text()
    assert (conflicted / "notes" / "decisions.md").is_file()
    assert not (conflicted / ".dvcignore").exists()


def offline_guard_config(project: Path, destination: Path) -> Path:
    """The rendered .pre-commit-config.yaml itself, checked to run without network.

    Every hook must be `repo: local` (pre-commit clones remote hook repositories before running
    any hook); the guards must need no install (pygrep, fail). The hooks that install from the
    package index (ruff, pre-commit-hooks) are skipped through SKIP in `try_commit`.
    """
    rendered = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in rendered["repos"]] == ["local"], "a remote hook repository"
    hooks = {hook["id"]: hook for repo in rendered["repos"] for hook in repo["hooks"]}
    assert hooks["check-merge-conflict"]["language"] == "pygrep"
    assert hooks["forbid-rej"]["language"] == "fail" and "rej" in hooks["forbid-rej"]["files"]
    destination.write_text(yaml.safe_dump(rendered))
    return destination


def installing_hooks(config: Path) -> str:
    """SKIP value naming every hook that would install something (offline they cannot)."""
    rendered = yaml.safe_load(config.read_text())
    return ",".join(
        hook["id"]
        for repo in rendered["repos"]
        for hook in repo["hooks"]
        if hook["language"] not in ("pygrep", "fail", "system")
    )


def try_commit(project: Path, config: Path, home: Path) -> subprocess.CompletedProcess:
    env = {"PRE_COMMIT_HOME": str(home), "PATH": f"{BIN_DIR}:/usr/bin:/bin"}
    env["SKIP"] = installing_hooks(config)
    subprocess.run(
        [str(BIN_DIR / "pre-commit"), "install", "-c", str(config)],
        cwd=project, env=env, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(["git", "add", "--all"], cwd=project, check=True)
    return subprocess.run(
        ["git", "-c", "user.name=Client", "-c", "user.email=client@example.com",
         "commit", "-m", "Template 2.0.0"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_precommit_guard_refuses_commit_with_conflict_markers(conflicted, tpl, tmp_path):
    # Runs after the other `conflicted` tests (same module, same worker): it resolves and commits.
    project, pyproject = conflicted, conflicted / "pyproject.toml"
    head = tpl.git(project, "rev-parse", "HEAD")
    config = offline_guard_config(project, tmp_path / "guards.yaml")

    refused = try_commit(project, config, tmp_path / "pre-commit-home")

    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "refuse conflict markers" in output and "pyproject.toml" in output
    assert tpl.git(project, "rev-parse", "HEAD") == head
    # The resolve flow of docs/updating.md: keep one side, remove the markers, commit.
    lines = pyproject.read_text().splitlines(keepends=True)
    resolved, side = [], None
    for line in lines:
        if line.startswith("<<<<<<< "):
            side = "ours"
        elif line.startswith("=======") and side == "ours":
            side = "theirs"
        elif line.startswith(">>>>>>> "):
            side = None
        elif side != "ours":
            resolved.append(line)
    pyproject.write_text("".join(resolved))
    accepted = try_commit(project, config, tmp_path / "pre-commit-home")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert tpl.NEW_LINE in pyproject.read_text()


def test_precommit_guard_refuses_commit_with_rej_file(client_project, tpl, tmp_path):
    project = client_project("v1.0.0")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(tpl.OLD_LINE, 'prediction_log = "var/predictions.jsonl"')
    )
    tpl.commit_all(project, "Client moved the prediction log")
    update(project, "v2.0.0", conflict="rej")
    assert (project / "pyproject.toml.rej").is_file()
    head = tpl.git(project, "rev-parse", "HEAD")

    refused = try_commit(
        project, offline_guard_config(project, tmp_path / "g.yaml"), tmp_path / "h"
    )

    assert refused.returncode != 0
    assert "pyproject.toml.rej" in refused.stdout + refused.stderr
    assert tpl.git(project, "rev-parse", "HEAD") == head


def test_offline_conflict_check_survives_files_the_update_deleted(client_project, tpl, tmp_path):
    """`pre-commit run --all-files` after an update that deleted a tracked file (the documented
    check; `check-merge-conflict $(git ls-files)` crashed on the deleted file)."""
    project = client_project("v2.0.0")
    (project / "tests" / "test_data.py").unlink()  # deleted, not yet committed: as after an update
    config = offline_guard_config(project, tmp_path / "g.yaml")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "h"), "PATH": f"{BIN_DIR}:/usr/bin:/bin"}
    env["SKIP"] = installing_hooks(config)
    done = subprocess.run(
        [str(BIN_DIR / "pre-commit"), "run", "--all-files", "-c", str(config)],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refuse conflict markers" in done.stdout and "Passed" in done.stdout
