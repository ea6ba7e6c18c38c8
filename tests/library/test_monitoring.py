"""Drift statistics against scipy and a plain PSI formula; verdicts; bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlops_common.errors import ConfigError, InputError
from mlops_common.monitoring import DriftConfig, detect_drift
from mlops_common.monitoring import stats as drift_stats
from mlops_common.monitoring.stats import ks_2samp_sorted

SERIAL = DriftConfig(n_jobs=1)
# The p-value tests at every window size and no minimum: for comparisons with scipy.
P_TESTS = DriftConfig(n_jobs=1, large_sample=10**9, min_rows=1)


def reference_psi(ref: np.ndarray, cur: np.ndarray, bins: int = 10, eps: float = 1e-4) -> float:
    """PSI as written in textbooks: quantile edges of the reference, np.histogram counts."""
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    r = np.histogram(ref, edges)[0] / ref.size
    c = np.histogram(cur, edges)[0] / cur.size
    r, c = np.where(r == 0, eps, r), np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


@pytest.fixture(scope="session")
def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A reference, a current sample of the same distribution, and a shifted current."""

    def make(n: int, shift: float, seed_offset: int) -> pd.DataFrame:
        r = np.random.default_rng(100 + seed_offset)
        return pd.DataFrame(
            {
                "age": r.normal(40 + 10 * shift, 10, n),
                "income": r.lognormal(10 + shift, 0.5, n),
                "visits": r.poisson(3 + 3 * shift, n),
                "plan": r.choice(
                    ["basic", "plus", "pro"], n, p=[0.5 - shift / 3, 0.3, 0.2 + shift / 3]
                ),
                "active": r.random(n) < 0.7 - shift / 3,
            }
        )

    return make(4000, 0.0, 0), make(3000, 0.0, 1), make(3000, 0.6, 2)


# --- KS against scipy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n1", "n2", "ties"),
    [
        (7, 11, True),  # exact
        (300, 250, False),  # exact
        (5000, 7000, True),  # exact, heavy ties
        (10_000, 10_000, False),  # exact at scipy's auto limit
        (12_000, 40, False),  # asymptotic: the larger sample is above the limit
        (30_000, 20_000, True),  # asymptotic, heavy ties
        (50_000, 45_000, False),  # asymptotic, continuous
    ],
)
def test_ks_statistic_and_p_value_equal_scipy_ks_2samp(n1, n2, ties):
    rng = np.random.default_rng(n1 + n2)
    if ties:
        a = rng.integers(0, 12, n1).astype(float)
        b = rng.integers(1, 12, n2).astype(float)
    else:
        a = rng.normal(0, 1, n1)
        b = rng.normal(0.03, 1.1, n2)
    expected = stats.ks_2samp(a, b)
    statistic, p_value = ks_2samp_sorted(np.sort(a), np.sort(b))
    assert statistic == float(expected.statistic)
    assert p_value == float(expected.pvalue)
    # and through detect_drift, on unsorted frames
    report = detect_drift(pd.DataFrame({"x": a}), pd.DataFrame({"x": b}), config=P_TESTS)
    column = report.column("x")
    assert (column.ks_statistic, column.p_value) == (statistic, p_value)


@pytest.mark.parametrize("chunk", [2, 7, 4096])
def test_ks_statistic_is_exact_whatever_the_merge_chunk_size(monkeypatch, chunk):
    monkeypatch.setattr(drift_stats, "KS_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    a, b = rng.integers(0, 40, 20_001).astype(float), rng.integers(0, 41, 15_000).astype(float)
    expected = stats.ks_2samp(a, b)
    assert ks_2samp_sorted(np.sort(a), np.sort(b)) == (expected.statistic, expected.pvalue)


@pytest.mark.parametrize("method", ["exact", "asymp"])
def test_ks_method_override_follows_scipy(method):
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 400), rng.normal(0.2, 1, 300)
    expected = stats.ks_2samp(a, b, method=method)
    column = detect_drift(
        pd.DataFrame({"x": a}),
        pd.DataFrame({"x": b}),
        config=DriftConfig(ks_method=method, large_sample=10**9, min_rows=1),
    ).column("x")
    assert column.ks_statistic == float(expected.statistic)
    assert column.p_value == pytest.approx(float(expected.pvalue), rel=1e-12)


