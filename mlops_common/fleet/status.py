"""``fleet status``: each project against the newest template release and the standard."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.fleet._git import (
    GitFailed,
    Version,
    parse_described,
    parse_release,
    release_tags,
)
from mlops_common.fleet._html import FleetReport
from mlops_common.fleet._projects import ANSWERS_FILE, Project
from mlops_common.fleet.plan import versions_behind
from mlops_common.results import EXIT_NEGATIVE, EXIT_OK

__all__ = [
    "CHECKS",
    "DEFAULT_MAX_BEHIND",
    "PIPELINE_STAGES",
    "UNRELEASED",
    "FleetCheckReport",
    "FleetStatusReport",
    "ProjectStatus",
    "fleet_check",
    "fleet_status",
    "read_answers",
]

UNRELEASED = "unreleased template (no vX.Y.Z tag yet)"
# `mlops fleet check` fails a project more than this many releases behind the newest.
DEFAULT_MAX_BEHIND = 2

PIPELINE_STAGES = ("prepare", "validate", "train", "evaluate", "register")
# Every conformance check, in the order they are shown.
CHECKS = (
    "copier_project",
    "dvc_stages",
    "expectations",
    "ci_file",
    "precommit_guards",
    "pin_window",
    "template_window",
)
_PIN = re.compile(r"^mlops[-_]common\s*(\[[^\]]*\])?(?P<spec>[^;]*)", re.IGNORECASE)


@dataclass
class ProjectStatus:
    """One row of the status report."""

    name: str
    path: str | None
    source: str
    template_version: str = ""
    newest_release: str = ""
    pin: str = ""
    newest_pin: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    pipeline_locked: bool = False
    error: str | None = None
    releases: list[str] = field(default_factory=list)
    unreleased: bool = False

    @property
    def versions_behind(self) -> int | None:
        """Releases newer than the project's (0 when current or the template has none)."""
        if self.unreleased:
            return 0
        if not self.releases:
            return None
        return versions_behind(parse_described(self.template_version), self.releases)

    @property
    def failed_checks(self) -> list[str]:
        return [name for name, ok in self.checks.items() if not ok]

    @property
    def behind(self) -> bool:
        current, newest = parse_described(self.template_version), parse_release(self.newest_release)
        return bool(current and newest and current < newest)

    @property
    def in_policy(self) -> bool:
        return self.error is None and not self.failed_checks

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "source": self.source,
            "template_version": self.template_version,
            "newest_release": self.newest_release,
            "unreleased_template": self.unreleased,
            "behind": self.behind,
            "versions_behind": self.versions_behind,
            "pin": self.pin,
            "newest_pin": self.newest_pin,
            "cloud": self.answers.get("cloud", ""),
            "ci": self.answers.get("ci", ""),
            "answers": self.answers,
            "checks": self.checks,
            "failed_checks": self.failed_checks,
            "metrics": self.metrics,
            "pipeline_locked": self.pipeline_locked,
            "in_policy": self.in_policy,
            "error": self.error,
        }


@dataclass
class FleetStatusReport(FleetReport):
    """The whole fleet's status; ``in_policy`` is False when any project is out of policy."""

    projects: list[ProjectStatus]
    title: str = "Fleet status"
    columns: tuple[str, ...] = (
        "project",
        "template",
        "newest",
        "pin",
        "newest pin",
        "cloud",
        "ci",
        "checks",
        "metrics",
        "policy",
    )

    @property
    def in_policy(self) -> bool:
        return all(p.in_policy for p in self.projects)

    @property
    def out_of_policy(self) -> list[str]:
        return [p.name for p in self.projects if not p.in_policy]

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.in_policy else EXIT_NEGATIVE

    def rows(self) -> list[list[str]]:
        rows = []
        for p in self.projects:
            checks = p.error or (
                "ok" if not p.failed_checks else "failed: " + ", ".join(p.failed_checks)
            )
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(p.metrics.items())[:4])
            rows.append(
                [
                    p.name,
                    p.template_version or "-",
                    UNRELEASED if p.unreleased else (p.newest_release or "-"),
                    p.pin or "-",
                    p.newest_pin or "-",
                    p.answers.get("cloud", "-"),
                    p.answers.get("ci", "-"),
                    checks,
                    metrics or "-",
                    ("ok" if not p.behind else "ok (behind)") if p.in_policy else "OUT",
                ]
            )
        return rows

    def counts(self) -> dict[str, int]:
        return {
            "projects": len(self.projects),
            "in policy": sum(p.in_policy for p in self.projects),
            "out of policy": sum(not p.in_policy for p in self.projects),
            "behind newest release": sum(p.behind for p in self.projects),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "in_policy": self.in_policy,
            "projects": [p.to_dict() for p in self.projects],
        }

    def row_classes(self) -> list[str]:
        return [
            "good" if p.in_policy and not p.behind else "warn" if p.in_policy else "bad"
            for p in self.projects
        ]

    def chart_bars(self) -> list[tuple[str, int | None, str]]:
        return [
            (p.name, p.versions_behind, cls)
            for p, cls in zip(self.projects, self.row_classes(), strict=True)
        ]


