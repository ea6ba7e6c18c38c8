"""Verdicts a scheduled retrain can trust, on seeded samples: insufficient data at small n,
p-value tests for small windows, effect sizes for large ones, thresholds from params.yaml.

Statistical tests with fixed seeds; the false-alarm and detection rates over many windows are
measured by benchmarks/bench_drift_calibration.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import ConfigError, InputError
from mlops_common.monitoring import DriftConfig, detect_drift

COLUMNS = 8


def sample(n: int, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Numeric columns (normal, lognormal, integer counts) and two categorical ones; ``shift``
    moves every numeric column by that many standard deviations."""
    r = np.random.default_rng(seed)
    data = {}
    for i in range(COLUMNS // 2):
        data[f"normal_{i}"] = r.normal(10 + shift * 2, 2, n)
    data["lognormal"] = np.exp(r.normal(1 + shift * 0.5, 0.5, n))
    data["count"] = r.poisson(6, n) + np.round(shift * np.sqrt(6)).astype(int)
    data["plan"] = r.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    data["region"] = r.choice(list("abcdefgh"), n)
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return sample(50_000, seed=1)


def test_five_rows_from_the_reference_itself_are_insufficient_data_not_drift(reference):
    report = detect_drift(reference, reference.head(5))
    assert report.verdict == "insufficient data"
    assert (report.drift_detected, report.drifted_columns, report.exit_code) == (False, [], 0)
    assert report.to_dict()["verdict"] == "insufficient data"
    assert (
        report.summary()
        .splitlines()[0]
        .endswith("insufficient data (5 current rows < min_rows 100; no verdict)")
    )


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_small_clean_window_uses_p_values_and_does_not_drift(reference, seed):
    report = detect_drift(reference, sample(300, seed=seed))
    assert report.verdict == "no drift"
    numeric = report.column("normal_0")
    assert (numeric.test, numeric.threshold) == ("ks", 0.05)
    assert numeric.p_value is not None and numeric.wasserstein is not None  # effect size beside
    assert report.column("plan").test == "chi2"


def test_small_window_shifted_half_a_sigma_drifts(reference):
    report = detect_drift(reference, sample(300, shift=0.5, seed=5))
    assert report.verdict == "drift"
    assert report.exit_code == 1
    assert {"normal_0", "normal_1", "normal_2", "normal_3"} <= set(report.drifted_columns)


def test_large_window_ignores_a_negligible_shift_that_ks_calls_significant(reference):
    # The case: a 0.05-sigma shift at 20k rows has a KS p-value far below 0.05 ...
    current = sample(20_000, shift=0.05, seed=6)
    by_p_value = detect_drift(reference, current, config=DriftConfig(large_sample=10**9))
    assert by_p_value.column("normal_0").p_value < 0.05
    # ... but the large-window default judges the effect size, which is small.
    report = detect_drift(reference, current)
    assert report.verdict == "no drift"
    column = report.column("normal_0")
    assert (column.test, column.p_value) == ("wasserstein", None)
    assert 0.02 < column.statistic < 0.1
    assert report.column("region").test == "jensenshannon"


def test_large_window_shifted_half_a_sigma_drifts(reference):
    report = detect_drift(reference, sample(20_000, shift=0.5, seed=7))
    assert report.verdict == "drift"
    assert report.column("normal_0").statistic == pytest.approx(0.5, abs=0.05)


def test_per_column_overrides_choose_the_test_and_threshold(reference):
    config = DriftConfig(
        per_column={"normal_0": {"test": "psi", "threshold": 0.0}, "plan": {"threshold": 1.0}}
    )
    report = detect_drift(reference, sample(2_000, seed=8), config=config)
    assert report.column("normal_0").test == "psi" and report.column("normal_0").drifted
    plan = report.column("plan")
    assert (plan.test, plan.threshold, plan.drifted) == ("jensenshannon", 1.0, False)
    with pytest.raises(ConfigError, match="applies to numeric columns"):
        detect_drift(
            reference, sample(200), config=DriftConfig(per_column={"plan": {"test": "ks"}})
        )
    with pytest.raises(InputError, match="per_column names"):
        detect_drift(reference, sample(200), config=DriftConfig(per_column={"nope": {}}))
    with pytest.raises(ConfigError, match="is not one of"):
        DriftConfig(per_column={"plan": {"test": "anderson"}})


def test_params_file_supplies_thresholds_and_flags_override_it(tmp_path, reference):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  seed: 1\ndrift:\n  min_rows: 50\n  p_value: 0.01\n")
    assert DriftConfig.from_params(params).min_rows == 50
    assert DriftConfig.from_params(params, p_value=0.2, min_rows=None).p_value == 0.2
    assert DriftConfig.from_params(None) == DriftConfig()

    reference.to_csv(tmp_path / "train.csv", index=False)
    sample(80, seed=9).to_csv(tmp_path / "window.csv", index=False)
    base = ["drift", str(tmp_path / "train.csv"), str(tmp_path / "window.csv"), "--json"]
    runner = CliRunner()
    without = runner.invoke(app, base)
    assert (without.exit_code, json.loads(without.stdout)["verdict"]) == (0, "insufficient data")
    with_params = runner.invoke(app, [*base, "--params", str(params)])
    data = json.loads(with_params.stdout)
    assert (data["verdict"], data["config"]["min_rows"], data["config"]["p_value"]) == (
        "no drift",
        50,
        0.01,
    )
    flag = runner.invoke(app, [*base, "--params", str(params), "--min-rows", "500"])
    assert json.loads(flag.stdout)["verdict"] == "insufficient data"
    missing = runner.invoke(app, [*base, "--params", str(tmp_path / "absent.yaml")])
    assert isinstance(missing.exception, InputError)  # exit code 2 under `mlops`
    assert missing.exception.exit_code == 2


def test_rendered_params_drift_section_is_a_valid_config():
    text = (Path(__file__).parents[2] / "template" / "params.yaml.jinja").read_text()
    import yaml

    section = text[text.index("\ndrift:") :].split("\n\n")[0]  # up to the next section
    config = DriftConfig.from_dict(yaml.safe_load(section)["drift"])
    assert config.min_rows >= 1


def _one_column_shift(n: int, shift: float, seed: int) -> pd.DataFrame:
    window = sample(n, seed=seed)
    window["normal_0"] = window["normal_0"] + shift * 2  # that column's sigma is 2
    return window


@pytest.mark.parametrize(("n", "shift"), [(500, 0.5), (5_000, 0.25)])
def test_one_shifted_column_among_many_drifts_only_under_any_corrected(reference, n, shift):
    window = _one_column_shift(n, shift, seed=9)
    share = detect_drift(reference, window)
    assert share.drifted_columns == ["normal_0"] and not share.drift_detected
    corrected = detect_drift(reference, window, config=DriftConfig(dataset_rule="any_corrected"))
    assert corrected.drift_detected and corrected.verdict == "drift"
    assert "any_corrected" in corrected.summary().splitlines()[0]
    # the per-column verdicts are the same under both rules
    assert [c.drifted for c in corrected.columns] == [c.drifted for c in share.columns]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_any_corrected_keeps_clean_small_windows_quiet(reference, seed):
    config = DriftConfig(dataset_rule="any_corrected")
    report = detect_drift(reference, sample(300, seed=100 + seed), config=config)
    assert not report.drift_detected, report.summary()


def test_holm_adjusted_p_values_follow_the_step_down_rule(reference):
    config = DriftConfig(dataset_rule="any_corrected")
    report = detect_drift(reference, _one_column_shift(400, 0.3, seed=4), config=config)
    raw = sorted((c.p_value, c.name) for c in report.columns)
    m, running, expected = len(raw), 0.0, {}
    for rank, (p_value, name) in enumerate(raw):
        running = max(running, min(1.0, (m - rank) * p_value))
        expected[name] = running
    assert {c.name: c.adjusted_p_value for c in report.columns} == pytest.approx(expected)
    large = detect_drift(reference, sample(5_000, seed=3), config=config)
    # effect sizes decide large windows: no p-value, nothing to adjust
    assert {c.adjusted_p_value for c in large.columns} == {None}


def test_dataset_rule_comes_from_params_and_is_checked(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("drift:\n  dataset_rule: any_corrected\n")
    assert DriftConfig.from_params(params).dataset_rule == "any_corrected"
    assert DriftConfig.from_params(params, dataset_rule="share").dataset_rule == "share"
    with pytest.raises(ConfigError, match="dataset_rule must be one of"):
        DriftConfig(dataset_rule="majority")
