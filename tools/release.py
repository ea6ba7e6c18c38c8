"""Build the mlops-common wheel and sdist of a ``vX.Y.Z`` tag and publish them to an index.

Tags are made by maintainers (``git tag v1.4.0 && git push origin v1.4.0``); this refuses to
build anything that is not exactly a clean checkout of a release tag, and checks that both
distributions carry the tag's version (hatch-vcs reads it from the tag) before uploading.

    python -m tools.release v1.4.0                       # build into dist/v1.4.0, publish to PyPI
    python -m tools.release v1.4.0 --publish-url URL     # another index (its legacy upload URL)
    python -m tools.release v1.4.0 --no-publish          # build and check only

Credentials are uv's: trusted publishing (OIDC) in this repository's release workflow, else
``UV_PUBLISH_TOKEN`` or ``UV_PUBLISH_USERNAME``/``UV_PUBLISH_PASSWORD``. ``nox -s release`` runs
this module.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from tools.project_workflow import REPO_ROOT, uv_command

TAG = re.compile(r"^v(?P<version>\d+\.\d+\.\d+)$")


class ReleaseError(RuntimeError):
    """The checkout is not a releasable tag, or the build does not match it."""


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def check_tag(root: Path, tag: str) -> str:
    """The version of ``tag``; raise unless HEAD is that tag and the tree is clean."""
    match = TAG.match(tag)
    if match is None:
        raise ReleaseError(f"{tag!r} is not a release tag: use vX.Y.Z (e.g. v1.4.0)")
    try:
        tagged = git(root, "rev-parse", f"{tag}^{{commit}}")
    except ReleaseError:
        raise ReleaseError(f"tag {tag} does not exist: create it first (git tag {tag})") from None
    if tagged != git(root, "rev-parse", "HEAD"):
        raise ReleaseError(f"HEAD is not {tag}: git checkout {tag} first")
    if git(root, "status", "--porcelain", "--untracked-files=no"):
        raise ReleaseError("the working tree has changes: a release builds the tag as committed")
    return match["version"]


def build(root: Path, tag: str, out_dir: Path) -> list[Path]:
    """Wheel and sdist of ``tag`` in ``out_dir``, checked to carry the tag's version."""
    version = check_tag(root, tag)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("mlops_common-*"):
        stale.unlink()
    subprocess.run(
        [*uv_command(), "build", "--sdist", "--wheel", "--out-dir", str(out_dir), str(root)],
        check=True,
    )
    built = sorted(out_dir.glob("mlops_common-*"))
    expected = {f"mlops_common-{version}.tar.gz", f"mlops_common-{version}-py3-none-any.whl"}
    if {path.name for path in built} != expected:
        names = ", ".join(path.name for path in built)
        raise ReleaseError(f"built {names}, expected {', '.join(sorted(expected))}")
    return built


def publish(files: list[Path], publish_url: str | None) -> None:
    command = [*uv_command(), "publish"]
    if publish_url:
        command += ["--publish-url", publish_url]
    subprocess.run([*command, *map(str, files)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="the release tag, vX.Y.Z (must be HEAD)")
    parser.add_argument("--publish-url", help="upload URL of the index (default: PyPI)")
    parser.add_argument("--no-publish", action="store_true", help="build and check only")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        files = build(args.root, args.tag, args.root / "dist" / args.tag)
        print("\n".join(f"built {path}" for path in files))
        if not args.no_publish:
            publish(files, args.publish_url)
            print(f"published {args.tag} to {args.publish_url or 'PyPI'}")
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
