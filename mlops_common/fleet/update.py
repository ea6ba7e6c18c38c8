"""``fleet update``: move every project to a template release on its own branch, then check it.

Each project is updated in a separate ``git worktree`` on a new branch, so the branch the client
works on, its HEAD and its working tree are never touched. Copier runs in a subprocess (it changes
the process's working directory while it works, so it cannot run in threads).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import FleetError
from mlops_common.fleet._git import (
    GIT_ENV,
    GitFailed,
    git,
    parse_described,
    parse_release,
    release_tags,
)
from mlops_common.fleet._html import ReportFiles
from mlops_common.fleet._projects import Project
from mlops_common.fleet.status import read_answers

__all__ = [
    "CONFLICTS",
    "FAILED_CHECKS",
    "OUTCOMES",
    "SKIPPED",
    "UPDATED_CLEAN",
    "FleetUpdateReport",
    "ProjectUpdate",
    "default_check_commands",
    "fleet_update",
]

UPDATED_CLEAN = "updated-clean"
CONFLICTS = "updated-with-conflicts"
FAILED_CHECKS = "failed-checks"
SKIPPED = "skipped"
OUTCOMES = (UPDATED_CLEAN, CONFLICTS, FAILED_CHECKS, SKIPPED)
_COMMITTER = ["-c", "user.name=mlops fleet", "-c", "user.email=mlops-fleet@localhost"]
_MARKERS = ("<<<<<<< ", ">>>>>>> ")


@dataclass
class ProjectUpdate:
    """What happened to one project. ``branch`` is kept for every updated outcome."""

    name: str
    path: str | None
    outcome: str = SKIPPED
    reason: str = ""
    from_version: str = ""
    to_version: str = ""
    branch: str = ""
    commit: str = ""
    conflicts: list[str] = field(default_factory=list)
    check_output: str = ""
    seconds: float = 0.0
    up_to_date: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FleetUpdateReport(ReportFiles):
    """Per-project outcomes; ``all_clean`` when every project updated cleanly or was current."""

    results: list[ProjectUpdate]
    target: str | None = None
    jobs: int = 1
    seconds: float = 0.0
    title: str = "Fleet update"
    columns: tuple[str, ...] = ("project", "from", "to", "outcome", "branch", "details", "seconds")

    @property
    def all_clean(self) -> bool:
        return all(r.outcome == UPDATED_CLEAN or r.up_to_date for r in self.results)

    def by_outcome(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {outcome: [] for outcome in OUTCOMES}
        for r in self.results:
            grouped[r.outcome].append(r.name)
        return grouped

    def summary(self) -> dict[str, int]:
        return {outcome: len(names) for outcome, names in self.by_outcome().items()}

    def rows(self) -> list[list[str]]:
        rows = []
        for r in self.results:
            details = ", ".join(r.conflicts) if r.conflicts else r.reason
            rows.append(
                [
                    r.name,
                    r.from_version or "-",
                    r.to_version or "-",
                    r.outcome,
                    r.branch or "-",
                    details or "-",
                    f"{r.seconds:.1f}",
                ]
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "target": self.target,
            "jobs": self.jobs,
            "seconds": round(self.seconds, 3),
            "all_clean": self.all_clean,
            "summary": self.summary(),
            "results": [r.to_dict() for r in self.results],
        }

    def _row_classes(self) -> list[str]:
        css = {UPDATED_CLEAN: "good", CONFLICTS: "warn", FAILED_CHECKS: "bad", SKIPPED: "warn"}
        return ["good" if r.up_to_date else css.get(r.outcome, "bad") for r in self.results]


def default_check_commands() -> list[list[str]]:
    """The project's own checks: ruff over the project, then its pytest suite."""
    return [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
    ]


def _check_commands(check: str | Sequence[Sequence[str]] | None) -> list[list[str]]:
    if check is None:
        return default_check_commands()
    if isinstance(check, str):
        return [["/bin/sh", "-c", check]] if check.strip() else []
    return [list(argv) for argv in check]


