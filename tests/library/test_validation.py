"""mlops_common.validation without Great Expectations: suites, the fast path, bad input, CLI."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mlops_common.cli import app
from mlops_common.errors import InputError, SuiteError
from mlops_common.validation import load_suite, validate


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "amount": [10.0, 20.5, np.nan, 99.0, 42.0],
            "segment": ["retail", "b2b", "retail", None, "online"],
        }
    )


def suite_dict(*expectations: dict) -> dict:
    return {"name": "orders", "expectations": list(expectations)}


NOT_NULL_ID = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}


def run_unmodified(data, suite, **kwargs):
    """validate(), asserting the caller's DataFrame is left exactly as it was."""
    before = copy.deepcopy(data)
    try:
        return validate(data, suite, **kwargs)
    finally:
        if isinstance(data, pd.DataFrame):
            pd.testing.assert_frame_equal(data, before)


# -- suites -------------------------------------------------------------------------------


def test_load_suite_reads_ge1_json_file(tmp_path):
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite_dict(NOT_NULL_ID) | {"meta": {"owner": "data"}}))
    suite = load_suite(path)
    assert suite.name == "orders"
    assert suite.expectations[0].type == "expect_column_values_to_not_be_null"
    assert suite.meta == {"owner": "data"}


def test_load_suite_accepts_legacy_ge0_keys():
    legacy = {
        "expectation_suite_name": "legacy",
        "expectations": [
            {
                "expectation_type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "segment", "value_set": ["retail"], "result_format": "BASIC"},
                "meta": {},
            }
        ],
        "data_asset_type": "Dataset",
    }
    suite = load_suite(legacy)
    assert (suite.name, suite.expectations[0].type) == (
        "legacy",
        "expect_column_values_to_be_in_set",
    )
    result = run_unmodified(frame(), legacy)
    assert result.results[0].partial_unexpected_list == ["b2b", "online"]  # null ignored


def test_malformed_suite_json_raises_suite_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x", "expectations": [')
    df = frame()
    with pytest.raises(SuiteError, match=r"broken\.json: not valid JSON"):
        run_unmodified(df, path)


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        ({"expectations": []}, "missing suite 'name'"),
        ({"name": "x", "expectations": {}}, "'expectations' must be a list"),
        ({"name": "x", "expectations": [{"kwargs": {}}]}, r"expectations\[0\] has no 'type'"),
        ({"name": "x", "expectations": [{"type": "t", "kwargs": []}]}, "must be JSON objects"),
    ],
)
def test_structurally_wrong_suite_raises_suite_error(suite, message):
    with pytest.raises(SuiteError, match=message):
        run_unmodified(frame(), suite)


def test_missing_suite_file_raises_suite_error(tmp_path):
    with pytest.raises(SuiteError, match="suite file not found"):
        run_unmodified(frame(), tmp_path / "nope.json")


def test_bad_mostly_raises_suite_error():
    bad = {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id", "mostly": 2}}
    with pytest.raises(SuiteError, match="'mostly' must be a number from 0 to 1"):
        run_unmodified(frame(), suite_dict(bad))


def test_fast_engine_refuses_expectations_it_cannot_run_without_great_expectations():
    other = {
        "type": "expect_column_kl_divergence_to_be_less_than",
        "kwargs": {
            "column": "amount",
            "partition_object": {"bins": [0, 1], "weights": [1.0]},
            "threshold": {"$PARAMETER": "max_divergence"},  # suite parameters are GE's
        },
    }
    with pytest.raises(SuiteError, match='not on the fast path; use engine="auto"'):
        run_unmodified(frame(), suite_dict(NOT_NULL_ID, other), engine="fast")


# -- data ---------------------------------------------------------------------------------


def test_missing_data_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match=r"missing\.csv: file not found"):
        validate(tmp_path / "missing.csv", suite_dict(NOT_NULL_ID))


def test_unreadable_csv_raises_input_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'id,amount\n1,"unterminated\n2,3,4,5\n\xff\xfe')
    with pytest.raises(InputError, match=r"bad\.csv: cannot read it as csv"):
        validate(path, suite_dict(NOT_NULL_ID))


def test_empty_csv_file_raises_input_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputError, match=r"empty\.csv: file is empty"):
        validate(path, suite_dict(NOT_NULL_ID))


def test_frame_without_rows_raises_input_error():
    df = frame().iloc[0:0]
    with pytest.raises(InputError, match="no rows to validate"):
        run_unmodified(df, suite_dict(NOT_NULL_ID))


