"""The fast CSV and XLSX writers (output/_csv.py, _xlsx.py) against pandas and openpyxl."""

from __future__ import annotations

import io
import math
import zipfile

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
    raw = _csv.csv_bytes(df, float_format, FORMULA_PREFIXES)  # what write_csv writes
    if chunks is None:
        assert raw is None
        return None
    text = "".join(chunks)
    assert raw is not None and b"".join(raw) == text.encode("utf-8")
    return text


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


def _openpyxl_rows(
    df: pd.DataFrame, lo: int, hi: int, first_row: int, cell, plain_floats: bool = False
) -> bytes:
    """The oracle: the rows as openpyxl's write-only mode writes them, row by row."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    for _ in range(first_row - 1):
        ws.append(["pad"])
    for row in df.iloc[lo:hi].itertuples(index=False):
        ws.append([cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        xml = z.read(ws.path.lstrip("/"))
    start = xml.index(f'<row r="{first_row}"'.encode()) if hi > lo else xml.index(b"</sheetData>")
    return xml[start : xml.index(b"</sheetData>")]


XLSX_TRICKY = [*TRICKY, "#N/A", "=1+2", "a & <b>", "tab\tin", "  ", None, "é" * 40000]


def _xlsx_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    floats = np.array([0.0, -0.0, 1 / 3, 1e20, 123456789.123, -2.5, math.inf, math.nan])
    return pd.DataFrame(
        {
            "id": [f"way/{i % 5}" for i in range(n)],
            "text": pd.Series([XLSX_TRICKY[i % len(XLSX_TRICKY)] for i in range(n)], dtype=object),
            "x": floats[rng.integers(0, len(floats), n)],
            "flag": rng.integers(0, 2, n).astype(bool),
            "k": rng.integers(-3, 3, n),
            "mixed": pd.Series([[1, 1.0, True, "1", None][i % 5] for i in range(n)], dtype=object),
            "empty": pd.Series([None] * n, dtype=object),
            "s": pd.Series([None if i % 3 else f"s{i % 4}" for i in range(n)], dtype="string"),
        }
    )


def test_sheet_rows_are_openpyxl_bytes():
    from fifteenmin.output._files import _cell
    from fifteenmin.output._xlsx import sheet_rows

    df = safe_text(_xlsx_frame(50))
    assert sheet_rows(df, 0, 50, 2, _cell) == _openpyxl_rows(df, 0, 50, 2, _cell)
    assert sheet_rows(df, 7, 31, 2, _cell) == _openpyxl_rows(df, 7, 31, 2, _cell)
    none_row = pd.DataFrame({"a": [None, "x"], "b": [math.nan, 1.0]})
    assert sheet_rows(none_row, 0, 2, 2, _cell) == _openpyxl_rows(none_row, 0, 2, 2, _cell)
    assert sheet_rows(df, 3, 3, 2, _cell) == b""
    # float columns written without a call of _cell per value: the same bytes
    floats = pd.DataFrame(
        {"f": [1.5, -0.0, math.nan, math.inf, -math.inf, 1 / 3, 1e300, 5e-324, 2.0, 1.5]}
    )
    for frame in (df, none_row, floats):
        n = len(frame)
        expect = _openpyxl_rows(frame, 0, n, 2, _cell)
        assert sheet_rows(frame, 0, n, 2, _cell, plain_floats=True) == expect


def test_workbook_is_openpyxl_bytes(tmp_path, monkeypatch):
    from fifteenmin.output import _files, _xlsx
    from fifteenmin.output._files import write_xlsx

    sheets = {"t": _xlsx_frame(30), "m": pd.DataFrame({"a": ["=x", "y"], "b": [1.5, 2.0]})}
    monkeypatch.setattr(_files, "XLSX_MAX_ROWS", 12)  # "t" continues on "t (2)", "t (3)"
    monkeypatch.setattr(_files, "XLSX_ROW_BLOCK", 5)  # each sheet's rows made in blocks
    write_xlsx(tmp_path / "fast.xlsx", sheets, [("attribution", "x")])
    monkeypatch.setattr(_xlsx, "sheet_rows", _openpyxl_rows)
    write_xlsx(tmp_path / "openpyxl.xlsx", sheets, [("attribution", "x")])
    fast = (tmp_path / "fast.xlsx").read_bytes()
    assert fast == (tmp_path / "openpyxl.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "fast.xlsx") as z:
        assert len([n for n in z.namelist() if n.startswith("xl/worksheets/")]) == 5


def test_illegal_text_fails_as_in_openpyxl():
    from openpyxl.utils.exceptions import IllegalCharacterError

    from fifteenmin.output._files import _cell
    from fifteenmin.output._xlsx import sheet_rows

    df = pd.DataFrame({"a": ["ok", "x\x01y"], "b": [1, 2]})
    with pytest.raises(IllegalCharacterError):
        _openpyxl_rows(df, 0, 2, 2, _cell)
    with pytest.raises(IllegalCharacterError):
        sheet_rows(df, 0, 2, 2, _cell)


def test_two_lanes_keep_order_and_clean_up_on_failure(tmp_path):
    from fifteenmin.output.report_files import _stage_all

    def text(s):
        return lambda p: p.write_text(s)

    writers = {
        "a.txt": text("a"),
        "communities.gpkg": text("g"),
        "b.txt": text("b"),
        "report.html": text("h"),
    }
    staged = _stage_all(tmp_path, writers)
    assert [final.name for _, final in staged] == list(writers)
    assert [tmp.read_text() for tmp, _ in staged] == ["a", "g", "b", "h"]
    for tmp, _ in staged:
        tmp.unlink()

    def boom(p):
        raise ValueError("the page failed")

    with pytest.raises(ValueError, match="the page failed"):
        _stage_all(tmp_path, {**writers, "report.html": boom})
    assert list(tmp_path.iterdir()) == []  # nothing staged is left behind

    # a file made on the caller's thread meanwhile: staged last
    staged = _stage_all(tmp_path, {"a.txt": text("a")}, ("late.html", lambda: b"page"))
    assert [(tmp.read_bytes(), final.name) for tmp, final in staged] == [
        (b"a", "a.txt"),
        (b"page", "late.html"),
    ]
    for tmp, _ in staged:
        tmp.unlink()

    def no_page():
        raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError, match="rendering failed"):
        _stage_all(tmp_path, writers, ("late.html", no_page))
    assert list(tmp_path.iterdir()) == []


def test_safe_text_maps_each_value_as_before():
    from fifteenmin.output._files import _safe_text_value

    frames = [
        pd.DataFrame({"a": pd.Series(TRICKY * 3, dtype=object), "n": range(len(TRICKY) * 3)}),
        pd.DataFrame({"a": pd.Series([None, "=1", None, "x"], dtype=object)}),
        pd.DataFrame({"a": pd.Series([math.nan, "-2", "y", math.nan], dtype="string")}),
        pd.DataFrame({"a": pd.Series(["=1", math.nan, None], dtype=object)}),  # two kinds
        pd.DataFrame({"a": pd.Series([1, None, 2], dtype=object)}),  # numbers: as before
        pd.DataFrame({"a": pd.Series([], dtype=object)}),
    ]
    for df in frames:
        fast = safe_text(df)
        slow = df.copy()
        for col in slow.columns:
            if slow[col].dtype == object or str(slow[col].dtype) in ("string", "str"):
                slow[col] = slow[col].map(_safe_text_value)
        pd.testing.assert_frame_equal(fast, slow)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=8),
            st.sampled_from(["\\u793e", "\\ud83d\\ude00", "\\ud800", "&#x533a;", "&#20013;"]),
            st.sampled_from(["社", "区", "😀", "\u2e80", "\u2e7f", "\ud800"]),
        ),
        max_size=20,
    )
)
def test_cjk_characters_as_the_plain_definition(parts):
    from fifteenmin.output import fonts

    text = "".join(parts)
    unescaped = fonts._ESCAPED.sub(fonts._unescape, text)  # the definition, character by character
    chars = {c for c in text + unescaped if ord(c) >= fonts._FIRST_CJK}
    assert fonts.cjk_characters(text) == "".join(sorted(chars))