@dataclass
class FleetCheckReport(FleetReport):
    """``mlops fleet check``: each project's releases behind against ``max_behind``."""

    projects: list[ProjectStatus]
    max_behind: int = DEFAULT_MAX_BEHIND
    title: str = "Template updates check"
    columns: tuple[str, ...] = ("project", "template", "newest", "behind", "verdict")

    def verdict(self, p: ProjectStatus) -> str:
        if p.error:
            return f"cannot tell: {p.error}"
        if p.unreleased:
            return f"ok: {UNRELEASED}"
        behind = p.versions_behind
        if behind is None:
            return "cannot tell: no release found for this template version"
        if behind > self.max_behind:
            return (
                f"too far behind: {behind} releases (policy allows {self.max_behind}); "
                f"update to {p.newest_release}"
            )
        return "ok" if behind == 0 else f"ok: {behind} behind (policy allows {self.max_behind})"

    def too_far_behind(self) -> list[str]:
        return [p.name for p in self.projects if self.verdict(p).startswith("too far")]

    @property
    def exit_code(self) -> int:
        return EXIT_NEGATIVE if self.too_far_behind() else EXIT_OK

    def rows(self) -> list[list[str]]:
        return [
            [
                p.name,
                p.template_version or "-",
                UNRELEASED if p.unreleased else (p.newest_release or "-"),
                "-" if p.versions_behind is None else str(p.versions_behind),
                self.verdict(p),
            ]
            for p in self.projects
        ]

    def counts(self) -> dict[str, int]:
        return {
            "projects": len(self.projects),
            "too far behind": len(self.too_far_behind()),
            "current": sum(p.versions_behind == 0 for p in self.projects),
        }

    def row_classes(self) -> list[str]:
        classes = []
        for p in self.projects:
            verdict = self.verdict(p)
            classes.append(
                "bad" if verdict.startswith("too far") else
                "warn" if verdict.startswith("cannot") or p.versions_behind else "good"
            )  # fmt: skip
        return classes

    def chart_bars(self) -> list[tuple[str, int | None, str]]:
        return [
            (p.name, p.versions_behind, cls)
            for p, cls in zip(self.projects, self.row_classes(), strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "max_behind": self.max_behind,
            "projects": [
                {
                    "name": p.name,
                    "path": p.path,
                    "template_version": p.template_version,
                    "newest_release": p.newest_release,
                    "unreleased_template": p.unreleased,
                    "versions_behind": p.versions_behind,
                    "verdict": self.verdict(p),
                }
                for p in self.projects
            ],
        }


def read_answers(project_dir: Path) -> dict[str, Any] | None:
    """The project's ``.copier-answers.yml`` as a dict, or None when it is not a Copier project."""
    import yaml

    answers_path = project_dir / ANSWERS_FILE
    if not answers_path.is_file():
        return None
    try:
        data = yaml.safe_load(answers_path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def read_pin(project_dir: Path) -> str:
    """The version specifier of ``mlops-common`` in the project's pyproject.toml ('' if none)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    try:
        data = tomllib.loads((project_dir / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    for requirement in data.get("project", {}).get("dependencies", []):
        match = _PIN.match(requirement.strip())
        if match:
            return match["spec"].strip().strip("()").replace(" ", "")
    return ""


def pin_lower_bound(spec: str) -> Version | None:
    """``">=2.1,<3"`` -> ``(2, 1, 0)``; None without a lower bound."""
    match = re.search(r"(?:>=|~=|==)\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", spec)
    if not match:
        return None
    return (int(match[1]), int(match[2] or 0), int(match[3] or 0))


def pin_for(version: Version | None) -> str:
    """The mlops-common range a template release renders: same major, at least its minor."""
    if version is None:
        return ""
    return f">={version[0]}.{version[1]},<{version[0] + 1}"


def _dvc_stages(project_dir: Path) -> set[str]:
    import yaml

    try:
        data = yaml.safe_load((project_dir / "dvc.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return set()
    stages = data.get("stages") if isinstance(data, dict) else None
    return set(stages) if isinstance(stages, dict) else set()


def _ci_file_present(project_dir: Path, ci: str) -> bool:
    if ci == "github":
        folder = project_dir / ".github" / "workflows"
        return folder.is_dir() and any(folder.glob("*.y*ml"))
    if ci == "gitlab":
        return (project_dir / ".gitlab-ci.yml").is_file()
    if ci == "circleci":
        return (project_dir / ".circleci" / "config.yml").is_file()
    if ci == "azure-devops":
        return (project_dir / "azure-pipelines.yml").is_file()
    return ci in ("none", "")


def _precommit_guards(project_dir: Path) -> bool:
    """A conflict-marker guard that also fires outside a git merge, and a ``*.rej`` guard."""
    import yaml

    try:
        config = yaml.safe_load((project_dir / ".pre-commit-config.yaml").read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    hooks = [
        hook
        for repo in (config or {}).get("repos", []) or []
        if isinstance(repo, dict)
        for hook in repo.get("hooks", []) or []
        if isinstance(hook, dict)
    ]
    merge_guard = any(
        hook.get("id") == "check-merge-conflict"
        and ("--assume-in-merge" in (hook.get("args") or []) or hook.get("language") == "pygrep")
        for hook in hooks
    )
    rej_guard = any(re.search(r"\brej\b", str(hook.get("files", ""))) for hook in hooks)
    return merge_guard and rej_guard


def _metrics(project_dir: Path) -> dict[str, float]:
    """Numeric values of metrics/*.json (nested keys joined with '.')."""
    found: dict[str, float] = {}

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            found[prefix] = float(value)
        elif isinstance(value, dict):
            for key, inner in value.items():
                flatten(f"{prefix}.{key}" if prefix else str(key), inner)

    for path in sorted((project_dir / "metrics").glob("*.json")):
        try:
            flatten("", json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def _releases(source: str, root: Path, cache: dict[str, list[str] | GitFailed]) -> list[str]:
    """Release tags of ``source`` (a relative path is read from the project), cached per run."""
    from mlops_common.fleet.trust import location_of

    try:
        location = location_of(source, relative_to=root)
    except ValueError as exc:
        raise GitFailed(str(exc)) from None
    if location not in cache:
        try:
            cache[location] = release_tags(location)
        except (GitFailed, OSError) as exc:
            cache[location] = GitFailed(str(exc))
    value = cache[location]
    if isinstance(value, GitFailed):
        raise value
    return value


def project_status(
    project: Project, *, template: str | None = None, _tags_cache: dict | None = None
) -> ProjectStatus:
    """Status of one project (never raises for a broken project: ``error`` says what is wrong)."""
    cache = {} if _tags_cache is None else _tags_cache
    status = ProjectStatus(
        project.name, str(project.path) if project.path else None, project.source
    )
    if project.error or project.path is None:
        status.error = project.error or "unreachable"
        return status
    root = project.path
    if not root.is_dir():
        status.error = f"unreachable: {root} does not exist"
        return status
    answers = read_answers(root)
    status.checks["copier_project"] = bool(
        answers and answers.get("_src_path") and answers.get("_commit")
    )
    answers = answers or {}
    status.answers = {k: v for k, v in answers.items() if not str(k).startswith("_")}
    status.template_version = str(answers.get("_commit", ""))
    status.pin = read_pin(root)

    source = template or answers.get("_src_path")
    if source:
        try:
            status.releases = _releases(str(source), root, cache)
            status.newest_release = status.releases[0] if status.releases else ""
            status.unreleased = not status.releases
        except GitFailed as exc:
            status.error = f"template source unreachable: {exc}"
    newest = parse_release(status.newest_release)
    status.newest_pin = pin_for(newest)

    status.checks["dvc_stages"] = set(PIPELINE_STAGES) <= _dvc_stages(root)
    status.checks["expectations"] = any((root / "expectations").glob("*.json"))
    status.checks["ci_file"] = _ci_file_present(root, str(answers.get("ci", "")))
    status.checks["precommit_guards"] = _precommit_guards(root)
    if not status.unreleased:  # without a release there is no window to be inside of
        lower = pin_lower_bound(status.pin)
        status.checks["pin_window"] = bool(lower and newest and lower[0] == newest[0])
        current = parse_described(status.template_version)
        status.checks["template_window"] = bool(current and newest and current[0] == newest[0])
    status.metrics = _metrics(root)
    status.pipeline_locked = (root / "dvc.lock").is_file()
    return status


def fleet_status(projects: Sequence[Project], *, template: str | None = None) -> FleetStatusReport:
    """Versions, answers, conformance and last metrics of every project.

    ``template`` overrides each project's ``_src_path`` as the place to look for the newest
    release (``v*`` tags, read with ``git tag`` locally or ``git ls-remote --tags``).

    >>> report = fleet_status(collect_projects(scan="clients/"))  # doctest: +SKIP
    >>> report.in_policy, report.out_of_policy  # doctest: +SKIP
    (False, ['legacy-forecast'])
    """
    cache: dict[str, list[str] | GitFailed] = {}
    return FleetStatusReport(
        [project_status(p, template=template, _tags_cache=cache) for p in projects]
    )


def fleet_check(
    projects: Sequence[Project],
    *,
    template: str | None = None,
    max_behind: int = DEFAULT_MAX_BEHIND,
) -> FleetCheckReport:
    """Whether each project is within ``max_behind`` releases of its template's newest.

    Made for a client's scheduled CI job (``mlops fleet check .``): it only reads the answers
    file and the template's tags, never runs Copier. An untagged template is reported as
    unreleased and passes.

    >>> fleet_check(collect_projects(["."]), max_behind=1).exit_code  # doctest: +SKIP
    1
    """
    cache: dict[str, list[str] | GitFailed] = {}
    return FleetCheckReport(
        [project_status(p, template=template, _tags_cache=cache) for p in projects],
        max_behind=max_behind,
    )
