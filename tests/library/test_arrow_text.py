"""arrow_text gives exactly what pandas gives (and so what Great Expectations sees), on the
pyarrow path it takes for plain ASCII text and on every case it hands back to pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlops_common.validation import arrow_text, lean_stats

PATTERNS = [
    r"^K\d-\d{4}$",
    r"\d$",
    r"^a",
    r"b|c",
    r"(ab)+",
    r"[^a-z]",
    r"\w+\b",
    r"\s",  # RE2 and Python disagree on "\x0b": pandas' business
    r"a(?=b)",  # lookahead: Python only
    r"(a)\1",  # backreference: Python only
    r"(?i)ab",  # inline flag
    r"ab\Z",  # pandas rewrites \Z for RE2
    r"\u00e9",  # unicode escape
    r"x{,2}y",  # RE2 reads {,2} literally: pandas takes RE2 here too
    r".",
    "",
]

TEXTS = {
    "ascii": ["K0-1234", "K0-12x4", "ab", "abab", "a b", "x\x0by", "", "Kx", "aab", "AB"],
    "non-ascii": ["é", "K0-1234", "ab", "ü1"],
    "newline": ["ab\n", "K0-1234\n", "a", "b\nc"],
    "nulls": ["ab", None, "K0-1234", None, "abab"],
}


def _columns() -> dict[str, pd.Series]:
    columns = {}
    for name, values in TEXTS.items():
        columns[f"{name} str"] = pd.Series(values, dtype="str")
        columns[f"{name} string[pyarrow]"] = pd.Series(values, dtype="string[pyarrow]")
        columns[f"{name} object"] = pd.Series(values, dtype=object)
    ascii_values = TEXTS["ascii"]
    # Several chunks, a sliced chunk, and 32-bit offsets.
    chunked = pa.chunked_array([pa.array(ascii_values[:4]), pa.array(ascii_values)[2:]])
    columns["chunked"] = pd.Series(pd.arrays.ArrowStringArray(chunked))
    columns["sliced"] = pd.Series(ascii_values * 3, dtype="str").iloc[5:17].reset_index(drop=True)
    columns["empty"] = pd.Series([], dtype="str")
    columns["all null"] = pd.Series([None] * 6, dtype="str")
    nulls_chunk = pa.chunked_array([pa.array(ascii_values), pa.array([None, None], pa.string())])
    columns["a chunk of nulls"] = pd.Series(pd.arrays.ArrowStringArray(nulls_chunk))
    return columns


@pytest.mark.filterwarnings("ignore:This pattern is interpreted as a regular expression")
@pytest.mark.parametrize("per_distinct", [False, True], ids=["per value", "per distinct value"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_contains_is_pandas_str_contains(pattern, per_distinct, monkeypatch):
    if per_distinct:  # a probe of one row sends even these short columns down that path
        monkeypatch.setattr(arrow_text, "CARDINALITY_PROBE", 1)
        monkeypatch.setattr(arrow_text, "FEW_DISTINCT", 1.0)
    for name, column in _columns().items():
        expected = column.str.contains(pattern).to_numpy(dtype=bool, na_value=False)
        found = arrow_text.contains(column, pattern)
        assert found.dtype == bool and found.tolist() == expected.tolist(), name


def test_cardinality_probe_picks_the_path():
    rng = np.random.default_rng(3)
    rows = 8 * arrow_text.CARDINALITY_PROBE
    codes = pd.Series(rng.choice([f"K-{i}" for i in range(500)], rows), dtype="str")
    ids = pd.Series([f"id-{i}" for i in range(rows)], dtype="str")
    seen = []

    def answer(values):
        seen.append(len(values))
        return np.ones(len(values), dtype=bool)

    for column in (codes, ids):
        found = arrow_text._per_distinct(column.array.__arrow_array__(), answer)
        assert found.all() and len(found) == rows
    assert seen == [500, rows]  # codes once per distinct value, ids row by row


def test_plain_ascii_text_takes_the_pyarrow_path_and_the_rest_goes_to_pandas(monkeypatch):
    from pandas.core.strings.accessor import StringMethods

    calls = []
    original = StringMethods.contains

    def contains(self, *args, **kwargs):
        calls.append(self._orig.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StringMethods, "contains", contains)
    ascii_column = pd.Series(TEXTS["ascii"], dtype="str", name="ascii")
    arrow_text.contains(ascii_column, r"^K\d-\d{4}$")
    assert calls == []
    arrow_text.contains(pd.Series(TEXTS["non-ascii"], dtype="str", name="non-ascii"), r"\d")
    arrow_text.contains(pd.Series(TEXTS["newline"], dtype="str", name="newline"), r"b$")
    arrow_text.contains(ascii_column, r"a(?=b)")
    assert calls == ["non-ascii", "newline", "ascii"]


@pytest.mark.parametrize(
    "value_set",
    [["ab", "K0-1234"], ["é"], ["nothing"], ["ab", 3], [None, "ab"], [np.nan, "ab"], []],
)
def test_isin_is_pandas_isin(value_set):
    for name, column in _columns().items():
        expected = column.isin(value_set).to_numpy(dtype=bool)
        assert arrow_text.isin(column, value_set).tolist() == expected.tolist(), name


def test_median_is_pandas_median_on_the_band_and_on_the_fallback():
    rng = np.random.default_rng(1)
    size = 8 * lean_stats.MEDIAN_SAMPLE
    columns = {
        "normal": rng.normal(100, 15, size),
        "odd count": rng.normal(size=size + 1),
        "ordered": np.sort(rng.normal(size=size)),
        "reversed": np.sort(rng.normal(size=size))[::-1].copy(),
        "integers": rng.integers(0, 1000, size),
        "huge integers": rng.integers(2**60, 2**62, size + 1),
        "ties": rng.integers(0, 3, size).astype(float),
        "half null": np.where(rng.random(size) < 0.5, np.nan, rng.normal(size=size)),
        "mostly null": np.where(rng.random(size) < 0.97, np.nan, rng.normal(size=size)),
        "infinities": np.concatenate(
            [np.full(size, np.inf), np.full(size, -np.inf), rng.normal(size=3)]
        ),
        # A period equal to the sample stride: the sample sees one value, the band misses.
        "periodic": np.tile(np.arange(8.0), size),
        "all null": np.full(size, np.nan),
        "short": rng.normal(size=11),
    }
    for name, values in columns.items():
        expected = pd.Series(values).median()
        found = lean_stats.median(values)
        assert found == expected or (np.isnan(found) and np.isnan(expected)), name