# --- PSI against the plain formula -----------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["normal_same", "normal_shift", "integers_with_ties", "outside_reference_range", "bins_5"],
)
def test_numeric_psi_equals_quantile_histogram_formula(case):
    rng = np.random.default_rng(11)
    bins = 5 if case == "bins_5" else 10
    ref = rng.normal(0, 1, 5000)
    cur = rng.normal(0, 1, 4000)
    if case == "normal_shift":
        cur = cur + 0.5
    elif case == "integers_with_ties":
        ref, cur = rng.poisson(2, 5000).astype(float), rng.poisson(2.5, 4000).astype(float)
    elif case == "outside_reference_range":
        cur = rng.uniform(-8, 8, 4000)
    report = detect_drift(
        pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), config=DriftConfig(bins=bins)
    )
    column = report.column("x")
    assert column.psi == pytest.approx(reference_psi(ref, cur, bins), rel=1e-12, abs=1e-15)
    assert sum(column.reference_shares) == pytest.approx(1.0)
    assert sum(column.current_shares) == pytest.approx(1.0)
    assert len(column.bins) == len(column.reference_shares) == len(column.current_shares)


def test_zero_variance_reference_gives_finite_psi_and_scipy_ks():
    ref = pd.DataFrame({"x": np.full(500, 3.0)})
    same = detect_drift(ref, pd.DataFrame({"x": np.full(400, 3.0)})).column("x")
    assert same.psi == 0.0 and not same.drifted
    assert same.bins == ["< 3", "= 3", "> 3"]

    moved_values = np.r_[np.full(300, 3.0), np.full(100, 5.0)]
    moved = detect_drift(ref, pd.DataFrame({"x": moved_values})).column("x")
    eps = 1e-4
    expected_psi = (0.75 - 1.0) * math.log(0.75) + (0.25 - eps) * math.log(0.25 / eps)
    assert moved.psi == pytest.approx(expected_psi, rel=1e-12)
    assert moved.current_shares == [0.0, 0.75, 0.25]
    expected = stats.ks_2samp(ref["x"].to_numpy(), moved_values)
    assert (moved.ks_statistic, moved.p_value) == (expected.statistic, expected.pvalue)
    assert moved.drifted


def test_reference_with_two_quantile_values_gets_a_bin_per_value():
    # 95% zeros: every decile edge but the last is 0, so quantile bins would collapse to one
    ref = pd.DataFrame({"flag": np.r_[np.zeros(950), np.ones(50)]})
    cur = pd.DataFrame({"flag": np.r_[np.zeros(700), np.ones(300)]})
    column = detect_drift(ref, cur).column("flag")
    assert column.bins == ["< 0", "= 0", "(0, 1)", "= 1", "> 1"]
    assert column.reference_shares == [0.0, 0.95, 0.0, 0.05, 0.0]
    assert column.current_shares == [0.0, 0.7, 0.0, 0.3, 0.0]
    expected = (0.7 - 0.95) * math.log(0.7 / 0.95) + (0.3 - 0.05) * math.log(0.3 / 0.05)
    assert column.psi == pytest.approx(expected, rel=1e-12)
    assert column.drifted


# --- verdicts --------------------------------------------------------------------------------


def test_same_distribution_reports_no_drift(frames):
    reference, same, _ = frames
    report = detect_drift(reference, same)
    assert not report.drift_detected
    assert report.drifted_columns == []
    assert {c.name: c.kind for c in report.columns} == {
        "age": "numeric",
        "income": "numeric",
        "visits": "numeric",
        "plan": "categorical",
        "active": "categorical",
    }
    assert all(c.psi < 0.05 for c in report.columns)


def test_shifted_distribution_reports_drift_with_reasons(frames):
    reference, _, shifted = frames
    report = detect_drift(reference, shifted)
    assert report.drift_detected
    assert set(report.drifted_columns) == {"age", "income", "visits", "plan", "active"}
    # 3000 current rows: the effect sizes decide, p-values are left out
    age = report.column("age")
    assert (age.test, age.p_value) == ("wasserstein", None)
    assert any(reason.startswith("Wasserstein (normed)") for reason in age.reasons)
    assert age.psi > 0.2 and age.ks_statistic > 0.1
    plan = report.column("plan")
    assert plan.test == "jensenshannon"
    assert any(r.startswith("Jensen-Shannon distance") for r in plan.reasons)
    # with the p-value tests the same columns drift, each p-value beside its effect size
    small = detect_drift(reference, shifted, config=P_TESTS)
    assert set(small.drifted_columns) == set(report.drifted_columns)
    assert any(r.startswith("KS p-value") for r in small.column("age").reasons)
    assert small.column("age").wasserstein == age.wasserstein
    assert any(r.startswith("chi-square p-value") for r in small.column("plan").reasons)