def test_reads_csv_parquet_and_json_lines_alike(tmp_path):
    df = frame()
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    df.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    suite = suite_dict(
        NOT_NULL_ID,
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}},
    )
    for name in ("d.csv", "d.parquet", "d.jsonl"):
        result = validate(tmp_path / name, suite)
        assert result.data_source == str(tmp_path / name)
        assert result.row_count == 5
        assert [o.unexpected_count for o in result.results] == [0, 1], name


# -- semantics ----------------------------------------------------------------------------


def test_absent_column_fails_that_expectation_like_great_expectations():
    suite = suite_dict(
        NOT_NULL_ID, {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "ghost"}}
    )
    result = run_unmodified(frame(), suite)
    ok, ghost = result.results
    assert ok.success and not result.success
    assert not ghost.success
    assert ghost.exception_message == 'Error: The column "ghost" in BatchData does not exist.'


def test_nan_is_ignored_and_inf_is_unexpected_in_between_like_great_expectations():
    df = pd.DataFrame({"x": [1.0, np.nan, np.inf, -np.inf, 5.0]})
    between = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "x", "min_value": 0, "max_value": 10},
    }
    outcome = run_unmodified(df, suite_dict(between)).results[0]
    assert outcome.unexpected_count == 2
    assert outcome.unexpected_percent == 50.0  # of the 4 non-null values
    assert outcome.element_count == 5
    assert outcome.partial_unexpected_list == [np.inf, -np.inf]


def test_mostly_tolerates_a_share_of_unexpected_values():
    kwargs = {"column": "amount", "min_value": 0, "max_value": 50}
    strict = {"type": "expect_column_values_to_be_between", "kwargs": kwargs}
    lenient = {"type": "expect_column_values_to_be_between", "kwargs": kwargs | {"mostly": 0.75}}
    result = run_unmodified(frame(), suite_dict(strict, lenient))
    assert [o.success for o in result.results] == [False, True]  # 1 of 4 non-null is out


def test_not_null_percent_is_over_all_rows():
    outcome = run_unmodified(
        frame(),
        suite_dict(
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "segment"}}
        ),
    ).results[0]
    assert (outcome.unexpected_count, outcome.unexpected_percent) == (1, 20.0)


def test_sample_size_caps_partial_unexpected_list():
    df = pd.DataFrame({"x": list(range(100))})
    between = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "x", "max_value": 9},
    }
    outcome = run_unmodified(df, suite_dict(between), sample_size=3).results[0]
    assert outcome.unexpected_count == 90
    assert outcome.partial_unexpected_list == [10, 11, 12]


# What GE 1.24 answers for a text column on pandas 2, where its dtype is object (measured with
# real GE on pandas 2.3: `nox -s feast` runs this file there): (of_type, in_type_list).
PANDAS2_OBJECT_TEXT = {"str": (True, True), "object": (True, False), "string": (False, False)}


@pytest.mark.parametrize("type_name", ["str", "object", "string"])
def test_text_column_passes_str_object_and_string_types(type_name):
    """pandas 3 text columns have dtype `str` and pass all three names (documented divergence
    from GE 1.24, which accepts only "str": suites written for pandas 2 said "object" or
    "string"). On pandas 2 the column is object dtype and the fast path answers as GE does."""
    df = pd.DataFrame({"s": ["a", "b", None]})
    suite = suite_dict(
        {
            "type": "expect_column_values_to_be_of_type",
            "kwargs": {"column": "s", "type_": type_name},
        },
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "s", "type_list": [type_name, "int"]},
        },
    )
    outcomes = tuple(outcome.success for outcome in run_unmodified(df, suite).results)
    if df["s"].dtype == object:  # pandas 2
        assert outcomes == PANDAS2_OBJECT_TEXT[type_name]
    else:
        assert outcomes == (True, True)


def test_wrong_dtype_fails_type_expectation_with_observed_dtype():
    type_check = {
        "type": "expect_column_values_to_be_of_type",
        "kwargs": {"column": "amount", "type_": "int"},
    }
    outcome = run_unmodified(frame(), suite_dict(type_check)).results[0]
    assert (outcome.success, outcome.observed_value) == (False, "float64")


def test_fast_path_does_not_import_great_expectations():
    import subprocess

    code = (
        "import sys, pandas as pd\n"
        "from mlops_common.validation import validate\n"
        "suite = {'name': 's', 'expectations': [\n"
        "  {'type': 'expect_column_values_to_be_unique', 'kwargs': {'column': 'id'}},\n"
        "  {'type': 'expect_compound_columns_to_be_unique', 'kwargs': {'column_list': ['id']}}]}\n"
        "assert validate(pd.DataFrame({'id': [1, 2]}), suite).success\n"
        "print('great_expectations' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_result_to_json_creates_parent_folders_and_is_plain_json(tmp_path):
    df = pd.DataFrame({"x": [1.0, np.inf, np.nan]})
    between = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "x", "max_value": 2},
    }
    result = run_unmodified(df, suite_dict(between))
    target = result.to_json(tmp_path / "reports" / "deep" / "validation.json")
    data = json.loads(target.read_text())  # strict JSON: no NaN/Infinity literals
    assert data["success"] is False
    assert data["results"][0]["partial_unexpected_list"] == ["inf"]
    assert data["statistics"]["unsuccessful_expectations"] == 1


