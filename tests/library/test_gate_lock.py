"""The gate's lease lock with real concurrent processes, on sqlite and on a real `mlflow server`.

The scenario of issue 15: with champion v1 (accuracy 0.98), four candidates are promoted at the
same instant by four processes. A sequential gate would end with the best one as champion and
refuse every candidate that is worse than the champion it met; so must the concurrent one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlops_common import store, tags
from mlops_common.audit import champion_history, read_trail
from mlops_common.config import ProjectConfig
from mlops_common.errors import RegistryError
from mlops_common.gate_lock import GateLockTimeout, gate_lock, lock_name, retry_locked
from mlops_common.registry import CHAMPION, promote, register_model, rollback
from mlops_common.tracking import log_model, tracked_run

GATE = {"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}}
CANDIDATES = [0.999, 0.985, 0.99, 0.981]  # the champion starts at 0.98

# One promotion in its own interpreter. Each one imports everything, says it is ready, and waits
# for the go file, so that the promotions themselves start within milliseconds of each other.
WORKER = """
import json, pathlib, sys, time
from mlops_common.gate import GateConfig
from mlops_common.registry import promote
import mlflow.store.model_registry.sqlalchemy_store, mlflow.tracking  # noqa: F401
uri, model, version, accuracy, barrier, out, gate = sys.argv[1:]
gate = GateConfig.from_dict(json.loads(gate))
barrier = pathlib.Path(barrier)
(barrier / f"ready-{version}").touch()
while not (barrier / "go").exists():
    time.sleep(0.005)
began = time.time()
decision = promote(model, version, {"accuracy": float(accuracy)}, gate,
                   validation_passed=True, tracking_uri=uri)