def _run_checks(cwd: Path, commands: list[list[str]], timeout: float) -> tuple[bool, str]:
    env = {**os.environ, **GIT_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd / "src"), env.get("PYTHONPATH")]))
    env.pop("VIRTUAL_ENV", None)
    for argv in commands:
        label = shlex.join(argv)
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return False, f"{label}: timed out after {timeout:.0f} s"
        except OSError as exc:
            return False, f"{label}: {exc}"
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
            return False, f"{label}: exit {done.returncode}\n" + "\n".join(tail)
    return True, ""


def _conflicted_files(worktree: Path) -> list[str]:
    """Files Copier left unmerged, with inline markers, or as ``.rej`` rejects."""
    unmerged = set(git(worktree, "diff", "--name-only", "--diff-filter=U").split())
    changed = git(worktree, "status", "--porcelain", "--untracked-files=all").splitlines()
    for line in changed:
        name = line[3:].strip().strip('"')
        if " -> " in name:
            name = name.split(" -> ", 1)[1]
        if name.endswith(".rej"):
            unmerged.add(name)
            continue
        path = worktree / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except (OSError, IsADirectoryError):
            continue
        if any(line.startswith(_MARKERS) for line in text.splitlines()):
            unmerged.add(name)
    return sorted(unmerged)


@dataclass
class _Options:
    to: str | None
    checks: list[list[str]]
    check_timeout: float
    update_timeout: float
    branch_prefix: str
    worktree_dir: Path | None
    tags_cache: dict


def _newest(source: str, options: _Options) -> str:
    if source not in options.tags_cache:
        options.tags_cache[source] = release_tags(source)
    tags = options.tags_cache[source]
    if not tags:
        raise GitFailed(f"{source} has no vX.Y.Z release tag")
    return tags[0]


def _update_one(project: Project, options: _Options) -> ProjectUpdate:
    started = time.perf_counter()
    result = ProjectUpdate(project.name, str(project.path) if project.path else None)
    try:
        _update_into(project, options, result)
    except Exception as exc:  # one broken project never stops the fleet run
        result.outcome = SKIPPED
        result.reason = f"error: {exc.__class__.__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def _skip(result: ProjectUpdate, reason: str, *, up_to_date: bool = False) -> None:
    result.outcome, result.reason, result.up_to_date = SKIPPED, reason, up_to_date


