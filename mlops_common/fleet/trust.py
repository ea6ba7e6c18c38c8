"""Which template sources the operator lets the fleet apply.

A project's ``.copier-answers.yml`` is written by whoever controls that repository, and its
``_src_path`` decides which template ``copier update`` runs, tasks and migrations included. So
the fleet never takes a source from a project: the operator names the sources it may apply
(``--template SRC``, ``templates:`` in the inventory), and a project recorded against any other
source is skipped before anything from it is fetched or run. Sources are compared through
:func:`mlops_common.template_source.canonical_source`, so ``gh:acme/tpl``,
``https://github.com/acme/tpl.git`` and ``git@github.com:acme/tpl`` are told apart or matched
exactly as pip and git would reach them.

>>> trusted = TrustedSources(["gh:acme/mlops-template"])
>>> trusted.allows("https://github.com/acme/mlops-template.git", project_root=Path("/p"))
True
>>> trusted.allows("gh:mallory/mlops-template", project_root=Path("/p"))
False
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlops_common.template_source import canonical_source

__all__ = ["UNTRUSTED", "TrustedSources", "location_of"]

UNTRUSTED = "untrusted template source"


def location_of(src_path: str, *, relative_to: Path) -> str:
    """Where git and Copier reach a source: a local path for ``file://``, else the URL."""
    url = canonical_source(src_path, relative_to=relative_to)
    if url.startswith("file://"):
        return unquote(urlparse(url).path)
    return url


class TrustedSources:
    """The operator's list of template sources; relative paths are read against ``base``."""

    def __init__(self, sources: Iterable[str], *, base: Path | None = None) -> None:
        self.sources = [str(s) for s in sources]
        self._canonical = {
            canonical_source(s, relative_to=base or Path.cwd()) for s in self.sources
        }

    def __bool__(self) -> bool:
        return bool(self._canonical)

    def allows(self, src_path: str, *, project_root: Path) -> bool:
        """Whether ``src_path`` (as the project recorded it) is one of the named sources."""
        try:
            return canonical_source(str(src_path), relative_to=project_root) in self._canonical
        except ValueError:
            return False

    def reason(self, src_path: str) -> str:
        named = ", ".join(self.sources) if self.sources else "none named"
        return (
            f"{UNTRUSTED}: {src_path} is not one of the templates this run may apply ({named}); "
            "add it with --template (or templates: in the inventory) if you trust it"
        )
