"""The gate's fairness check with real fairlearn, on a model trained on data with a planted gap."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlops_common import store
from mlops_common.audit import read_trail
from mlops_common.errors import ConfigError, InputError
from mlops_common.fairness import FairnessConfig, measure_fairness
from mlops_common.gate import CHAMPION, GateConfig, evaluate_gate
from mlops_common.registry import approve, promote, register_model


def _planted(rows: int = 600, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    """Group `a` has a label the feature explains; group `b` a label that is noise."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.uniform(size=rows) < 0.5, "a", "b")
    x = rng.normal(size=rows)
    label = np.where(group == "a", x > 0, rng.uniform(size=rows) < 0.5).astype(int)
    return pd.DataFrame({"x": x, "group": group}), pd.Series(label, name="target")


@pytest.fixture(scope="module")
def planted() -> dict:
    from sklearn.linear_model import LogisticRegression

    frame, label = _planted()
    model = LogisticRegression().fit(frame[["x"]], label)
    test, test_label = _planted(seed=11)
    return {
        "model": model,
        "test": test,
        "label": test_label,
        "predicted": model.predict(test[["x"]]),
    }


def _gate(max_gap: float, metric: str = "accuracy") -> GateConfig:
    return GateConfig.from_dict(
        {
            "metrics": {"accuracy": {"min": 0.5}},
            "fairness": {"sensitive": ["group"], "metric": metric, "max_gap": max_gap},
        }
    )


def test_measured_gap_is_the_difference_of_the_group_accuracies(planted):
    from sklearn.metrics import accuracy_score

    report = measure_fairness(
        planted["label"], planted["predicted"], planted["test"], _gate(0.1).fairness
    )
    test, label, predicted = planted["test"], planted["label"], planted["predicted"]
    by_hand = {
        g: accuracy_score(label[test["group"] == g], predicted[test["group"] == g])
        for g in ("a", "b")
    }
    (column,) = report.columns
    assert column.groups == pytest.approx(by_hand)
    assert column.gap == pytest.approx(abs(by_hand["a"] - by_hand["b"]))
    assert column.gap > 0.3  # the planted gap: ~0.95 against ~0.5
    assert column.counts == {g: int((test["group"] == g).sum()) for g in ("a", "b")}
    assert not report.passed and report.exit_code == 1
    assert "EXCEEDS" in report.summary()
    assert json.loads(json.dumps(report.to_dict()))["columns"][0]["column"] == "group"


def test_a_gap_above_max_gap_blocks_the_gate_and_a_wide_max_gap_lets_it_pass(planted):
    report = measure_fairness(
        planted["label"], planted["predicted"], planted["test"], _gate(0.1).fairness
    )
    blocked = evaluate_gate(
        {"accuracy": 0.7}, None, _gate(0.1), validation_passed=True, fairness=report
    )
    assert not blocked.passed
    assert blocked.failures[0].startswith("fairness: accuracy gap 0.")
    assert "between groups of group exceeds max_gap 0.1 (a 0.9" in blocked.failures[0]
    # The same measurement under a looser gate, as `mlops approve` re-checks it later.
    loose = evaluate_gate(
        {"accuracy": 0.7}, None, _gate(0.6), validation_passed=True, fairness=report.to_dict()
    )
    assert loose.passed and loose.fairness["columns"][0]["gap"] == report.columns[0].gap
    missing = evaluate_gate({"accuracy": 0.7}, None, _gate(0.6), validation_passed=True)
    assert missing.failures == [
        "gate.fairness is set but no fairness was measured for this candidate"
    ]
    other = evaluate_gate(
        {"accuracy": 0.7},
        None,
        _gate(0.6, "selection_rate"),
        validation_passed=True,
        fairness=report,
    )
    assert "measured with accuracy, the gate asks for selection_rate" in other.failures[0]


