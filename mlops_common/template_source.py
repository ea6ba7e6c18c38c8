"""Where the template, and so the library, comes from: one URL for every form a user types.

Template and library share one repository and one tag, so a project rendered from the template
at ``v1.4.0`` gets its library from the same repository at the same tag. Copier records the
template source as typed (``_src_path``: ``.``, ``../tpl``, ``gh:org/x``, ``git@host:org/x.git``)
and the release as ``git describe`` output (``_commit``: ``v1.4.0`` on a tag, ``v1.4.0-3-gabc1234``
between tags), which is not always a git ref. This module turns both into what pip and uv accept;
``copier.yml`` computes the same strings in Jinja (a test keeps the two equal), and the fleet's
trust check compares sources through :func:`canonical_source`.

>>> canonical_source("gh:acme/mlops-template")
'https://github.com/acme/mlops-template'
>>> canonical_source("git@gitlab.example.com:ml/tpl.git")
'ssh://git@gitlab.example.com/ml/tpl'
>>> library_requirement("gh:acme/mlops-template", "v1.4.0", extra="aws")
'mlops-common[aws] @ git+https://github.com/acme/mlops-template@v1.4.0'
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "LIBRARY_NAME",
    "canonical_source",
    "is_release_tag",
    "library_ref",
    "library_requirement",
]

LIBRARY_NAME = "mlops-common"

_ALIASES = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
# scp-like git syntax: user@host:path (a URL scheme has "://"; a Windows drive has no "@").
_SCP = re.compile(r"^(?P<user>[^@/\s]+)@(?P<host>[^:/\s]+):(?!//)(?P<path>.+)$")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
# A release tag as Copier counts it (PEP 440 after an optional "v"): v1.2.3, 1.2.3rc1.
_RELEASE_TAG = re.compile(r"^v?\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")


def canonical_source(src_path: str, *, relative_to: Path | None = None) -> str:
    """One URL for a template source, whatever form it was typed in.

    ``gh:``/``gl:`` shorthands become https URLs, scp-like ``user@host:path`` becomes
    ``ssh://user@host/path``, a ``git+`` prefix, trailing slashes and a trailing ``.git`` go,
    scheme and host are lower-cased, and a local path becomes an absolute ``file://`` URL
    (made absolute against ``relative_to``, default the current directory, and normalised
    without resolving symlinks; ``~`` is expanded).

    >>> canonical_source("https://GitHub.com/acme/tpl.git/")
    'https://github.com/acme/tpl'
    >>> canonical_source("../tpl", relative_to=Path("/work/projects/churn"))
    'file:///work/projects/tpl'
    """
    source = src_path.strip()
    if not source:
        raise ValueError("empty template source: give a git URL, gh:org/repo or a local path")
    source = source.removeprefix("git+")
    for alias, prefix in _ALIASES.items():
        if source.startswith(alias):
            source = prefix + source[len(alias) :].lstrip("/")
            break
    scp = _SCP.match(source)
    if scp and not _URL.match(source):
        source = f"ssh://{scp['user']}@{scp['host']}/{scp['path'].lstrip('/')}"
    url = _URL.match(source)
    if url is None:
        path = Path(source).expanduser()
        if not path.is_absolute():
            path = (relative_to or Path.cwd()) / path
        # normpath, not resolve(): the same string copier.yml computes in Jinja (no symlinks).
        return Path(os.path.normpath(path)).as_uri()
    scheme, rest = url["scheme"].lower(), url["rest"]
    if scheme == "file":
        return Path(os.path.normpath("/" + rest.lstrip("/"))).as_uri()
    authority, _, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    path = path.rstrip("/").removesuffix(".git").rstrip("/")
    return f"{scheme}://{user}{at}{host.lower()}/{path}"


def is_release_tag(ref: str) -> bool:
    """Whether ``ref`` is a release tag (``v1.2.3``), not ``git describe`` between tags or a hash.

    >>> is_release_tag("v0.3.0"), is_release_tag("v0.3.0-2-gabc1234"), is_release_tag("abc1234")
    (True, False, False)
    """
    return bool(_RELEASE_TAG.match(ref.strip())) and not re.fullmatch(r"[0-9a-f]{7,40}", ref)


def library_ref(described: str | None, commit_hash: str | None) -> str | None:
    """The git ref the library is installed from: the release tag when the template was rendered
    from one, else the full commit hash (``git describe`` output between tags is no ref).

    >>> library_ref("v1.4.0", "0123abcd" * 5)
    'v1.4.0'
    >>> library_ref("v1.4.0-3-gabc1234", "0123abcd" * 5)
    '0123abcd0123abcd0123abcd0123abcd0123abcd'
    """
    if described and is_release_tag(described):
        return described.strip()
    return commit_hash.strip() if commit_hash else None


def library_requirement(
    src_path: str, ref: str, *, extra: str = "", relative_to: Path | None = None
) -> str:
    """The PEP 508 requirement that installs the library from the template's repository at ``ref``.

    >>> library_requirement("/srv/tpl", "v0.3.0")
    'mlops-common @ git+file:///srv/tpl@v0.3.0'
    """
    if not ref or not ref.strip():
        raise ValueError("no git ref for the library: render from a git repository (tag or commit)")
    extras = f"[{extra}]" if extra else ""
    url = canonical_source(src_path, relative_to=relative_to)
    return f"{LIBRARY_NAME}{extras} @ git+{url}@{ref.strip()}"
