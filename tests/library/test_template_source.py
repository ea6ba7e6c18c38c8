"""One URL for every way a template source is typed (used by the rendered pin and the fleet)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_common.template_source import (
    canonical_source,
    is_release_tag,
    library_ref,
    library_requirement,
)

HASH = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("gh:acme/tpl", "https://github.com/acme/tpl"),
        ("gh:/acme/tpl.git", "https://github.com/acme/tpl"),
        ("gl:group/sub/tpl", "https://gitlab.com/group/sub/tpl"),
        ("https://github.com/acme/tpl", "https://github.com/acme/tpl"),
        ("https://GitHub.com/acme/tpl.git/", "https://github.com/acme/tpl"),
        ("git+https://github.com/acme/tpl.git", "https://github.com/acme/tpl"),
        ("git@github.com:acme/tpl.git", "ssh://git@github.com/acme/tpl"),
        ("ssh://git@github.com/acme/tpl.git", "ssh://git@github.com/acme/tpl"),
        ("ssh://git@git.example.com:2222/ml/tpl", "ssh://git@git.example.com:2222/ml/tpl"),
        ("file:///srv/templates/tpl/", "file:///srv/templates/tpl"),
        ("/srv/templates/tpl/", "file:///srv/templates/tpl"),
    ],
)
def test_canonical_source_gives_one_url_per_repository(typed, expected):
    assert canonical_source(typed) == expected


def test_same_repository_typed_two_ways_is_one_source():
    assert canonical_source("gh:acme/tpl") == canonical_source("https://github.com/acme/tpl.git")
    assert canonical_source("git@github.com:acme/tpl") == canonical_source(
        "ssh://git@github.com/acme/tpl.git"
    )


def test_relative_path_resolves_against_the_given_folder(tmp_path):
    project = tmp_path / "projects" / "churn"
    assert canonical_source("../../tpl", relative_to=project) == (tmp_path / "tpl").as_uri()
    assert canonical_source(".", relative_to=project) == project.as_uri()


def test_relative_path_defaults_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert canonical_source("tpl") == (tmp_path.resolve() / "tpl").as_uri()


def test_home_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert canonical_source("~/tpl") == (tmp_path.resolve() / "tpl").as_uri()


def test_empty_source_is_refused():
    with pytest.raises(ValueError, match="empty template source"):
        canonical_source("  ")


def test_canonical_file_url_of_a_relative_path_is_a_url_git_can_read(tmp_path):
    repo = tmp_path / "tpl"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "start",
        ],
        check=True,
    )
    url = canonical_source("../tpl", relative_to=tmp_path / "project")
    listed = subprocess.run(["git", "ls-remote", url], check=True, capture_output=True, text=True)
    assert "refs/heads/main" in listed.stdout


@pytest.mark.parametrize(
    ("ref", "released"),
    [
        ("v0.3.0", True),
        ("0.3.0", True),
        ("v1.2.0rc1", True),
        ("v0.3.0-2-gabc1234", False),
        ("abc1234", False),
        (HASH, False),
        ("main", False),
    ],
)
def test_is_release_tag(ref, released):
    assert is_release_tag(ref) is released


def test_library_ref_is_the_tag_on_a_release_else_the_commit():
    assert library_ref("v0.3.0", HASH) == "v0.3.0"
    assert library_ref("v0.3.0-2-gabc1234", HASH) == HASH
    assert library_ref("abc1234", HASH) == HASH
    assert library_ref(None, None) is None


def test_library_requirement_is_a_pep508_direct_reference():
    assert library_requirement("gh:acme/tpl", "v0.3.0") == (
        "mlops-common @ git+https://github.com/acme/tpl@v0.3.0"
    )
    assert library_requirement("git@github.com:acme/tpl.git", HASH, extra="gcp") == (
        f"mlops-common[gcp] @ git+ssh://git@github.com/acme/tpl@{HASH}"
    )
    assert library_requirement("../tpl", "v1.0.0", relative_to=Path("/srv/p")) == (
        "mlops-common @ git+file:///srv/tpl@v1.0.0"
    )


def test_library_requirement_without_a_ref_says_why():
    with pytest.raises(ValueError, match="no git ref"):
        library_requirement("gh:acme/tpl", "")


def test_library_requirement_parses_as_a_requirement():
    from packaging.requirements import Requirement

    parsed = Requirement(library_requirement("gh:acme/tpl", "v0.3.0", extra="aws"))
    assert (parsed.name, parsed.extras, parsed.url) == (
        "mlops-common",
        {"aws"},
        "git+https://github.com/acme/tpl@v0.3.0",
    )
