"""mlops_common.store: where the MLflow store is, the one client, and MLflow's process-wide URIs."""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_common import store
from mlops_common.config import ProjectConfig
from mlops_common.errors import RegistryError, TrackingUnavailable
from mlops_common.store import (
    check_tracking_server,
    mlflow_uris,
    resolve_artifact_location,
    resolve_tracking_uri,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@pytest.fixture(autouse=True)
def _no_ambient_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in URI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------- tracking URI resolution


def test_explicit_tracking_uri_wins_over_env_and_config(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://from-env:5000")
    config = ProjectConfig(root=tmp_path, tracking_uri="http://from-config:5000")
    assert resolve_tracking_uri("http://explicit:5000", config) == "http://explicit:5000"


def test_env_tracking_uri_wins_over_project_config(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://from-env:5000")
    config = ProjectConfig(root=tmp_path, tracking_uri="http://from-config:5000")
    assert resolve_tracking_uri(None, config) == "http://from-env:5000"


def test_project_config_tracking_uri_used_when_env_is_unset(tmp_path):
    config = ProjectConfig(root=tmp_path, tracking_uri="http://from-config:5000")
    assert resolve_tracking_uri(None, config) == "http://from-config:5000"


def test_embedded_sqlite_store_in_project_root_is_the_default(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mlops]\nmodel_name = "m"\n')
    monkeypatch.chdir(tmp_path)
    expected = f"sqlite:///{(tmp_path.resolve() / 'mlflow.db').as_posix()}"
    assert resolve_tracking_uri() == expected
    assert resolve_tracking_uri(None, ProjectConfig(root=tmp_path.resolve())) == expected


def test_artifact_location_follows_config_then_local_default_then_server(tmp_path):
    assert resolve_artifact_location(ProjectConfig(root=tmp_path)) == (
        (tmp_path / "mlartifacts").as_uri()
    )
    relative = ProjectConfig(root=tmp_path, artifact_location="store/artifacts")
    assert resolve_artifact_location(relative) == (tmp_path / "store" / "artifacts").as_uri()
    remote = ProjectConfig(root=tmp_path, artifact_location="s3://bucket/mlflow")
    assert resolve_artifact_location(remote, "http://server:5000") == "s3://bucket/mlflow"
    # A server with --artifacts-destination decides where artifacts go.
    assert resolve_artifact_location(ProjectConfig(root=tmp_path), "http://server:5000") is None


# ------------------------------------------------------------------------------- fast failure


def test_unreachable_server_raises_tracking_unavailable_with_one_actionable_line():
    uri = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TrackingUnavailable) as caught:
        check_tracking_server(uri, timeout=3.0)
    message = str(caught.value)
    assert "\n" not in message
    assert f"MLflow tracking server {uri} did not answer within 3s" in message
    assert "mlflow server" in message
    assert "unset MLFLOW_TRACKING_URI" in message


def test_local_stores_are_not_probed():
    check_tracking_server("sqlite:////nonexistent/folder/mlflow.db")
    check_tracking_server("file:///nonexistent/mlruns")


# ------------------------------------------------------------------------ the client and lookups


def test_client_talks_to_the_resolved_store_with_the_registry_in_it(mlflow_store, tmp_path):
    config = mlflow_store.config(tmp_path)
    client = store.client(config=config)
    assert client.tracking_uri == mlflow_store.tracking_uri
    client.search_experiments(max_results=1)


def test_client_on_an_unreachable_server_fails_fast():
    with pytest.raises(TrackingUnavailable, match="did not answer"):
        store.client(f"http://127.0.0.1:{_closed_port()}")


def test_model_version_by_number_or_alias_and_one_line_errors(mlflow_store, unique_name):
    client = store.client(mlflow_store.tracking_uri)
    name = unique_name("lookup")
    client.create_registered_model(name)
    created = client.create_model_version(name, (Path(mlflow_store.root) / "m").as_uri())
    client.set_registered_model_alias(name, "champion", created.version)
    assert store.model_version(client, name, alias="champion").version == created.version
    assert str(store.model_version(client, name, version=int(created.version)).version) == "1"
    assert store.model_version(client, name, alias="staging", required=False) is None
    with pytest.raises(RegistryError, match="has no version 9"):
        store.model_version(client, name, version=9)
    with pytest.raises(RegistryError, match=f"'{name}' has no alias 'staging'"):
        store.model_version(client, name, alias="staging")


# --------------------------------------------------------------------- process-wide MLflow URIs


def _process_state() -> tuple[str | None, str | None, dict[str, str | None]]:
    import mlflow.tracking._model_registry.utils as registry_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils

    env = {name: os.environ.get(name) for name in URI_VARIABLES}
    return tracking_utils._tracking_uri, registry_utils._registry_uri, env


def test_mlflow_uris_sets_both_uris_and_restores_values_and_variables(tmp_path, monkeypatch):
    import mlflow

    inner = f"sqlite:///{(tmp_path / 'inner.db').as_posix()}"
    outer = f"sqlite:///{(tmp_path / 'outer.db').as_posix()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", outer)
    before = _process_state()
    with mlflow_uris(inner):
        assert mlflow.get_tracking_uri() == inner
        assert mlflow.get_registry_uri() == inner
        assert os.environ["MLFLOW_TRACKING_URI"] == inner
        # What a block may do on its own: set_registry_uri(None) keeps the variable it exported.
        mlflow.set_registry_uri(None)
        assert os.environ["MLFLOW_REGISTRY_URI"] == inner
    assert _process_state() == before
    assert os.environ["MLFLOW_TRACKING_URI"] == outer
    assert "MLFLOW_REGISTRY_URI" not in os.environ


def test_mlflow_uris_nest_and_restore_on_error(tmp_path):
    import mlflow

    first = f"sqlite:///{(tmp_path / 'first.db').as_posix()}"
    second = f"sqlite:///{(tmp_path / 'second.db').as_posix()}"
    before = _process_state()
    with mlflow_uris(first):
        with pytest.raises(RuntimeError), mlflow_uris(second, registry_uri=first):
            assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == (second, first)
            raise RuntimeError("body failed")
        assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == (first, first)
    assert _process_state() == before


def test_mlflow_uris_without_a_uri_undoes_the_blocks_changes_and_never_imports_mlflow(tmp_path):
    code = (
        "import os, sys\n"
        "from mlops_common.store import mlflow_uris\n"
        "with mlflow_uris():\n"
        "    pass\n"
        "assert 'mlflow' not in sys.modules\n"
        "with mlflow_uris():\n"
        "    import mlflow\n"
        f"    mlflow.set_tracking_uri({str(tmp_path.as_uri())!r})\n"
        f"    mlflow.set_registry_uri({str(tmp_path.as_uri())!r})\n"
        "import mlflow.tracking._tracking_service.utils as t\n"
        "import mlflow.tracking._model_registry.utils as r\n"
        "print(t._tracking_uri, r._registry_uri, os.environ.get('MLFLOW_TRACKING_URI'),\n"
        "      os.environ.get('MLFLOW_REGISTRY_URI'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None", "None", "None"]


# ------------------------------------------------------------------------- one home, enforced


def _library_and_template_sources() -> list[Path]:
    sources = sorted((REPO_ROOT / "mlops_common").rglob("*.py"))
    return sources + sorted((REPO_ROOT / "template").rglob("*.py"))


def test_only_the_store_builds_an_mlflow_client():
    builders = []
    for path in _library_and_template_sources():
        if path.name == "store.py" and path.parent.name == "mlops_common":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name == "MlflowClient":
                    builders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert builders == [], "use mlops_common.store.client() instead"


def test_mlops_tag_names_are_spelled_only_in_tags_module():
    tag_like = re.compile(r"mlops\.[a-z_]+(\.[a-z_]*)*")
    literals = []
    for path in _library_and_template_sources():
        if path.name == "tags.py" and path.parent.name == "mlops_common":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and tag_like.fullmatch(node.value):
                literals.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.value}")
    assert literals == [], "name the tag in mlops_common/tags.py"
