"""``fleet update``: move projects to a template release on a review branch, losing nothing.

Per project, in a throwaway clone of the project (``git clone --shared``: the client's branch,
HEAD and working tree are never touched, and a dry run writes nothing to the project at all):

1. only a template source the operator named is applied (see :mod:`mlops_common.fleet.trust`);
2. the clone starts at the project's default branch, never at whatever branch is checked out;
3. pristine renders of the current and the target version with the project's answers (no task
   runs in them) tell which files the client changed, which the release deletes or renames, and
   which keys the release adds to client-owned YAML (:mod:`mlops_common.fleet.plan`);
4. real ``copier update`` merges the release; a client-modified file it deleted is put back and
   the project is reported ``needs-review`` with the file named; new keys are merged into
   client-owned YAML keeping client values and comments; a ``uv.lock`` is re-locked;
5. the result is committed on ``template-update/<release>``, checked (ruff, pytest, ``dvc
   status`` and the pipeline's params), fetched into the project, and optionally pushed and
   proposed as a pull/merge request.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import EnvironmentProblem, FleetError, MlopsError
from mlops_common.fleet._git import GitFailed, default_branch, git, parse_described, parse_release
from mlops_common.fleet._html import FleetReport
from mlops_common.fleet._projects import ANSWERS_FILE, Project
from mlops_common.fleet.checks import default_check_commands, run_checks
from mlops_common.fleet.plan import owned_yaml_files, plan_update, versions_behind
from mlops_common.fleet.render import CopierFailed, RenderCache, copier, read_tree
from mlops_common.fleet.status import UNRELEASED
from mlops_common.fleet.trust import TrustedSources, location_of
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK

__all__ = [
    "CONFLICTS",
    "DRY_RUN",
    "FAILED_CHECKS",
    "NEEDS_REVIEW",
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
NEEDS_REVIEW = "needs-review"
FAILED_CHECKS = "failed-checks"
DRY_RUN = "dry-run"
SKIPPED = "skipped"
OUTCOMES = (UPDATED_CLEAN, NEEDS_REVIEW, CONFLICTS, FAILED_CHECKS, DRY_RUN, SKIPPED)
_COMMITTER = ["-c", "user.name=mlops fleet", "-c", "user.email=mlops-fleet@localhost"]
_MARKERS = ("<<<<<<< ", ">>>>>>> ")
# Client-owned YAML files when the template's copier.yml cannot be read.
_DEFAULT_OWNED = ("params.yaml",)


@dataclass
class ProjectUpdate:
    """What happened to one project. ``branch`` is set for every outcome that made one."""

    name: str
    path: str | None
    outcome: str = SKIPPED
    reason: str = ""
    from_version: str = ""
    to_version: str = ""
    versions_behind: int | None = None
    base: str = ""
    branch: str = ""
    commit: str = ""
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    new_keys: dict[str, list[str]] = field(default_factory=dict)
    relocked: bool = False
    check_output: str = ""
    pushed: bool = False
    review_url: str = ""
    review_error: str = ""
    diff: str = ""
    seconds: float = 0.0
    up_to_date: bool = False
    proposed: bool = False

    @property
    def ok(self) -> bool:
        """Nothing for a person to do: updated and checked, current, or already proposed."""
        if self.review_error:
            return False
        return self.outcome in (UPDATED_CLEAN, DRY_RUN) or self.up_to_date or self.proposed

    def files(self) -> list[str]:
        """The lines a reviewer reads: conflicts, kept files, keys added, the review."""
        lines = [f"conflict: {name}" for name in self.conflicts]
        lines += self.kept
        lines += [
            f"{name}: added {', '.join(keys)}" for name, keys in sorted(self.new_keys.items())
        ]
        if self.relocked:
            lines.append("uv.lock: re-locked")
        if self.review_url:
            lines.append(f"review: {self.review_url}")
        if self.review_error:
            lines.append(f"review not opened: {self.review_error}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "files": self.files()}

    def markdown(self) -> str:
        """The pull/merge request body."""
        lines = [
            f"Template update of **{self.name}** from `{self.from_version}` to "
            f"`{self.to_version}`, made by `mlops fleet update` from `{self.base}`.",
            "",
            f"Outcome: **{self.outcome}**" + (f" ({self.reason})" if self.reason else ""),
        ]
        if self.files():
            lines += ["", "Files to look at:", ""] + [f"- `{item}`" for item in self.files()]
        return "\n".join(lines) + "\n"


@dataclass
class FleetUpdateReport(FleetReport):
    """Per-project outcomes; ``all_clean`` when nothing needs a person."""

    results: list[ProjectUpdate]
    target: str | None = None
    jobs: int = 1
    seconds: float = 0.0
    dry_run: bool = False
    title: str = "Fleet update"
    columns: tuple[str, ...] = ("project", "from", "to", "outcome", "branch", "details", "seconds")
    chart_caption: str = "releases behind the newest, before this update (0 = was current)"

    @property
    def all_clean(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.all_clean else EXIT_NEGATIVE

    def by_outcome(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {outcome: [] for outcome in OUTCOMES}
        for r in self.results:
            grouped[r.outcome].append(r.name)
        return grouped

    def counts(self) -> dict[str, int]:
        return {outcome: len(names) for outcome, names in self.by_outcome().items() if names}

    def rows(self) -> list[list[str]]:
        rows = []
        for r in self.results:
            details = "; ".join(r.files()) or r.reason
            if r.reason and r.files():
                details = f"{r.reason}; {details}"
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

    def details(self) -> list[tuple[str, list[str]]]:
        return [(r.name, r.files()) for r in self.results if r.files()]

    def summary(self) -> str:
        text = super().summary()
        diffs = [f"--- {r.name}\n{r.diff}" for r in self.results if r.diff]
        return "\n".join([*diffs, text]) if diffs else text

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "target": self.target,
            "jobs": self.jobs,
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
            "all_clean": self.all_clean,
            "results": [r.to_dict() for r in self.results],
        }

    def row_classes(self) -> list[str]:
        css = {UPDATED_CLEAN: "good", DRY_RUN: "good", SKIPPED: "warn"}
        return [
            "good" if r.up_to_date or r.proposed else css.get(r.outcome, "bad")
            for r in self.results
        ]

    def chart_bars(self) -> list[tuple[str, int | None, str]]:
        return [
            (r.name, r.versions_behind, cls)
            for r, cls in zip(self.results, self.row_classes(), strict=True)
        ]


def _check_commands(check: str | Sequence[Sequence[str]] | None) -> list[list[str]]:
    if check is None:
        return default_check_commands()
    if isinstance(check, str):
        return [["/bin/sh", "-c", check]] if check.strip() else []
    return [list(argv) for argv in check]


def _conflicted_files(clone: Path, sub: Path) -> list[str]:
    """Files left unmerged, with inline markers, or as ``.rej`` rejects (deleted files skipped)."""
    found = set(git(clone, "diff", "--name-only", "--diff-filter=U").split())
    listing = git(clone, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    for entry in listing:
        if len(entry) < 4:
            continue
        name = entry[3:]
        if name.endswith(".rej"):
            found.add(name)
            continue
        path = clone / name
        if not path.is_file():  # deleted by the update: nothing to scan
            continue
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        if any(line.startswith(_MARKERS) for line in lines):
            found.add(name)
    prefix = sub.relative_to(clone).as_posix()
    strip = len(prefix) + 1 if prefix != "." else 0
    return sorted(name[strip:] for name in found)


@dataclass
class _Options:
    to: str | None
    trusted: TrustedSources
    checks: list[list[str]]
    check_timeout: float
    update_timeout: float
    branch_prefix: str
    base: str | None
    refresh: bool
    dry_run: bool
    push: bool
    open_pr: bool
    forge: str | None
    forge_api: str | None
    relock: list[str] | None
    workdir: Path | None
    renders: RenderCache
    tags_cache: dict = field(default_factory=dict)
    skip_cache: dict = field(default_factory=dict)


def _releases(location: str, options: _Options) -> list[str]:
    from mlops_common.fleet._git import release_tags

    if location not in options.tags_cache:
        options.tags_cache[location] = release_tags(location)
    return options.tags_cache[location]


def _client_owned(location: str, ref: str, paths, options: _Options) -> list[str]:
    """Client-owned YAML files per the target's ``_skip_if_exists`` (local templates)."""
    import yaml

    key = (location, ref)
    if key not in options.skip_cache:
        patterns: list[str] = list(_DEFAULT_OWNED)
        if Path(location).is_dir():
            try:
                data = yaml.safe_load(git(Path(location), "show", f"{ref}:copier.yml")) or {}
                patterns += [str(p) for p in data.get("_skip_if_exists") or []]
            except (GitFailed, yaml.YAMLError):
                pass
        options.skip_cache[key] = patterns
    return owned_yaml_files(options.skip_cache[key], paths)


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


