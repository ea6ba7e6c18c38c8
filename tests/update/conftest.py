"""Fixtures for update tests: a throwaway template repository with releases, client projects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tpl():
    """The helper module: build_template_repo, render_client, commit_all, git, load_answers."""
    from tools import template_repo

    return template_repo


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory, tpl):
    """The template as a git repository with tags v1.0.0, v2.0.0 (current tree) and v2.1.0."""
    return tpl.build_template_repo(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture
def client_project(tmp_path: Path, template_repo, tpl) -> Callable[..., Path]:
    """``client_project(ref, **answers)``: a project rendered at ``ref``, committed in its repo."""
    counter = iter(range(1_000))

    def _make(ref: str = "v1.0.0", **answers: Any) -> Path:
        return tpl.render_client(tmp_path / f"client{next(counter)}", template_repo, ref, **answers)

    return _make