def test_selection_rate_of_a_fair_model_stays_within_the_gap():
    rng = np.random.default_rng(5)
    group = rng.choice(["f", "m"], size=2000)
    predicted = (rng.uniform(size=2000) < 0.4).astype(int)
    config = FairnessConfig.from_dict({"sensitive": "sex", "max_gap": 0.1})
    report = measure_fairness(predicted, predicted, {"sex": group}, config)
    assert report.metric == "selection_rate" and report.passed
    assert report.columns[0].groups["f"] == pytest.approx(0.4, abs=0.05)


def test_bad_fairness_config_and_missing_columns_say_what_to_fix(planted):
    with pytest.raises(ConfigError, match="metric: 'fun' is not one of"):
        GateConfig.from_dict({"fairness": {"sensitive": ["group"], "metric": "fun"}})
    with pytest.raises(ConfigError, match="sensitive: give the column name"):
        FairnessConfig.from_dict({"sensitive": []})
    with pytest.raises(ConfigError, match="max_gap: expected a number >= 0"):
        FairnessConfig.from_dict({"sensitive": ["g"], "max_gap": -1})
    with pytest.raises(ConfigError, match="unknown key"):
        FairnessConfig.from_dict({"sensitive": ["g"], "gap": 0.1})
    assert GateConfig.from_dict({"fairness": {}}).fairness is None
    with pytest.raises(InputError, match="column\\(s\\) region not in the evaluation data"):
        measure_fairness([1], [1], {"group": ["a"]}, FairnessConfig(sensitive=("region",)))


def test_promote_refuses_an_unfair_candidate_and_records_the_gap(
    planted, mlflow_store, tiny_classifier, tmp_path, unique_name, monkeypatch
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri, name = mlflow_store.tracking_uri, unique_name("fair")
    model, features, _ = tiny_classifier
    run_id = mlflow_store.logged_model(tmp_path, name, model, features).run_id
    fair_v, unfair_v, waiting_v = (register_model(run_id, name, tracking_uri=uri) for _ in range(3))
    unfair = measure_fairness(
        planted["label"], planted["predicted"], planted["test"], _gate(0.1).fairness
    )
    fair = measure_fairness(
        planted["label"], planted["predicted"], planted["test"], _gate(0.6).fairness
    )
    assert promote(
        name,
        fair_v,
        {"accuracy": 0.7},
        _gate(0.6),
        validation_passed=True,
        fairness=fair,
        tracking_uri=uri,
    ).promoted
    refused = promote(
        name,
        unfair_v,
        {"accuracy": 0.9},
        _gate(0.1),
        validation_passed=True,
        fairness=unfair,
        tracking_uri=uri,
    )
    assert not refused.promoted and refused.outcome == "refused"
    assert str(store.client(uri).get_model_version_by_alias(name, CHAMPION).version) == fair_v
    entry = read_trail(store.client(uri), name, version=unfair_v).entries[0]
    assert entry.fairness["columns"][0]["gap"] == pytest.approx(unfair.columns[0].gap)
    assert entry.gate["fairness"] == {"sensitive": ["group"], "metric": "accuracy", "max_gap": 0.1}
    assert entry.failures == [c for c in refused.failures if c.startswith("fairness:")]
    assert entry.checks[-1]["kind"] == "fairness" and entry.checks[-1]["passed"] is False

    # An approval re-checks the fairness recorded when the candidate passed the gate.
    required = GateConfig.from_dict({**_gate(0.6).to_dict(), "approval": "required"})
    waiting = promote(
        name,
        waiting_v,
        {"accuracy": 0.95},
        required,
        validation_passed=True,
        fairness=fair,
        tracking_uri=uri,
    )
    assert waiting.outcome == "awaiting-approval"
    stricter = GateConfig.from_dict(
        {
            **required.to_dict(),
            "fairness": {"sensitive": ["group"], "metric": "accuracy", "max_gap": 0.1},
        }
    )
    assert (
        approve(name, waiting_v, stricter, reason="r", by="ana", tracking_uri=uri).outcome
        == "refused"
    )
