"""Is this environment fit to run the project? ``mlops doctor`` and the first call of every stage.

Four checks, each one line with the fix when it fails:

- ``library``: the installed ``mlops-common`` is inside the project's pin (``pyproject.toml``),
  and when the project pins it by git, it came from the pinned tag or commit;
- ``template``: the template release in ``.copier-answers.yml`` and what it needs of the library
  (an untagged template says "unreleased template (no vX.Y.Z tag yet)");
- ``tracking``: the MLflow store answers (an ``http(s)`` server is probed for 3 s; a local sqlite
  store needs a writable folder);
- ``dvc_remote``: ``.dvc/config`` names a default remote with a URL.

The decisions are pure functions over plain values (``check_*``); :func:`run_doctor` gathers the
values (package metadata, files, one HTTP probe). Stages call :func:`require_environment`, which
runs the cheap checks only and raises :class:`~mlops_common.errors.EnvironmentProblem` (exit 3)
instead of letting an old library fail deep in a stage with ``ImportError``.

>>> check_library("0.3.0", ["mlops-common>=0.4,<1"], None).fix
'pip install -e . (or uv sync) installs the pinned mlops-common'
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_common.errors import EnvironmentProblem
from mlops_common.results import EXIT_ENVIRONMENT, EXIT_OK, Result

__all__ = [
    "CHECKS",
    "Check",
    "DoctorResult",
    "check_dvc_remote",
    "check_library",
    "check_template",
    "check_tracking",
    "require_environment",
    "run_doctor",
]

#: Every check, in the order they are shown; stages run the cheap ones (no network).
CHECKS = ("library", "template", "tracking", "dvc_remote")
STAGE_CHECKS = ("library", "template")

INSTALL_FIX = "pip install -e . (or uv sync) installs the pinned mlops-common"
_TAG = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, what was found and, on failure, the fix."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        return f"{status} {self.name:<11}{self.detail}" + (f"; fix: {self.fix}" if self.fix else "")


@dataclass
class DoctorResult(Result):
    """The checks of one project; exit code 3 when any failed."""

    project: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_ENVIRONMENT

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "verdict": "ok" if self.ok else "environment problem",
            "checks": [
                {"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix} for c in self.checks
            ],
        }

    def summary(self) -> str:
        ordered = self.failures + [check for check in self.checks if check.ok]
        return "\n".join(check.line() for check in ordered)


# ------------------------------------------------------------------------- pure checks


def check_library(
    installed: str | None,
    pins: Sequence[str],
    direct_url: dict[str, Any] | None,
) -> Check:
    """The installed ``mlops-common`` against the project's requirements on it.

    ``pins`` are the project's ``mlops-common`` requirement strings (a version range and, for a
    git pin, ``mlops-common @ git+URL@REF``); ``direct_url`` is the installed distribution's
    PEP 610 record (where it came from), if any.

    >>> check_library("0.4.1", ["mlops-common>=0.4,<1"], None).ok
    True
    """
    if installed is None:
        detail = f"mlops-common is not installed ({sys.executable})"
        return Check("library", False, detail, INSTALL_FIX)
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    try:
        version = Version(installed)
    except InvalidVersion:
        return Check("library", False, f"installed mlops-common has no valid version ({installed})")
    editable = bool((direct_url or {}).get("dir_info", {}).get("editable"))
    # A git pin first: "comes from v1, the project pins v2" says more than the range does.
    for pin in sorted(pins, key=lambda pin: " @ " not in pin):
        try:
            requirement = Requirement(pin)
        except InvalidRequirement:
            return Check("library", False, f"pyproject.toml: invalid requirement {pin!r}")
        if requirement.url:
            problem = _git_pin_problem(requirement.url, version, direct_url, editable)
            if problem:
                return Check("library", False, problem, INSTALL_FIX)
        elif not requirement.specifier.contains(version, prereleases=True):
            if editable:  # a library checkout under development: its version says little
                continue
            return Check(
                "library",
                False,
                f"installed mlops-common {installed} is outside the project's pin "
                f"{requirement.specifier}",
                INSTALL_FIX,
            )
    source = _describe_source(direct_url)
    pinned = ", ".join(pins) if pins else "no pin in pyproject.toml"
    return Check("library", True, f"mlops-common {installed}{source} ({pinned})")


def _git_pin_problem(
    url: str, version: Any, direct_url: dict[str, Any] | None, editable: bool
) -> str:
    """Why the installed library is not the one a ``git+URL@REF`` pin names ('' if it is)."""
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    ref = path.rsplit("@", 1)[1] if "@" in path else ""
    vcs = (direct_url or {}).get("vcs_info")
    if vcs:
        if ref and ref not in (vcs.get("requested_revision"), vcs.get("commit_id")):
            got = vcs.get("requested_revision") or vcs.get("commit_id", "?")[:12]
            return f"installed mlops-common comes from {got}, the project pins {ref}"
        return ""
    tag = _TAG.match(ref)
    if tag and not editable:
        expected = ".".join(part or "0" for part in tag.groups())
        if str(version) != expected and version.base_version != expected:
            return f"installed mlops-common {version} is not the pinned release {ref}"
    return ""


def _describe_source(direct_url: dict[str, Any] | None) -> str:
    if not direct_url:
        return ""
    if direct_url.get("dir_info", {}).get("editable"):
        return " (editable checkout)"
    vcs = direct_url.get("vcs_info")
    if vcs:
        return f" from git {vcs.get('requested_revision') or vcs.get('commit_id', '')[:12]}"
    return ""


def check_template(answers: dict[str, Any] | None, installed: str | None) -> Check:
    """The template release that rendered the project, and whether the library keeps up with it.

    >>> check_template({"_commit": "v0.3.0-2-gabc1234"}, "0.3.0").detail
    'template v0.3.0-2-gabc1234 (between releases)'
    """
    if answers is None:
        return Check(
            "template",
            False,
            ".copier-answers.yml not found: not a project rendered from the mlops template",
            "run this in the project folder",
        )
    described = str(answers.get("_commit") or "")
    if not described:
        return Check("template", True, "template without git: no release recorded")
    release = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", described)
    if release is None:
        return Check("template", True, f"unreleased template (no vX.Y.Z tag yet; {described})")
    needed = (int(release[1]), int(release[2]))
    if installed:
        from packaging.version import InvalidVersion, Version

        try:
            have = Version(installed).release[:2]
        except InvalidVersion:
            have = needed
        if tuple(have) < needed:
            return Check(
                "template",
                False,
                f"template {described} needs mlops-common >= {needed[0]}.{needed[1]}, "
                f"installed {installed}",
                INSTALL_FIX,
            )
    between = "" if _TAG.match(described) else " (between releases)"
    return Check("template", True, f"template {described}{between}")


def check_tracking(uri: str, problem: str | None) -> Check:
    """The MLflow store at ``uri``; ``problem`` is what the probe found wrong (None: fine)."""
    if problem:
        return Check(
            "tracking",
            False,
            f"tracking store {uri}: {problem}",
            "start the server, or set MLFLOW_TRACKING_URI / [tool.mlops] tracking_uri",
        )
    return Check("tracking", True, f"tracking store {uri}")


def check_dvc_remote(remote: str | None, url: str | None) -> Check:
    """The default DVC remote (``core.remote``) and its URL, as read from ``.dvc/config``."""
    if not remote:
        return Check(
            "dvc_remote",
            False,
            "no default DVC remote",
            "dvc remote add --default storage <url>",
        )
    if not url:
        return Check(
            "dvc_remote",
            False,
            f"DVC remote {remote!r} has no url",
            f"dvc remote modify {remote} url <url>",
        )
    return Check("dvc_remote", True, f"DVC remote {remote} -> {url}")


# --------------------------------------------------------------------------------- I/O


def installed_library() -> tuple[str | None, dict[str, Any] | None]:
    """The installed ``mlops-common`` version and its PEP 610 ``direct_url.json`` (or None)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("mlops-common")
    except PackageNotFoundError:
        return None, None
    raw = dist.read_text("direct_url.json")
    try:
        direct_url = json.loads(raw) if raw else None
    except ValueError:
        direct_url = None
    return dist.version, direct_url