def test_overall_verdict_uses_share_of_drifted_columns(frames):
    reference, same, shifted = frames
    mixed = same.assign(age=shifted["age"].to_numpy())  # 1 of 5 columns drifts
    default = detect_drift(reference, mixed)
    assert default.drifted_columns == ["age"]
    assert default.drifted_share == pytest.approx(0.2)
    assert not default.drift_detected
    assert detect_drift(reference, mixed, config=DriftConfig(drift_share=0.2)).drift_detected


def test_threads_give_the_same_report_as_serial(frames):
    reference, _, shifted = frames
    serial = detect_drift(reference, shifted, config=SERIAL).to_dict()
    threaded = detect_drift(reference, shifted, config=DriftConfig(n_jobs=4)).to_dict()
    serial["config"].pop("n_jobs"), threaded["config"].pop("n_jobs")
    assert serial == threaded


# --- categorical -----------------------------------------------------------------------------


def test_categorical_chi2_matches_scipy_contingency_and_psi_over_categories():
    ref = pd.DataFrame({"plan": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    cur = pd.DataFrame({"plan": ["a"] * 30 + ["b"] * 30 + ["c"] * 40})
    column = detect_drift(ref, cur).column("plan")
    expected = stats.chi2_contingency(np.array([[50, 30, 20], [30, 30, 40]]), correction=False)
    assert column.test == "chi2"
    assert column.chi2_statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert column.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    r, c = np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.3, 0.4])
    assert column.psi == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)
    assert column.bins == ["a", "b", "c"]


def test_unseen_categories_get_their_own_bucket_and_are_listed():
    ref = pd.DataFrame({"city": ["paris"] * 60 + ["rome"] * 40})
    cur = pd.DataFrame({"city": ["paris"] * 50 + ["oslo"] * 30 + ["lima"] * 20})
    column = detect_drift(ref, cur).column("city")
    assert column.bins == ["paris", "rome", "<unseen>"]
    assert column.current_shares == [0.5, 0.0, 0.5]
    assert column.unseen_categories == ["oslo", "lima"]
    eps = 1e-4
    r, c = np.array([0.6, 0.4, eps]), np.array([0.5, eps, 0.5])
    assert column.psi == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)
    expected = stats.chi2_contingency(np.array([[60, 40, 0], [50, 0, 50]]), correction=False)
    assert column.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert column.drifted


def test_forced_categorical_compares_integer_codes_as_categories():
    ref = pd.DataFrame({"region": [1, 2, 3, 1] * 25})
    cur = pd.DataFrame({"region": [1.0, 2.0, np.nan, 1.0] * 25})  # a NaN makes it float
    column = detect_drift(ref, cur, categorical=["region"]).column("region")
    assert column.kind == "categorical"
    assert column.bins == ["1", "2", "3"]
    assert column.current_missing_share == 0.25


# --- missing values --------------------------------------------------------------------------


def test_nan_and_inf_count_as_missing_and_are_dropped_from_the_statistics():
    rng = np.random.default_rng(5)
    ref_values = rng.normal(0, 1, 1000)
    cur_values = rng.normal(0, 1, 1000)
    cur_values[:150] = np.nan
    cur_values[150:200] = np.inf
    cur_values[200:250] = -np.inf
    ref, cur = pd.DataFrame({"x": ref_values}), pd.DataFrame({"x": cur_values})
    before = cur.copy()
    column = detect_drift(ref, cur).column("x")
    pd.testing.assert_frame_equal(cur, before)
    assert column.current_missing_share == 0.25
    assert column.missing_share_delta == 0.25
    assert column.current_count == 750
    finite = cur_values[250:]
    expected = stats.ks_2samp(ref_values, finite)
    assert (column.ks_statistic, column.p_value) == (expected.statistic, expected.pvalue)
    assert column.psi == pytest.approx(reference_psi(ref_values, finite), rel=1e-12)
    assert column.drifted
    assert any(reason.startswith("missing share 0.0% -> 25.0%") for reason in column.reasons)


def test_current_column_with_only_missing_values_is_drifted_without_statistics():
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    cur = pd.DataFrame({"x": [None, None], "c": [None, None]})
    report = detect_drift(ref, cur, config=DriftConfig(min_rows=1))
    for name in ("x", "c"):
        column = report.column(name)
        assert column.psi is None and column.p_value is None
        assert column.drifted
        assert "no non-missing value in current" in column.reasons
    json.dumps(report.to_dict(), allow_nan=False)


# --- reading files, ignored columns, serialisation -------------------------------------------


