"""`nox -s release` (tools/release.py): wheel and sdist of a vX.Y.Z tag, published to a real index.

Runs in a throwaway clone of the working tree where the tag is made (tags never reach the
repository), against a pypiserver on 127.0.0.1 that accepts uploads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.project_workflow import QUIET_ENV, package_index, template_clone
from tools.release import ReleaseError, check_tag

pytestmark = pytest.mark.xdist_group("release")


def git(cwd: Path, *args: str) -> str:
    env = {**QUIET_ENV, "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def release(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.release", *args],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_release_builds_the_tag_and_publishes_it_to_the_index(tmp_path):
    clone = template_clone(tmp_path / "repo", tag="v9.9.0")
    with package_index(tmp_path / "index", uploads=True) as simple:
        upload = simple.removesuffix("simple/")
        env = {"UV_PUBLISH_USERNAME": "ci", "UV_PUBLISH_PASSWORD": "unused"}
        result = subprocess.run(
            [sys.executable, "-m", "tools.release", "v9.9.0", "--publish-url", upload],
            cwd=clone,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"published v9.9.0 to {upload}" in result.stdout
        served = sorted(path.name for path in (tmp_path / "index").iterdir())
        assert served == ["mlops_common-9.9.0-py3-none-any.whl", "mlops_common-9.9.0.tar.gz"]
        # What the index serves is installable by name and version, like any release.
        download = tmp_path / "download"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--isolated",
                "--index-url",
                simple,
                "--dest",
                str(download),
                "mlops-common==9.9.0",
            ],
            check=True,
            env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null"},
        )
        assert [path.name for path in download.iterdir()] == ["mlops_common-9.9.0-py3-none-any.whl"]


def test_release_refuses_a_checkout_that_is_not_the_tag(tmp_path):
    clone = template_clone(tmp_path / "repo", tag="v9.9.0")
    (clone / "CHANGELOG.md").write_text("after the tag\n", encoding="utf-8")
    git(clone, "commit", "-qam", "after the tag")
    result = release(clone, "v9.9.0", "--no-publish")
    assert result.returncode == 2
    assert "HEAD is not v9.9.0: git checkout v9.9.0 first" in result.stderr
    with pytest.raises(ReleaseError, match="does not exist"):
        check_tag(clone, "v9.10.0")
    with pytest.raises(ReleaseError, match="use vX.Y.Z"):
        check_tag(clone, "9.9")
    git(clone, "checkout", "-q", "v9.9.0")
    (clone / "README.md").write_text("edited\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match="working tree has changes"):
        check_tag(clone, "v9.9.0")
