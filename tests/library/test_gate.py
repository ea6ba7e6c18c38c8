"""mlops_common.gate: the promotion gate's rules and decision, pure (no registry, no MLflow)."""

from __future__ import annotations

import math

import pytest

from mlops_common.errors import ConfigError
from mlops_common.gate import GateConfig, evaluate_gate

ACCURACY_GATE = GateConfig.from_dict(
    {"metrics": {"accuracy": {"min": 0.8, "direction": "higher", "margin": 0.0}}}
)


# ------------------------------------------------------------------------------- gate config


def test_gate_config_reads_the_documented_params_yaml_shape():
    import yaml

    import mlops_common.gate as gate_module

    documented = gate_module.__doc__.split("gate:", 1)[1].split("\n\n", 1)[0]
    gate = GateConfig.from_dict(yaml.safe_load("gate:" + documented)["gate"])
    assert gate.metrics["accuracy"].min == 0.85
    assert gate.metrics["accuracy"].direction == "higher"
    assert gate.metrics["rmse"].max == 60.0
    assert gate.metrics["rmse"].margin == 0.5
    assert gate.to_dict()["metrics"]["rmse"] == {
        "min": None,
        "max": 60.0,
        "direction": "lower",
        "margin": 0.5,
    }


@pytest.mark.parametrize(
    ("gate", "expected"),
    [
        ({"metrics": {"accuracy": {"minimum": 0.8}}}, "unknown key(s) minimum"),
        ({"threshold": 1, "metrics": {}}, "unknown key(s) threshold"),
        ({"metrics": {"accuracy": {"direction": "up"}}}, "'up' is not `higher` or `lower`"),
        ({"metrics": {"accuracy": {"min": "high"}}}, "accuracy.min: expected a number"),
        ({"metrics": {"accuracy": {"min": 0.8, "margin": 0.1}}}, "margin needs a direction"),
        ({"metrics": {"accuracy": {"direction": "higher", "margin": -1}}}, "is negative"),
        ({"metrics": {"rmse": {"min": 5, "max": 1}}}, "min 5 is above max 1"),
        ({"metrics": {"rmse": {}}}, "at least one of min, max or direction"),
        ({"metrics": {"rmse": 60}}, "expected a mapping"),
        ({"metrics": ["rmse"]}, "expected a mapping of metric"),
    ],
)
def test_gate_config_rejects_invalid_rules_in_one_line(gate, expected):
    with pytest.raises(ConfigError) as caught:
        GateConfig.from_dict(gate)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_empty_gate_passes_any_validated_candidate():
    decision = evaluate_gate(
        {"accuracy": 0.1}, None, GateConfig.from_dict({}), validation_passed=True
    )
    assert decision.passed


# ----------------------------------------------------------------------------- evaluate_gate


def test_gate_fails_below_min_and_above_max_and_passes_on_the_threshold():
    gate = GateConfig.from_dict({"metrics": {"accuracy": {"min": 0.85}, "rmse": {"max": 60}}})
    assert evaluate_gate({"accuracy": 0.85, "rmse": 60}, None, gate, validation_passed=True).passed
    low = evaluate_gate({"accuracy": 0.84, "rmse": 61}, None, gate, validation_passed=True)
    assert not low.passed
    assert low.reasons == ["accuracy 0.84 is below min 0.85", "rmse 61 is above max 60"]


@pytest.mark.parametrize(
    ("direction", "margin", "candidate", "champion", "passes"),
    [
        ("higher", 0.0, 0.91, 0.90, True),
        ("higher", 0.0, 0.89, 0.90, False),  # no margin: may not fall behind at all
        ("higher", 0.01, 0.895, 0.90, True),  # within the margin
        ("higher", 0.05, 0.85, 0.90, True),  # exactly the margin, despite float rounding
        ("higher", 0.05, 0.84, 0.90, False),  # behind by more than the margin
        ("lower", 0.0, 49.0, 50.0, True),
        ("lower", 0.0, 51.0, 50.0, False),
        ("lower", 1.0, 50.5, 50.0, True),
        ("lower", 1.0, 51.5, 50.0, False),
    ],
)
def test_gate_lets_a_candidate_fall_behind_the_champion_by_at_most_the_margin(
    direction, margin, candidate, champion, passes
):
    gate = GateConfig.from_dict({"metrics": {"m": {"direction": direction, "margin": margin}}})
    decision = evaluate_gate({"m": candidate}, {"m": champion}, gate, validation_passed=True)
    assert decision.passed is passes
    verdict = "keeps up with" if passes else "falls behind"
    assert decision.checks[-1].message.startswith(f"m {candidate:g} {verdict} champion")