def test_prediction_log_columns_absent_from_reference_are_ignored(tmp_path, frames):
    reference, same, _ = frames
    ref_path = tmp_path / "train.parquet"
    reference.assign(target=1).to_parquet(ref_path)
    log = same.assign(prediction=0, request_id="r", timestamp="2026-01-01T00:00:00Z")
    log_path = tmp_path / "predictions.jsonl"
    log.to_json(log_path, orient="records", lines=True)
    report = detect_drift(ref_path, log_path)
    assert report.ignored_columns == {
        "prediction": "only in current",
        "request_id": "only in current",
        "timestamp": "only in current",
        "target": "only in reference",
    }
    assert [c.name for c in report.columns] == ["age", "income", "visits", "plan", "active"]
    assert report.reference_source == str(ref_path)
    assert not report.drift_detected


def test_selected_columns_are_compared_and_the_rest_listed(frames, tmp_path):
    reference, _, shifted = frames
    csv = tmp_path / "ref.csv"
    reference.to_csv(csv, index=False)
    report = detect_drift(csv, shifted, columns=["income", "plan"])
    assert [c.name for c in report.columns] == ["income", "plan"]
    assert report.ignored_columns == {
        "age": "not selected",
        "visits": "not selected",
        "active": "not selected",
    }


def test_report_to_json_is_strict_json_with_plot_data(tmp_path, frames):
    reference, _, shifted = frames
    report = detect_drift(reference, shifted)
    path = report.to_json(tmp_path / "out" / "drift.json")
    data = json.loads(path.read_text())
    assert data["drift_detected"] is True
    assert data["config"]["psi_threshold"] == 0.2
    age = data["columns"][0]
    assert age["name"] == "age" and len(age["bins"]) == 10 and len(age["edges"]) == 9
    assert set(age) >= {"psi", "ks_statistic", "p_value", "missing_share_delta", "reasons"}
    assert data == report.to_dict()


def test_report_follows_the_result_protocol(frames):
    reference, same, shifted = frames
    calm, moved = detect_drift(reference, same), detect_drift(reference, shifted)
    assert (calm.exit_code, moved.exit_code) == (0, 1)
    assert [c.exit_code for c in moved.columns] == [int(c.drifted) for c in moved.columns]
    lines = moved.summary().splitlines()
    assert lines[0].endswith(
        f"drift detected ({len(moved.drifted_columns)} of 5 columns drifted, threshold 50%)"
    )
    # drifted columns first, each with its reasons
    drifted = len(moved.drifted_columns)
    assert all(line.startswith("DRIFT") for line in lines[1 : 1 + drifted])
    assert all(line.startswith("ok") for line in lines[1 + drifted : 6])
    assert "Wasserstein (normed)" in lines[1] and calm.summary().splitlines()[0].endswith(
        "no drift (0 of 5 columns drifted, threshold 50%)"
    )


def test_stats_are_usable_without_a_frame():
    # Zero shares are smoothed by epsilon: an emptied bin gives a finite, large PSI.
    assert drift_stats.psi_from_counts(np.array([5, 5]), np.array([10, 0])) > 3
    assert drift_stats.psi_from_counts(np.array([1, 3]), np.array([2, 6])) == 0.0
    categories, unseen, ref, cur = drift_stats.category_bins({"a": 2}, {"a": 1, "b": 1, "c": 3})
    assert (categories, unseen, ref.tolist(), cur.tolist()) == (["a"], ["c", "b"], [2, 0], [1, 4])
    finite, missing = drift_stats.sorted_finite(pd.Series([2.0, None, -np.inf, 1.0]))
    assert (finite.tolist(), missing) == ([1.0, 2.0], 2)
    cuts, labels = drift_stats.quantile_bins(np.arange(100.0), 4)
    counts = drift_stats.bin_counts(np.arange(100.0), cuts)
    assert len(labels) == len(counts) == 4 and counts.tolist() == [25, 25, 25, 25]


def test_drift_config_from_params_rejects_unknown_keys_and_bad_values():
    assert DriftConfig.from_dict({"psi_threshold": 0.1, "bins": 20}).bins == 20
    with pytest.raises(ConfigError, match=r"unknown keys \['psi'\]"):
        DriftConfig.from_dict({"psi": 0.1})
    with pytest.raises(ConfigError, match="p_value must be between 0 and 1"):
        DriftConfig(p_value=5)
    with pytest.raises(ConfigError, match="bins must be an integer >= 2"):
        DriftConfig(bins=1)


# --- bad input: clear errors, caller data untouched ------------------------------------------


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "c": ["a", "b", "a", None]})


def _assert_unchanged(frame: pd.DataFrame, run) -> None:
    before = frame.copy(deep=True)
    run()
    pd.testing.assert_frame_equal(frame, before)


