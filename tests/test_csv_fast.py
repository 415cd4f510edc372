"""The fast CSV writer (output/_csv.py) against its oracle, pandas' own ``to_csv``."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fifteenmin.output import _csv
from fifteenmin.output._files import FORMULA_PREFIXES, safe_text, write_csv


def _pandas(df: pd.DataFrame, float_format: str | None) -> str:
    buf = io.StringIO()
    safe_text(df).to_csv(buf, index=False, float_format=float_format, lineterminator="\n")
    return buf.getvalue()


def _fast(df: pd.DataFrame, float_format: str | None) -> str | None:
    chunks = _csv.csv_chunks(df, float_format, FORMULA_PREFIXES)
    return None if chunks is None else "".join(chunks)


TRICKY = [
    "plain",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "cr\rhere",
    "=HYPERLINK(1)",
    "+1",
    "-3",
    "@x",
    "\tTab",
    " lead space",
    "",
    "惠庄家园",
    "Community service station (residents' committee, one-stop desk)",
]


def test_tricky_frame_matches_pandas_byte_for_byte(monkeypatch):
    monkeypatch.setattr(_csv, "CHUNK_ROWS", 7)  # several chunks
    rng = np.random.default_rng(0)
    n = 60
    floats = np.array([0.0, -0.0, 1.23456, 2.5e-5, -1e12, math.inf, -math.inf, math.nan, 0.00005])
    df = pd.DataFrame(
        {
            "id": [f"way/{i % 9}" for i in range(n)],
            "name": [TRICKY[i % len(TRICKY)] for i in range(n)],
            "obj": pd.Series([None if i % 5 else TRICKY[i % 4] for i in range(n)], dtype=object),
            "minutes": floats[rng.integers(0, len(floats), n)],
            "met": rng.integers(0, 2, n).astype(bool),
            "count": rng.integers(-5, 5, n),
            "ints": pd.Series([None if i % 7 == 0 else i for i in range(n)], dtype=object),
            "s": pd.Series([None if i % 3 else TRICKY[i % 6] for i in range(n)], dtype="string"),
            'odd, "name"': np.arange(n, dtype=np.uint16),
        }
    )
    for fmt in ("%.4f", "%.2f", "%.3g", "%.1e"):
        fast = _fast(df, fmt)
        assert fast is not None
        assert fast == _pandas(df, fmt)


def test_falls_back_where_not_exact():
    mixed = pd.DataFrame({"a": pd.Series([1, 1.0, True], dtype=object), "b": [1, 2, 3]})
    assert _fast(mixed, "%.4f") is None  # 1, 1.0 and True are different cells
    assert _fast(pd.DataFrame({"a": [1.5]}), "%.4f") is None  # one column: '""' rules
    assert _fast(pd.DataFrame({"a": [1.5], "b": [1]}), None) is None
    assert _fast(pd.DataFrame({"a": [1.5], "b": [1]}), "%,.2f") is None
    nullable = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [1, 2]})
    assert _fast(nullable, "%.4f") is None


def test_empty_frame_is_its_header():
    df = pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=float)})
    assert _fast(df, "%.4f") == _pandas(df, "%.4f") == "a,b\n"


cells = st.one_of(st.none(), st.sampled_from(TRICKY), st.text(max_size=6))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(cells, st.floats(allow_nan=True, allow_infinity=True), st.booleans()),
        max_size=40,
    )
)
def test_random_frames_match_pandas(rows):
    df = pd.DataFrame(rows, columns=["text", "x", "flag"])
    df["text"] = df["text"].astype(object)
    df["x"] = df["x"].astype(float)
    df["flag"] = df["flag"].astype(bool)
    fast = _fast(df, "%.4f")
    if fast is not None:
        assert fast == _pandas(df, "%.4f")


def test_report_table_file_is_pandas_bytes(tmp_path):
    fm = pytest.importorskip("fifteenmin")
    res = fm.run_report()  # the bundled sample
    table = res.coverage.table
    assert _fast(table, "%.4f") is not None
    write_csv(tmp_path / "fast.csv", table)
    with (tmp_path / "pandas.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        safe_text(table).to_csv(fh, index=False, float_format="%.4f", lineterminator="\n")
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
