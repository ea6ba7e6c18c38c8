"""Git and version helpers shared by fleet status and fleet update (stdlib only)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

# A template release tag, as Copier sees it: PEP 440 release versions, with or without "v".
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
# `_commit` is `git describe` output: "v1.2.3" on a release, "v1.2.3-4-gabc1234" after one.
_DESCRIBED = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")

Version = tuple[int, int, int]

# Never let git ask for credentials or open an editor from a batch run.
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "GIT_MERGE_AUTOEDIT": "no",
}


class GitFailed(RuntimeError):
    """A git command exited non-zero; the message is git's own stderr."""


def git(cwd: Path | None, *args: str, timeout: float = 120) -> str:
    """Run git and return stdout; raise GitFailed with git's message on failure."""
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise GitFailed(message[-1] if message else f"git {args[0]} exited {result.returncode}")
    return result.stdout


def parse_release(tag: str) -> Version | None:
    """``"v2.1.0"`` -> ``(2, 1, 0)``; anything that is not a plain release -> None."""
    match = _RELEASE.match(tag.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def parse_described(commit: str | None) -> Version | None:
    """The release a `_commit` value is at or after (``"v1.2.0-3-gabc"`` -> ``(1, 2, 0)``)."""
    if not commit:
        return None
    match = _DESCRIBED.match(str(commit).strip())
    if not match:
        return None
    return (int(match[1]), int(match[2]), int(match[3] or 0))


def is_remote_url(location: str) -> bool:
    """True for git URLs (``https://``, ``ssh://``, ``file://``, ``git@host:org/repo``, ``gh:``)."""
    if "://" in location:
        return True
    if re.match(r"^(gh|gl):", location):
        return True
    return bool(re.match(r"^[\w.-]+@[\w.-]+:", location))


def expand_shortcut(location: str) -> str:
    """Copier's ``gh:org/repo`` / ``gl:org/repo`` shortcuts as clonable URLs."""
    if location.startswith("gh:"):
        return f"https://github.com/{location[3:]}.git"
    if location.startswith("gl:"):
        return f"https://gitlab.com/{location[3:]}.git"
    return location


def default_branch(root: Path) -> str:
    """The branch an update is cut from: the remote's HEAD, else ``main``/``master``, else HEAD.

    A client may have any branch checked out (``feature/x``); the update branch must carry only
    the default branch's history, never unmerged work.
    """
    try:
        ref = git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").strip()
        return ref.removeprefix("refs/remotes/")
    except GitFailed:
        pass
    for name in ("main", "master"):
        try:
            git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}")
            return name
        except GitFailed:
            continue
    return git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()


def remote_url(root: Path, remote: str = "origin") -> str | None:
    """The URL of ``remote`` (None when the project has no such remote)."""
    try:
        return git(root, "remote", "get-url", remote).strip() or None
    except GitFailed:
        return None


def release_tags(source: str) -> list[str]:
    """Every release tag of a template source (local repository or git URL), newest first."""
    location = expand_shortcut(source)
    if not is_remote_url(location) and Path(location).is_dir():
        names = git(Path(location), "tag", "--list").split()
    else:
        names = []
        for line in git(None, "ls-remote", "--tags", location, timeout=60).splitlines():
            ref = line.split("\t")[-1]
            if ref.startswith("refs/tags/") and not ref.endswith("^{}"):
                names.append(ref.removeprefix("refs/tags/"))
    tagged = [(version, name) for name in names if (version := parse_release(name)) is not None]
    return [name for _, name in sorted(tagged, reverse=True)]