def test_missing_file_is_an_input_error(tmp_path, small):
    def run():
        with pytest.raises(InputError, match=r"current .*nope\.csv: file not found"):
            detect_drift(small, tmp_path / "nope.csv")

    _assert_unchanged(small, run)


def test_unreadable_file_is_an_input_error(tmp_path, small):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not a parquet file at all")

    def run():
        with pytest.raises(InputError, match=r"broken\.parquet: cannot read it as parquet"):
            detect_drift(broken, small)

    _assert_unchanged(small, run)


def test_unsupported_suffix_is_an_input_error(tmp_path, small):
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported file type '\.xlsx'"):
        detect_drift(other, small)


def test_empty_frame_and_header_only_csv_are_input_errors(tmp_path, small):
    header_only = tmp_path / "empty.csv"
    header_only.write_text("x,c\n")
    blank = tmp_path / "blank.csv"
    blank.write_text("")

    def run():
        with pytest.raises(InputError, match="current DataFrame: no rows to compare"):
            detect_drift(small, small.iloc[0:0])
        with pytest.raises(InputError, match=r"empty\.csv: no rows to compare"):
            detect_drift(small, header_only)
        with pytest.raises(InputError, match=r"blank\.csv: file is empty"):
            detect_drift(blank, small)

    _assert_unchanged(small, run)


def test_no_shared_columns_is_an_input_error(small):
    other = pd.DataFrame({"prediction": [1, 0]})

    def run():
        with pytest.raises(InputError, match="no shared columns between reference DataFrame"):
            detect_drift(small, other)

    _assert_unchanged(small, run)
    _assert_unchanged(other, run)


def test_named_column_absent_is_an_input_error(small):
    current = small.drop(columns=["c"])

    def run():
        with pytest.raises(InputError, match=r"column 'c' not found in current DataFrame"):
            detect_drift(small, current, columns=["x", "c"])
        with pytest.raises(InputError, match="column 'zz' not found in reference DataFrame and"):
            detect_drift(small, current, columns=["zz"])
        with pytest.raises(InputError, match="categorical column 'zz' is not among"):
            detect_drift(small, current, categorical=["zz"])

    _assert_unchanged(small, run)
    _assert_unchanged(current, run)


def test_numeric_reference_with_text_current_is_an_input_error(small):
    current = pd.DataFrame({"x": ["1", "two", "3"], "c": ["a", "b", "a"]})

    def run():
        with pytest.raises(InputError, match="column 'x' is numeric in reference but"):
            detect_drift(small, current)

    _assert_unchanged(small, run)
    _assert_unchanged(current, run)


def test_reference_column_without_finite_values_is_an_input_error():
    ref = pd.DataFrame({"x": [np.nan, np.inf, -np.inf], "y": [1.0, 2.0, 3.0]})
    cur = pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]})

    def run():
        with pytest.raises(InputError, match="column 'x' has no finite value"):
            detect_drift(ref, cur)

    _assert_unchanged(ref, run)
    assert detect_drift(ref, cur, columns=["y"]).columns[0].name == "y"


def test_zero_variance_and_unseen_categories_leave_caller_frames_unmodified():
    ref = pd.DataFrame({"x": [2.0] * 20, "c": pd.Categorical(["a", "b"] * 10)})
    cur = pd.DataFrame({"x": [2.0, 3.0, np.nan, 2.0] * 5, "c": ["a", "zz", None, "b"] * 5})
    ref_before, cur_before = ref.copy(deep=True), cur.copy(deep=True)
    report = detect_drift(ref, cur)
    pd.testing.assert_frame_equal(ref, ref_before)
    pd.testing.assert_frame_equal(cur, cur_before)
    assert report.column("c").unseen_categories == ["zz"]
    assert math.isfinite(report.column("x").psi)


def test_datetime_columns_are_ignored_with_their_dtype():
    ref = pd.DataFrame({"x": [1.0, 2.0], "when": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    report = detect_drift(ref, ref)
    assert [c.name for c in report.columns] == ["x"]
    assert report.ignored_columns["when"].startswith("unsupported dtype datetime64")


def test_duplicated_column_names_are_an_input_error():
    ref = pd.DataFrame([[1.0, 2.0]], columns=["x", "x"])
    with pytest.raises(InputError, match=r"reference DataFrame: duplicated column names \['x'\]"):
        detect_drift(ref, pd.DataFrame({"x": [1.0]}))


def test_non_string_column_labels_are_compared_by_their_name():
    ref = pd.DataFrame({0: [1.0, 2.0, 3.0], 1: ["a", "b", "a"]})
    report = detect_drift(ref, ref.copy())
    assert [c.name for c in report.columns] == ["0", "1"]
    assert not report.drift_detected