def test_margin_semantics_are_the_ones_params_yaml_documents():
    from pathlib import Path

    params = Path(__file__).parents[2] / "template" / "params.yaml.jinja"
    documented = " ".join(params.read_text(encoding="utf-8").split())
    assert "does not fall behind the current champion by more than `margin`" in documented
    gate = GateConfig.from_dict({"metrics": {"m": {"direction": "higher", "margin": 0.02}}})
    at_margin = evaluate_gate({"m": 0.88}, {"m": 0.90}, gate, validation_passed=True)
    beyond = evaluate_gate({"m": 0.8799}, {"m": 0.90}, gate, validation_passed=True)
    assert at_margin.passed and not beyond.passed


def test_a_tie_keeps_the_champion_unless_the_gate_says_promote():
    rules = {"accuracy": {"direction": "higher"}, "rmse": {"direction": "lower", "margin": 1}}
    same = {"accuracy": 0.9, "rmse": 50.0}
    keep = evaluate_gate(
        same, dict(same), GateConfig.from_dict({"metrics": rules}), validation_passed=True
    )
    assert not keep.passed
    assert keep.reasons == [
        "ties the champion on every compared metric: champion kept (gate.ties: keep)"
    ]
    promote = GateConfig.from_dict({"metrics": rules, "ties": "promote"})
    assert evaluate_gate(same, dict(same), promote, validation_passed=True).passed
    # Better on one metric and equal on the other is no tie.
    better = {"accuracy": 0.91, "rmse": 50.0}
    assert evaluate_gate(
        better, same, GateConfig.from_dict({"metrics": rules}), validation_passed=True
    ).passed
    with pytest.raises(ConfigError, match=r"gate\.ties: 'maybe' is not"):
        GateConfig.from_dict({"metrics": rules, "ties": "maybe"})


def test_gate_without_champion_skips_comparison_and_says_so():
    decision = evaluate_gate({"accuracy": 0.9}, None, ACCURACY_GATE, validation_passed=True)
    assert decision.passed
    assert "accuracy: no champion yet, comparison skipped" in decision.reasons


def test_gate_fails_when_a_gated_metric_is_missing_or_nan():
    for metrics in ({"f1": 0.9}, {"accuracy": math.nan}):
        decision = evaluate_gate(metrics, None, ACCURACY_GATE, validation_passed=True)
        assert not decision.passed
        assert decision.reasons == ["accuracy missing from the candidate's metrics"]


def test_gate_fails_whatever_the_metrics_when_validation_failed():
    decision = evaluate_gate(
        {"accuracy": 1.0}, {"accuracy": 0.5}, ACCURACY_GATE, validation_passed=False
    )
    assert not decision.passed
    assert decision.reasons[0] == "data validation failed: never promoted"
    assert decision.to_dict()["failures"] == decision.reasons


def test_gate_decision_follows_the_result_protocol(tmp_path):
    import json

    refused = evaluate_gate({"accuracy": 0.5}, None, ACCURACY_GATE, validation_passed=True)
    passed = evaluate_gate({"accuracy": 0.9}, None, ACCURACY_GATE, validation_passed=True)
    assert (refused.exit_code, passed.exit_code) == (1, 0)
    written = refused.to_json(tmp_path / "decision.json")
    assert json.loads(written.read_text())["failures"] == ["accuracy 0.5 is below min 0.8"]
    assert refused.summary().startswith("candidate: NOT promoted")


def test_gate_module_imports_no_mlflow():
    import subprocess
    import sys

    code = "import sys, mlops_common.gate; print('mlflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