def _update_into(project: Project, options: _Options, result: ProjectUpdate) -> None:
    if project.error or project.path is None:
        return _skip(result, project.error or "unreachable")
    root = project.path
    if not root.is_dir():
        return _skip(result, f"unreachable: {root} does not exist")
    try:
        top = Path(git(root, "rev-parse", "--show-toplevel").strip())
    except GitFailed:
        return _skip(result, "not a git repository")
    answers = read_answers(root)
    if not answers or not answers.get("_src_path") or not answers.get("_commit"):
        return _skip(result, "not a Copier project (no .copier-answers.yml with _src_path/_commit)")
    result.from_version = str(answers["_commit"])
    dirty = git(root, "status", "--porcelain").splitlines()
    if dirty:
        return _skip(result, f"dirty working tree ({len(dirty)} changes); commit or stash first")
    try:
        target = options.to or _newest(str(answers["_src_path"]), options)
    except (GitFailed, OSError) as exc:
        return _skip(result, f"template source unreachable: {exc}")
    result.to_version = target
    current, wanted = parse_described(result.from_version), parse_release(target)
    if wanted is None:
        return _skip(result, f"{target} is not a vX.Y.Z release tag")
    if current is not None and current >= wanted:
        return _skip(result, f"already at {result.from_version}", up_to_date=True)
    branch = f"{options.branch_prefix}{target}"
    if git(root, "branch", "--list", branch).strip():
        return _skip(result, f"branch {branch} already exists; merge or delete it first")

    holder = Path(tempfile.mkdtemp(prefix="mlops-fleet-", dir=options.worktree_dir))
    worktree = holder / "worktree"
    git(root, "worktree", "add", "--quiet", "-b", branch, str(worktree), "HEAD")
    try:
        sub = worktree / root.resolve().relative_to(top.resolve())
        command = [
            sys.executable, "-m", "copier", "update", "--defaults", "--trust", "--quiet",
            "--conflict", "inline", "--vcs-ref", target, str(sub),
        ]  # fmt: skip
        env = {**os.environ, **GIT_ENV}
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=options.update_timeout,
            )
        except subprocess.TimeoutExpired:
            done = None
        if done is None or done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() if done else []
            reason = lines[-1] if lines else f"timed out after {options.update_timeout:.0f} s"
            git(root, "worktree", "remove", "--force", str(worktree))
            git(root, "branch", "-D", branch)
            return _skip(result, f"copier update failed: {reason}")
        result.branch = branch
        result.conflicts = _conflicted_files(worktree)
        git(worktree, "add", "--all")
        message = f"Update template to {target}\n\nmlops fleet update from {result.from_version}."
        if result.conflicts:
            message += "\nConflicts to resolve: " + ", ".join(result.conflicts)
        git(
            worktree,
            *_COMMITTER,
            "commit",
            "--quiet",
            "--no-verify",
            "--allow-empty",
            "-m",
            message,
        )
        result.commit = git(worktree, "rev-parse", "HEAD").strip()
        if result.conflicts:
            result.outcome = CONFLICTS
            result.reason = "resolve the markers on the branch, then run its checks"
            return None
        ok, output = _run_checks(sub, options.checks, options.check_timeout)
        result.outcome = UPDATED_CLEAN if ok else FAILED_CHECKS
        result.check_output = output
        result.reason = "" if ok else output.splitlines()[0]
        return None
    finally:
        if worktree.exists():
            try:
                git(root, "worktree", "remove", "--force", str(worktree))
            except GitFailed:
                git(root, "worktree", "prune")
        shutil.rmtree(holder, ignore_errors=True)


def fleet_update(
    projects: Sequence[Project],
    *,
    to: str | None = None,
    jobs: int = 4,
    check: str | Sequence[Sequence[str]] | None = None,
    check_timeout: float = 900,
    update_timeout: float = 600,
    branch_prefix: str = "template-update/",
    worktree_dir: str | Path | None = None,
) -> FleetUpdateReport:
    """Update every project to ``to`` (default: its template's newest release) on a new branch.

    Per project: skip it if it is unreachable, not a Copier project, dirty or already current;
    otherwise add a ``git worktree`` on branch ``template-update/<release>``, run
    ``copier update --defaults --trust`` there, commit, and run ``check`` (default: ruff and the
    project's pytest; a shell string or a list of argv lists) unless Copier left conflicts.
    The project's own branch, HEAD and working tree are never touched. ``jobs`` projects run
    in parallel.

    >>> report = fleet_update(collect_projects(scan="clients/"), to="v2.0.0")  # doctest: +SKIP
    >>> report.by_outcome()["updated-with-conflicts"]  # doctest: +SKIP
    ['churn-model']
    """
    if importlib.util.find_spec("copier") is None:
        raise FleetError("copier is not installed; install mlops-common[fleet] to run fleet update")
    if to is not None and parse_release(to) is None:
        raise FleetError(f"--to {to}: not a release tag; use vX.Y.Z")
    options = _Options(
        to=to,
        checks=_check_commands(check),
        check_timeout=check_timeout,
        update_timeout=update_timeout,
        branch_prefix=branch_prefix,
        worktree_dir=Path(worktree_dir) if worktree_dir else None,
        tags_cache={},
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda p: _update_one(p, options), projects))
    return FleetUpdateReport(
        results, target=to, jobs=max(1, jobs), seconds=time.perf_counter() - started
    )