PASSING = {"type": "expect_column_to_exist", "kwargs": {"column": "id"}}
FAILING = {
    "type": "expect_column_values_to_be_between",
    "kwargs": {"column": "amount", "min_value": 0, "max_value": 50},
}


def test_summary_is_one_verdict_line_plus_each_failure_with_observed_against_expected():
    result = run_unmodified(frame(), suite_dict(PASSING, FAILING))
    assert result.exit_code == 1
    assert [o.exit_code for o in result.results] == [0, 1]
    assert result.summary().splitlines() == [
        "suite orders on <DataFrame>: FAILED, 1 of 2 expectations failed (5 rows)",
        "FAIL  expect_column_values_to_be_between  amount: 1 unexpected (25.0%), e.g. 99; "
        "expected min_value=0, max_value=50",
    ]
    assert run_unmodified(frame(), suite_dict(PASSING)).exit_code == 0


def test_summary_on_a_terminal_counts_the_passes_and_verbose_lists_them():
    result = run_unmodified(frame(), suite_dict(PASSING, FAILING))
    terminal = result.shown(terminal=True).summary().splitlines()
    assert terminal[-1] == "1 passed (2 fast); --verbose lists them, --json gives every field"
    verbose = result.shown(verbose=True).summary().splitlines()
    assert verbose[1].startswith("FAIL") and verbose[2] == "ok    expect_column_to_exist  id"
    assert result.shown(verbose=True).to_dict() == result.to_dict()  # the JSON is unchanged


def test_summary_samples_at_most_five_offending_values():
    df = pd.DataFrame({"code": [f"x{i}" for i in range(30)]})
    regex = {
        "type": "expect_column_values_to_match_regex",
        "kwargs": {"column": "code", "regex": "^A"},
    }
    line = run_unmodified(df, suite_dict(regex)).summary().splitlines()[1]
    assert (
        "30 unexpected (100.0%), e.g. 'x0', 'x1', 'x2', 'x3', 'x4', ...; expected regex='^A'"
        in line
    )


def test_cli_prints_failures_only_and_every_row_with_verbose(tmp_path):
    data, suite = tmp_path / "orders.csv", tmp_path / "suite.json"
    frame().to_csv(data, index=False)
    suite.write_text(json.dumps(suite_dict(PASSING, FAILING)))
    quiet = CliRunner().invoke(app, ["validate", str(suite), str(data)])
    assert quiet.exit_code == 1
    assert len(quiet.stdout.splitlines()) == 2 and "expected min_value=0" in quiet.stdout
    loud = CliRunner().invoke(app, ["validate", str(suite), str(data), "--verbose"])
    assert loud.exit_code == 1
    assert "ok    expect_column_to_exist  id" in loud.stdout.splitlines()


def test_each_fast_check_is_declared_once():
    from mlops_common.validation.fast import FAST_CHECKS, FAST_EXPECTATIONS, register_fast_check

    assert dict(FAST_EXPECTATIONS) == {t: check.kwargs for t, check in FAST_CHECKS.items()}
    with pytest.raises(ValueError, match="already has a fast check"):
        register_fast_check("expect_column_to_exist", {"column"})(lambda *args: None)


# -- CLI ----------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    data = tmp_path / "data.csv"
    frame().to_csv(data, index=False)
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(suite_dict(NOT_NULL_ID)))
    return suite, data


def test_cli_validate_exits_zero_and_writes_output_when_suite_passes(files, tmp_path):
    suite, data = files
    out = tmp_path / "out" / "result.json"
    result = CliRunner().invoke(app, ["validate", str(suite), str(data), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "passed" in result.output
    assert json.loads(out.read_text())["success"] is True


def test_cli_validate_exits_one_when_an_expectation_fails(files):
    suite, data = files
    suite.write_text(
        json.dumps(
            suite_dict(
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}}
            )
        )
    )
    result = CliRunner().invoke(app, ["validate", str(suite), str(data), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["results"][0]["unexpected_count"] == 1


def test_cli_validate_exits_two_with_one_line_on_bad_input(files, tmp_path):
    import subprocess

    suite, _ = files
    missing = tmp_path / "nope.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlops_common.cli import main; main()",
            "validate",
            str(suite),
            str(missing),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"error: data {missing}: file not found; check the path (or `dvc pull`)"
    )