data = decision.to_dict()
data["began"], data["ended"] = began, time.time()
pathlib.Path(out).write_text(json.dumps(data))
"""


@pytest.fixture(autouse=True)
def _no_ambient_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _logged_run(uri: str, root: Path, name: str, tiny_classifier) -> str:
    import mlflow

    model, features, _ = tiny_classifier
    config = ProjectConfig(root=root, tracking_uri=uri, experiment=name)
    if not store.is_http(uri):
        config = ProjectConfig(
            root=root, tracking_uri=uri, experiment=name, artifact_location=(root / "a").as_uri()
        )
    with tracked_run("train", config=config) as run:
        mlflow.log_metric("accuracy", 0.98)
        log_model(model, input_example=features.head(5))
    return run.info.run_id


def _concurrent_promotions(uri: str, tmp_path: Path, name: str, run_id: str) -> list[dict]:
    versions = [register_model(run_id, name, tracking_uri=uri) for _ in range(5)]
    first = promote(
        name, versions[0], {"accuracy": 0.98}, GATE, validation_passed=True, tracking_uri=uri
    )
    assert first.promoted
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = []
    for version, accuracy in zip(versions[1:], CANDIDATES, strict=True):
        out = tmp_path / f"decision-{version}.json"
        command = [sys.executable, "-c", WORKER, uri, name, version, str(accuracy)]
        command += [str(barrier), str(out), json.dumps(GATE)]
        processes.append((subprocess.Popen(command, stderr=subprocess.PIPE), out))
    deadline = time.monotonic() + 240
    while len(list(barrier.glob("ready-*"))) < len(processes):
        assert time.monotonic() < deadline, "the promotion processes did not start"
        assert all(process.poll() is None for process, _ in processes), "a process died"
        time.sleep(0.05)
    (barrier / "go").touch()
    decisions = []
    for process, out in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode(errors="replace")[-3000:]
        decisions.append(json.loads(out.read_text()))
    return decisions


def _assert_sequential(decisions: list[dict], uri: str, name: str) -> None:
    order = sorted(decisions, key=lambda d: d["decided_at"])
    print(
        ", ".join(
            f"v{d['version']}:{'promoted' if d['promoted'] else 'refused'}"
            f" vs v{d['champion_version']}"
            for d in order
        )
    )
    # They ran at the same time: every one started before any ended.
    assert max(d["began"] for d in decisions) < min(d["ended"] for d in decisions)
    client = store.client(uri)
    final = str(client.get_model_version_by_alias(name, CHAMPION).version)
    best = max(decisions, key=lambda d: d["candidate_metrics"]["accuracy"])
    assert final == best["version"] and best["promoted"]
    promoted = [d for d in decisions if d["promoted"]]
    # Each promotion replaced a different champion: a chain from v1 to the final champion.
    replaced = {d["champion_version"]: d["version"] for d in promoted}
    assert len(replaced) == len(promoted)
    chain, at = [], "1"
    while at in replaced:
        at = replaced[at]
        chain.append(at)
    assert at == final and sorted(chain) == sorted(d["version"] for d in promoted)
    # A refused candidate was refused against a champion better than itself.
    for decision in decisions:
        if not decision["promoted"]:
            champion = decision["champion_metrics"]["accuracy"]
            assert champion > decision["candidate_metrics"]["accuracy"], decision
        tagged = client.get_model_version(name, decision["version"]).tags
        assert tagged[tags.GATE_DECISION] == ("promoted" if decision["promoted"] else "refused")
    with pytest.raises(Exception, match=r"RESOURCE_DOES_NOT_EXIST|not found|does not exist"):
        client.get_registered_model(lock_name(name))
    # Every concurrent decision left its own audit entry, in the order the lock granted, and the
    # trail's champion history is the chain above.
    trail = read_trail(client, name).entries
    assert len(trail) == len(decisions) + 1 and len({e.entry_id for e in trail}) == len(trail)
    recorded = {e.version: e for e in trail}
    for decision in decisions:
        entry = recorded[decision["version"]]
        assert entry.outcome == ("promoted" if decision["promoted"] else "refused")
        assert entry.champion_before == decision["champion_version"]
    assert champion_history(trail) == ["1", *chain]


def test_concurrent_promotions_on_sqlite_behave_like_sequential_ones(
    mlflow_store, tiny_classifier, tmp_path, unique_name
):
    name = unique_name("race")
    run_id = _logged_run(mlflow_store.tracking_uri, tmp_path, name, tiny_classifier)
    decisions = _concurrent_promotions(mlflow_store.tracking_uri, tmp_path, name, run_id)
    _assert_sequential(decisions, mlflow_store.tracking_uri, name)


@pytest.mark.xdist_group("mlflow_server")
def test_concurrent_promotions_through_a_real_mlflow_server_behave_like_sequential_ones(
    mlflow_server, tiny_classifier, tmp_path, unique_name
):
    name = unique_name("race-served")
    run_id = _logged_run(mlflow_server, tmp_path, name, tiny_classifier)
    decisions = _concurrent_promotions(mlflow_server, tmp_path, name, run_id)
    _assert_sequential(decisions, mlflow_server, name)


def test_an_expired_lock_is_broken_and_a_live_one_times_out(mlflow_store, unique_name):
    client = store.client(mlflow_store.tracking_uri)
    name = unique_name("stale")
    dead = {tags.GATE_LOCK_OWNER: "gone:1:x", tags.GATE_LOCK_EXPIRES: f"{time.time() - 1:.3f}"}
    client.create_registered_model(lock_name(name), tags=dead)
    with gate_lock(client, name) as lock:
        assert lock.owner != "gone:1:x"
        lock.verify()
        with (
            pytest.raises(GateLockTimeout, match="stayed locked by"),
            gate_lock(client, name, wait=0.5),
        ):
            pass
    # Released on exit: the next one gets it at once.
    with gate_lock(client, name, wait=0.0):
        pass


def test_a_holder_whose_lock_was_taken_over_does_not_move_the_champion(mlflow_store, unique_name):
    client = store.client(mlflow_store.tracking_uri)
    name = unique_name("taken")
    # The second lock breaks the first one's expired lease.
    with (
        gate_lock(client, name, ttl=0.0) as lock,
        gate_lock(client, name, wait=5.0),
        pytest.raises(RegistryError, match="expired and was taken over"),
    ):
        lock.verify()


def test_rollback_after_a_refused_candidate_goes_to_the_champion_it_replaced(
    mlflow_store, tiny_classifier, tmp_path, unique_name
):
    uri = mlflow_store.tracking_uri
    name = unique_name("history")
    run_id = _logged_run(uri, tmp_path, name, tiny_classifier)
    v1, v2, v3 = (register_model(run_id, name, tracking_uri=uri) for _ in range(3))
    for version, accuracy in ((v1, 0.9), (v2, 0.95), (v3, 0.85)):
        promote(
            name, version, {"accuracy": accuracy}, GATE, validation_passed=True, tracking_uri=uri
        )
    assert tags.GATE_PREVIOUS_CHAMPION not in store.client(uri).get_model_version(name, v3).tags
    assert rollback(name, tracking_uri=uri).to_version == v1


def test_retry_locked_retries_only_database_is_locked():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "ok"

    assert retry_locked(flaky) == "ok" and len(calls) == 3
    with pytest.raises(ValueError):
        retry_locked(lambda: (_ for _ in ()).throw(ValueError("other")))