def project_pins(root: Path) -> list[str]:
    """The ``mlops-common`` requirements of the project's ``pyproject.toml``."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    dependencies = data.get("project", {}).get("dependencies", [])
    return [dep for dep in dependencies if re.match(r"^mlops[-_]common\b", dep.strip(), re.I)]


def read_answers(root: Path) -> dict[str, Any] | None:
    import yaml

    try:
        data = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def dvc_remote(root: Path) -> tuple[str | None, str | None]:
    """``core.remote`` and its url from ``.dvc/config`` then ``.dvc/config.local`` (later wins)."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#",))
    for name in ("config", "config.local"):
        path = root / ".dvc" / name
        if path.is_file():
            try:
                parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
            except configparser.Error:
                continue
    remote = parser.get("core", "remote", fallback=None)
    if not remote:
        return None, None
    return remote, parser.get(f"'remote \"{remote}\"'", "url", fallback=None)


def probe_tracking(uri: str, root: Path) -> str | None:
    """What is wrong with the store at ``uri`` (None: it answers, or is a writable local file)."""
    from mlops_common.errors import TrackingUnavailable
    from mlops_common.store import check_tracking_server, is_http

    if is_http(uri):
        try:
            check_tracking_server(uri)
        except TrackingUnavailable as exc:
            return str(exc)
        return None
    if uri.startswith("sqlite:///"):
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            return f"folder {folder} does not exist"
    return None


def run_doctor(
    root: Path | None = None,
    *,
    checks: Iterable[str] = CHECKS,
    tracking_uri: str | None = None,
) -> DoctorResult:
    """Run ``checks`` for the project at ``root`` (default: found from the working directory)."""
    from mlops_common.config import load_project_config

    config = load_project_config(root)
    root = config.root
    wanted = set(checks)
    unknown = wanted - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown doctor checks {sorted(unknown)}; choose from {list(CHECKS)}")
    installed, direct_url = installed_library()
    result = DoctorResult(project=str(root))
    if "library" in wanted:
        result.checks.append(check_library(installed, project_pins(root), direct_url))
    if "template" in wanted:
        result.checks.append(check_template(read_answers(root), installed))
    if "tracking" in wanted:
        from mlops_common.store import resolve_tracking_uri

        uri = resolve_tracking_uri(tracking_uri, config)
        result.checks.append(check_tracking(uri, probe_tracking(uri, root)))
    if "dvc_remote" in wanted:
        result.checks.append(check_dvc_remote(*dvc_remote(root)))
    return result


def require_environment(checks: Iterable[str] = STAGE_CHECKS, root: Path | None = None) -> None:
    """The first call of every stage and of ``mlops serve``: raise on the first failed check.

    Raises :class:`~mlops_common.errors.EnvironmentProblem` (exit code 3) with one line: what is
    wrong and the fix. Outside a rendered project (no ``.copier-answers.yml``) the template
    check is skipped, so the library can be used on its own.
    """
    result = run_doctor(root, checks=checks)
    for check in result.failures:
        if check.name == "template" and check.detail.startswith(".copier-answers.yml not found"):
            continue
        raise EnvironmentProblem(f"{check.detail}; fix: {check.fix}" if check.fix else check.detail)
