"""The append-only audit trail, approvals and rejections, on a real sqlite store and a real
`mlflow server`: every decision is a new run, nothing is overwritten, rollback follows it."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from mlops_common import audit, store
from mlops_common.audit import AuditEntry, champion_history, parse_since, read_trail
from mlops_common.cli import app
from mlops_common.errors import InputError, RegistryError
from mlops_common.gate import AWAITING_APPROVAL, CHAMPION, GateConfig
from mlops_common.registry import approve, promote, register_model, reject, rollback

GATE = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}})
APPROVAL = GateConfig.from_dict(
    {"approval": "required", "metrics": {"accuracy": {"min": 0.8, "direction": "higher"}}}
)


@pytest.fixture(autouse=True)
def _ci_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GITLAB_USER_LOGIN", raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "release-bot")


@pytest.fixture(scope="module")
def lineage_run(mlflow_store, tiny_classifier, tmp_path_factory) -> dict[str, str]:
    """A training run made in a git repository with a dvc.lock: its commit and data hashes are
    what every audit entry of its versions must carry."""
    project = tmp_path_factory.mktemp("audit-project")
    (project / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  prepare:\n    cmd: python prepare.py\n    outs:\n"
        "    - path: data/train.csv\n      md5: 0123456789abcdef0123456789abcdef\n",
        encoding="utf-8",
    )
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "dvc.lock"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "data"],
    ):
        subprocess.run(command, cwd=project, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()
    model, features, _ = tiny_classifier
    info = mlflow_store.logged_model(project, "audit-tests", model, features)
    return {"run_id": info.run_id, "model_uri": info.model_uri, "commit": commit}


def _versions(run: dict[str, str], uri: str, name: str, count: int) -> list[str]:
    return [register_model(run["run_id"], name, tracking_uri=uri) for _ in range(count)]


def _gate(name: str, version: str, accuracy: float, uri: str, gate=GATE, **kwargs):
    return promote(
        name,
        version,
        {"accuracy": accuracy},
        gate,
        validation_passed=True,
        tracking_uri=uri,
        **kwargs,
    )


def _alias(uri: str, name: str, alias: str) -> str | None:
    found = store.model_version(store.client(uri), name, alias=alias, required=False)
    return None if found is None else str(found.version)


def _trail(uri: str, name: str, **kwargs) -> list[AuditEntry]:
    return read_trail(store.client(uri), name, **kwargs).entries


# ----------------------------------------------------------------------------- append-only


def _regating_never_overwrites(uri: str, name: str, run: dict[str, str]) -> None:
    v1, v2 = _versions(run, uri, name, 2)
    _gate(name, v1, 0.9, uri)
    refused = _gate(name, v2, 0.85, uri)
    first_entry = _trail(uri, name, version=v2)[0].to_dict()
    promoted = _gate(name, v2, 0.95, uri, by="ana@example.com")  # the same version, re-gated

    assert (refused.outcome, promoted.outcome) == ("refused", "promoted")
    entries = _trail(uri, name)
    assert [(e.version, e.outcome) for e in entries] == [
        (v2, "promoted"),
        (v2, "refused"),
        (v1, "promoted"),
    ]
    assert entries[1].to_dict() == first_entry  # the first decision on v2 is still as written
    assert len({e.entry_id for e in entries}) == 3
    assert entries[0].by == "ana@example.com" and entries[1].by == "release-bot"
    assert (entries[0].champion_before, entries[0].champion_after) == (v1, v2)
    assert entries[1].failures == [
        "accuracy 0.85 falls behind champion 0.9 (higher is better, may not fall behind)"
    ]
    assert entries[1].candidate_metrics == {"accuracy": 0.85}
    assert entries[1].champion_metrics == {"accuracy": 0.9}
    assert entries[0].gate == GATE.to_dict()
    # An entry's fields are run params: MLflow refuses to change one once logged.
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException):
        store.client(uri).log_param(entries[1].entry_id, "outcome", "promoted")
    assert _trail(uri, name, version=v2)[1].outcome == "refused"


def test_regating_a_version_appends_entries_and_never_overwrites_on_sqlite(
    lineage_run, mlflow_store, unique_name
):
    _regating_never_overwrites(mlflow_store.tracking_uri, unique_name("audit"), lineage_run)


@pytest.mark.xdist_group("mlflow_server")
def test_regating_a_version_appends_entries_and_never_overwrites_on_a_server(
    mlflow_server, tiny_classifier, tmp_path, unique_name
):
    from mlops_common.config import ProjectConfig
    from mlops_common.tracking import log_model, tracked_run

    model, features, _ = tiny_classifier
    name = unique_name("audit-served")
    config = ProjectConfig(root=tmp_path, tracking_uri=mlflow_server, experiment=name)
    with tracked_run("train", config=config) as run:
        log_model(model, input_example=features.head(5))
    _regating_never_overwrites(mlflow_server, name, {"run_id": run.info.run_id})
    experiment = store.client(mlflow_server).get_experiment_by_name(f"{name}.audit")
    assert experiment is not None  # the trail is an experiment of the server, next to the model


def test_every_entry_carries_lineage_identity_and_the_os_user_outside_ci(
    lineage_run, mlflow_store, unique_name, monkeypatch
):
    import getpass

    uri, name = mlflow_store.tracking_uri, unique_name("lineage")
    (version,) = _versions(lineage_run, uri, name, 1)
    monkeypatch.delenv("GITHUB_ACTOR")
    monkeypatch.setenv("GITLAB_USER_LOGIN", "gitlab-runner-user")
    _gate(name, version, 0.9, uri)
    monkeypatch.delenv("GITLAB_USER_LOGIN")
    again = _gate(name, version, 0.9, uri)  # no CI variable: the OS user
    (second, first) = _trail(uri, name)
    assert first.by == "gitlab-runner-user" and second.by == getpass.getuser()
    assert again.decided_by == getpass.getuser()
    assert first.run_id == lineage_run["run_id"]
    assert first.git_commit == lineage_run["commit"]
    assert first.data_hashes == {"data/train.csv": "0123456789abcdef0123456789abcdef"}
    assert first.validation_passed is True and first.action == "gate"
    assert first.at.endswith("+00:00") and first.at < second.at


def test_a_reason_longer_than_an_mlflow_param_round_trips(lineage_run, mlflow_store, unique_name):
    uri, name = mlflow_store.tracking_uri, unique_name("long")
    (version,) = _versions(lineage_run, uri, name, 1)
    _gate(name, version, 0.9, uri, gate=APPROVAL)
    why = "reviewed " + "x" * 13_000
    reject(name, version, reason=why, by="ana", tracking_uri=uri)
    assert _trail(uri, name)[0].reason == why


# ------------------------------------------------------------------------------- approval


def test_required_approval_waits_then_a_named_person_promotes(
    lineage_run, mlflow_store, unique_name, monkeypatch
):
    uri, name = mlflow_store.tracking_uri, unique_name("approval")
    v1, v2 = _versions(lineage_run, uri, name, 2)
    _gate(name, v1, 0.9, uri)
    waiting = _gate(name, v2, 0.95, uri, gate=APPROVAL)
    assert waiting.passed and not waiting.promoted and waiting.exit_code == 0
    assert waiting.outcome == "awaiting-approval" and "awaits approval" in waiting.summary()
    assert _alias(uri, name, CHAMPION) == v1
    assert _alias(uri, name, AWAITING_APPROVAL) == v2
    assert _alias(uri, name, "challenger") == v2  # challenger keeps its meaning

    monkeypatch.delenv("GITHUB_ACTOR")  # no --by and no CI actor: nobody to record
    with pytest.raises(InputError, match="pass --by NAME"):
        approve(name, v2, APPROVAL, reason="looks good", tracking_uri=uri)
    with pytest.raises(InputError, match="--reason"):
        approve(name, v2, APPROVAL, reason=" ", by="ana", tracking_uri=uri)
    with pytest.raises(RegistryError, match="not awaiting approval"):
        approve(name, v1, APPROVAL, reason="ok", by="ana", tracking_uri=uri)
    assert _alias(uri, name, CHAMPION) == v1 and len(_trail(uri, name)) == 2

    approved = approve(name, v2, APPROVAL, reason="card reviewed", by="ana", tracking_uri=uri)
    assert approved.promoted and approved.outcome == "approved"
    assert _alias(uri, name, CHAMPION) == v2
    assert _alias(uri, name, AWAITING_APPROVAL) is None
    entry = _trail(uri, name)[0]
    assert (entry.outcome, entry.approver, entry.by, entry.reason) == (
        "approved",
        "ana",
        "ana",
        "card reviewed",
    )
    assert (entry.champion_before, entry.champion_after) == (v1, v2)
    assert "approved by ana" in approved.summary()


def test_approval_rechecks_against_the_champion_of_that_moment(
    lineage_run, mlflow_store, unique_name
):
    uri, name = mlflow_store.tracking_uri, unique_name("recheck")
    v1, v2, v3 = _versions(lineage_run, uri, name, 3)
    _gate(name, v1, 0.9, uri)
    _gate(name, v2, 0.92, uri, gate=APPROVAL)
    # Meanwhile a better version became champion by a gate that needs no approval.
    _gate(name, v3, 0.97, uri)
    stale = approve(name, v2, APPROVAL, reason="ok", by="ana", tracking_uri=uri)
    assert not stale.promoted and stale.outcome == "refused" and stale.exit_code == 1
    assert _alias(uri, name, CHAMPION) == v3
    assert _alias(uri, name, AWAITING_APPROVAL) is None
    entry = _trail(uri, name)[0]
    assert (entry.version, entry.outcome, entry.approver) == (v2, "refused", "ana")
    assert "falls behind champion 0.97" in entry.failures[0]


def test_reject_clears_the_alias_keeps_the_champion_and_records_who(
    lineage_run, mlflow_store, unique_name
):
    uri, name = mlflow_store.tracking_uri, unique_name("reject")
    v1, v2 = _versions(lineage_run, uri, name, 2)
    _gate(name, v1, 0.9, uri)
    _gate(name, v2, 0.95, uri, gate=APPROVAL)
    result = reject(name, v2, reason="unfair on region", tracking_uri=uri)  # CI actor
    assert result.summary() == (
        f"{name} v{v2}: rejected by release-bot (unfair on region); champion stays v{v1}"
    )
    assert _alias(uri, name, AWAITING_APPROVAL) is None and _alias(uri, name, CHAMPION) == v1
    with pytest.raises(RegistryError, match="not awaiting approval"):
        reject(name, v2, reason="again", by="ana", tracking_uri=uri)
    entry = _trail(uri, name)[0]
    assert (entry.outcome, entry.approver, entry.reason) == (
        "rejected",
        "release-bot",
        "unfair on region",
    )
    assert entry.entry_id == result.audit_entry


# ------------------------------------------------------------------------------- rollback


def test_rollback_follows_the_recorded_history_where_tags_would_cycle(
    lineage_run, mlflow_store, unique_name
):
    uri, name = mlflow_store.tracking_uri, unique_name("cycle")
    v1, v2 = _versions(lineage_run, uri, name, 2)
    _gate(name, v1, 0.9, uri)
    _gate(name, v2, 0.92, uri)
    _gate(name, v1, 0.95, uri)  # v1 re-gated and crowned again: tags now say 1 <- 2 <- 1 ...
    tags_of = store.client(uri).get_model_version
    assert tags_of(name, v1).tags["mlops.gate.previous_champion"] == v2
    assert tags_of(name, v2).tags["mlops.gate.previous_champion"] == v1

    assert rollback(name, tracking_uri=uri, reason="bad night").to_version == v2
    assert rollback(name, tracking_uri=uri).to_version == v1
    with pytest.raises(RegistryError, match="no previous champion recorded in its audit trail"):
        rollback(name, tracking_uri=uri)  # a tag-following rollback would go to v2 again
    outcomes = [(e.outcome, e.version, e.champion_before) for e in _trail(uri, name)]
    assert outcomes[:2] == [("rolled-back", v1, v2), ("rolled-back", v2, v1)]
    assert _trail(uri, name)[1].reason == "bad night"


def test_champion_history_replays_promotions_and_rollbacks():
    def entry(version: str, outcome: str, second: int) -> AuditEntry:
        at = f"2026-12-01T10:00:{second:02d}.000+00:00"
        return AuditEntry("m", version, outcome, "gate", "ci", at=at)

    entries = [
        entry("1", "promoted", 1),
        entry("2", "awaiting-approval", 2),
        entry("2", "approved", 3),
        entry("3", "refused", 4),
        entry("4", "promoted", 5),
        entry("2", "rolled-back", 6),
        entry("5", "rolled-back", 7),
    ]
    assert champion_history(reversed(entries)) == ["1", "2", "5"]
    with pytest.raises(ValueError, match="not one of"):
        AuditEntry("m", "1", "crowned", "gate", "ci")


def test_parse_since_reads_ages_and_iso_times_and_refuses_the_rest():
    assert parse_since("2026-11-30T12:00Z").isoformat() == "2026-11-30T12:00:00+00:00"
    assert (parse_since("1d") - parse_since("25h")).total_seconds() == pytest.approx(3600, abs=5)
    with pytest.raises(InputError, match="--since 'yesterday'"):
        parse_since("yesterday")


# ------------------------------------------------------------------------------------- CLI


def test_cli_audit_lists_marks_refusals_filters_and_prints_json(
    lineage_run, mlflow_store, unique_name, tmp_path
):
    uri, name = mlflow_store.tracking_uri, unique_name("cli-audit")
    v1, v2, v3 = _versions(lineage_run, uri, name, 3)
    _gate(name, v1, 0.9, uri)
    _gate(name, v2, 0.7, uri)
    (tmp_path / "params.yaml").write_text(
        "gate:\n  approval: required\n  metrics:\n    accuracy: {min: 0.8, direction: higher}\n",
        encoding="utf-8",
    )
    common = ["--model", name, "--tracking-uri", uri]
    runner = CliRunner()
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"accuracy": 0.93}))
    gated = runner.invoke(
        app,
        [
            "promote",
            v3,
            "--metrics",
            str(metrics),
            "--params",
            str(tmp_path / "params.yaml"),
            "--by",
            "ci-bot",
            *common,
        ],
    )
    assert gated.exit_code == 0 and "awaits approval" in gated.output, gated.output
    nobody = runner.invoke(
        app, ["approve", v3, "--reason", "fine", *common], env={"GITHUB_ACTOR": ""}
    )
    assert isinstance(nobody.exception, InputError)
    approved = runner.invoke(
        app,
        [
            "approve",
            v3,
            "--reason",
            "card reviewed",
            "--by",
            "ana",
            "--params",
            str(tmp_path / "params.yaml"),
            *common,
        ],
    )
    assert approved.exit_code == 0, approved.output

    table = runner.invoke(app, ["audit", *common])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == f"{name}: 4 decision(s) (1 refused)"
    assert "approved" in lines[2] and "ana" in lines[2] and "card reviewed" in lines[2]
    refused_line = next(line for line in lines if f"v{v2}" in line)
    assert refused_line.startswith("!!") and "accuracy 0.7 is below min 0.8" in refused_line

    as_json = runner.invoke(app, ["audit", v3, *common, "--json"])
    payload = json.loads(as_json.stdout)
    assert [e["outcome"] for e in payload["entries"]] == ["approved", "awaiting-approval"]
    assert payload["entries"][1]["by"] == "ci-bot"

    future = runner.invoke(app, ["audit", "--since", "2999-01-01", *common, "--json"])
    assert json.loads(future.stdout)["entries"] == []
    recent = runner.invoke(app, ["audit", "--since", "1h", *common, "--json"])
    assert len(json.loads(recent.stdout)["entries"]) == 4
    other = runner.invoke(app, ["audit", "--model", unique_name("none"), "--tracking-uri", uri])
    assert other.exit_code == 0 and "nothing recorded" in other.output


def test_entries_written_by_the_actor_helpers_name_ci_first(monkeypatch):
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    assert audit.actor() == "octocat" and audit.actor(" ana ") == "ana"
    assert audit.reviewer() == "octocat"
    monkeypatch.setenv("GITHUB_ACTOR", "")
    monkeypatch.setenv("GITLAB_USER_LOGIN", "tanuki")
    assert audit.reviewer(action="reject") == "tanuki"