def _read_answers_at(root: Path, top: Path, ref: str) -> dict[str, Any] | None:
    import yaml

    rel = (root.resolve().relative_to(top.resolve()) / ANSWERS_FILE).as_posix()
    try:
        data = yaml.safe_load(git(root, "show", f"{ref}:{rel}"))
    except (GitFailed, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


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
    base = options.base or default_branch(root)
    result.base = base
    answers = _read_answers_at(root, top, base)
    if not answers or not answers.get("_src_path") or not answers.get("_commit"):
        return _skip(
            result,
            f"not a Copier project (no .copier-answers.yml with _src_path/_commit on {base})",
        )
    source = str(answers["_src_path"])
    result.from_version = str(answers["_commit"])
    if not options.trusted.allows(source, project_root=root):
        return _skip(result, options.trusted.reason(source))
    dirty = git(root, "status", "--porcelain").splitlines()
    if dirty:
        return _skip(result, f"dirty working tree ({len(dirty)} changes); commit or stash first")
    location = location_of(source, relative_to=root)
    try:
        releases = _releases(location, options)
    except (GitFailed, OSError) as exc:
        return _skip(result, f"template source unreachable: {exc}")
    if not releases and options.to is None:
        return _skip(result, f"{UNRELEASED}: nothing to update to", up_to_date=True)
    target = options.to or releases[0]
    result.to_version = target
    current, wanted = parse_described(result.from_version), parse_release(target)
    result.versions_behind = versions_behind(current, releases)
    if wanted is None:
        return _skip(result, f"{target} is not a vX.Y.Z release tag")
    if options.to is not None and releases and target not in releases:
        return _skip(result, f"{target}: no such release of {source}")
    if current is not None and current >= wanted:
        return _skip(result, f"already at {result.from_version}", up_to_date=True)
    branch = f"{options.branch_prefix}{target}"
    exists = bool(git(root, "branch", "--list", branch).strip())
    if exists and not options.refresh and not options.dry_run:
        result.branch, result.proposed = branch, True
        return _skip(result, f"update branch {branch} already exists; --refresh rebuilds it")

    holder = Path(tempfile.mkdtemp(prefix="mlops-fleet-", dir=options.workdir))
    where = _Where(root, top, base, branch, location, answers, holder / "clone")
    try:
        _update_in_clone(where, options, result)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
    return None


@dataclass(frozen=True)
class _Where:
    root: Path
    top: Path
    base: str
    branch: str
    location: str
    answers: dict[str, Any]
    clone: Path


def _update_in_clone(where: _Where, options: _Options, result: ProjectUpdate) -> None:
    root, top, base, branch = where.root, where.top, where.base, where.branch
    location, answers, clone = where.location, where.answers, where.clone
    base_commit = git(root, "rev-parse", "--verify", f"{base}^{{commit}}").strip()
    git(None, "clone", "--quiet", "--shared", "--no-checkout", str(top), str(clone))
    git(clone, "checkout", "--quiet", "-B", branch, base_commit)
    sub = clone / root.resolve().relative_to(top.resolve())
    target = result.to_version

    client = read_tree(sub)
    # The pristine renders and `copier update` are independent processes: run them side by side.
    with ThreadPoolExecutor(max_workers=1) as side:
        renders = side.submit(
            options.renders.trees, location, [result.from_version, target], answers
        )
        try:
            copier(
                "update", "--defaults", "--trust", "--quiet", "--conflict", "inline",
                "--vcs-ref", target, str(sub),
                timeout=options.update_timeout,
            )  # fmt: skip
        except CopierFailed as exc:
            renders.cancel()
            return _skip(result, f"copier update failed: {exc}")
        old, new = renders.result()
    owned = _client_owned(location, target, client.keys(), options)
    plan = plan_update(old, new, client, client_owned_yaml=owned)

    rel = sub.relative_to(clone).as_posix()
    prefix = "" if rel == "." else f"{rel}/"
    for kept in plan.kept:
        if not (sub / kept.path).exists():
            git(clone, "checkout", "--quiet", base_commit, "--", prefix + kept.path)
            result.kept.append(kept.describe(target))
    _merge_new_keys(sub, new, plan.new_keys, result)
    result.conflicts = _conflicted_files(clone, sub)
    if options.relock and (sub / "uv.lock").is_file():
        ok, output = run_checks(sub, [options.relock], options.check_timeout)
        if not ok:
            result.outcome, result.reason = FAILED_CHECKS, f"re-lock failed: {output}"
            result.check_output = output
            return None
        result.relocked = True

    git(clone, "add", "--all")
    if options.dry_run:
        result.diff = git(clone, "diff", "--cached", "--stat", "--patch", base_commit)
        result.outcome = DRY_RUN
        result.reason = _planned(result) or "would update cleanly (checks not run)"
        return None
    message = f"Update template to {target}\n\nmlops fleet update from {result.from_version}."
    if result.conflicts:
        message += "\nConflicts to resolve: " + ", ".join(result.conflicts)
    if result.kept:
        message += "\nKept for review: " + "; ".join(result.kept)
    git(clone, *_COMMITTER, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", message)
    result.commit = git(clone, "rev-parse", "HEAD").strip()
    result.branch = branch

    if result.conflicts:
        result.outcome = CONFLICTS
        result.reason = "resolve the markers on the branch, then run its checks"
    elif result.kept:
        result.outcome = NEEDS_REVIEW
        result.reason = "client files the release deletes or renames were kept"
    else:
        ok, output = run_checks(sub, options.checks, options.check_timeout)
        result.outcome = UPDATED_CLEAN if ok else FAILED_CHECKS
        result.check_output = output
        result.reason = "" if ok else output.splitlines()[0]

    # The only write to the project's repository: the branch, from the clone.
    git(root, "fetch", "--quiet", str(clone), f"+refs/heads/{branch}:refs/heads/{branch}")
    if options.push or options.open_pr:
        _push_and_review(root, base, branch, result, options)
    return None


def _planned(result: ProjectUpdate) -> str:
    parts = []
    if result.conflicts:
        parts.append(f"would conflict in {', '.join(result.conflicts)}")
    if result.kept:
        parts.append("would keep client files for review")
    return "; ".join(parts)


def _merge_new_keys(sub: Path, new: dict[str, bytes], keys, result: ProjectUpdate) -> None:
    from mlops_common.fleet.yaml_merge import merge_new_keys

    for name, paths in sorted(keys.items()):
        target = sub / name
        if not target.is_file():
            continue
        merged, added = merge_new_keys(
            target.read_text(encoding="utf-8"), new[name].decode("utf-8"), paths
        )
        if added:
            target.write_text(merged, encoding="utf-8")
            result.new_keys[name] = added


def _push_and_review(root: Path, base: str, branch: str, result, options: _Options) -> None:
    from mlops_common.fleet._git import remote_url
    from mlops_common.fleet.forge import open_review, review_request

    remote = remote_url(root)
    if remote is None:
        result.review_error = "no 'origin' remote to push to"
        return
    try:
        git(root, "push", "--quiet", "--force", "origin", f"refs/heads/{branch}", timeout=300)
        result.pushed = True
    except GitFailed as exc:
        result.review_error = f"push failed: {exc}"
        return
    if not options.open_pr:
        return
    try:
        request = review_request(
            remote,
            branch=branch,
            base=base.removeprefix("origin/"),
            title=f"Update template to {result.to_version}",
            body=result.markdown(),
            forge=options.forge,
            api_url=options.forge_api,
        )
        review = open_review(request)
        result.review_url = review.url or ("already open" if review.already_open else "")
    except MlopsError as exc:  # no token, forge unreachable or refusing: this project only
        result.review_error = str(exc)


def fleet_update(
    projects: Sequence[Project],
    *,
    templates: Sequence[str],
    to: str | None = None,
    jobs: int = 4,
    check: str | Sequence[Sequence[str]] | None = None,
    check_timeout: float = 900,
    update_timeout: float = 600,
    branch_prefix: str = "template-update/",
    base: str | None = None,
    refresh: bool = False,
    dry_run: bool = False,
    push: bool = False,
    open_pr: bool = False,
    forge: str | None = None,
    forge_api: str | None = None,
    relock: Sequence[str] | None = ("uv", "lock"),
    workdir: str | Path | None = None,
) -> FleetUpdateReport:
    """Update every project to ``to`` (default: its template's newest release) on a new branch.

    ``templates`` names the template sources this run may apply; a project recorded against any
    other source is skipped before anything of it runs. See the module docstring for the steps.
    ``check`` replaces the default checks (a shell string or a list of argv lists). ``jobs``
    projects run in parallel.

    >>> clients = collect_projects(scan="clients/")  # doctest: +SKIP
    >>> report = fleet_update(clients, templates=["gh:acme/tpl"])  # doctest: +SKIP
    >>> report.by_outcome()["needs-review"]  # doctest: +SKIP
    ['churn-model']
    """
    if importlib.util.find_spec("copier") is None:
        raise EnvironmentProblem(
            "copier is not installed; install mlops-common[fleet] to run fleet update"
        )
    if not templates:
        raise FleetError(
            "name the template source(s) this run may apply: --template SRC (or templates: in "
            "the inventory); projects recorded against any other source are skipped"
        )
    if to is not None and parse_release(to) is None:
        raise FleetError(f"--to {to}: not a release tag; use vX.Y.Z")
    renders = RenderCache(Path(workdir) if workdir else None, timeout=update_timeout)
    options = _Options(
        to=to,
        trusted=TrustedSources(templates),
        checks=_check_commands(check),
        check_timeout=check_timeout,
        update_timeout=update_timeout,
        branch_prefix=branch_prefix,
        base=base,
        refresh=refresh,
        dry_run=dry_run,
        push=push,
        open_pr=open_pr,
        forge=forge,
        forge_api=forge_api,
        relock=list(relock) if relock else None,
        workdir=Path(workdir) if workdir else None,
        renders=renders,
    )
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(lambda p: _update_one(p, options), projects))
    finally:
        renders.close()
    return FleetUpdateReport(
        results,
        target=to,
        jobs=max(1, jobs),
        seconds=time.perf_counter() - started,
        dry_run=dry_run,
    )
