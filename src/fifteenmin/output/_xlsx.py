"""The rows of a worksheet as openpyxl's write-only mode writes them, byte for byte, faster.

openpyxl builds an element per cell and serialises it in Python (~14 µs a cell without
lxml): the two community x item matrices of a city of 27,556 communities (2.8 million
cells) took ~40 s. Here each *distinct* value of a column is turned into its cell XML once,
by the rules of openpyxl 3.1's ``etree_write_cell`` (numbers as ``"%.16g"``, booleans as
``t="b"``, text as an inline string with ``&``, ``<``, ``>`` escaped, missing values left
out), and anything those plain rules do not cover (text with surrounding spaces, control
characters, error codes such as ``#N/A``, formulas, infinities) is written by openpyxl
itself, in a small workbook of those values alone. Only the coordinates are joined per
cell. :func:`fifteenmin.output._files.write_xlsx` lets openpyxl write each sheet's header
and everything around the rows, and puts these rows in; ``tests/test_fast_writers.py`` checks
the workbook's bytes against openpyxl's own.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["sheet_rows"]

#: Text openpyxl writes as ``<is><t>text</t></is>`` after escaping ``&<>`` only.
_PLAIN = re.compile(r"[^\x00-\x1f&<>]*")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


def _plain_text(v: str) -> bool:
    if not v or v != v.strip() or len(v) > 32767 or v in _ERROR_CODES:
        return False
    return not v.startswith("=") and _PLAIN.fullmatch(v) is not None


def _suffix(v: Any) -> str | None:
    """The cell XML after ``<c r="A1"`` for value ``v`` (None: left out), if plain; else ``...``.

    ``v`` is a value as :func:`fifteenmin.output._files._cell` returns it.
    """
    if v is None:
        return ""
    if isinstance(v, bool):
        return f' t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return f' t="n"><v>{"%.16g" % v}</v></c>'  # noqa: UP031 - openpyxl's safe_string
    if isinstance(v, str) and _plain_text(v):
        return f' t="inlineStr"><is><t>{v.translate(_ESCAPES)}</t></is></c>'
    return None


def _openpyxl_suffixes(values: list[Any]) -> list[str]:
    """The cell XML openpyxl writes for each value (column A, one value a row)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    for v in values:
        ws.append([v])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        xml = z.read(ws.path.lstrip("/")).decode("utf-8")
    found = {
        int(m.group(1)): m.group(2) or ""
        for m in re.finditer(r'<row r="(\d+)"(?: />|>(.*?)</row>)', xml, re.S)
    }
    out = []
    for k in range(1, len(values) + 1):
        cell, head = found.get(k, ""), f'<c r="A{k}"'
        if cell and not cell.startswith(head):  # pragma: no cover - one cell a row
            raise RuntimeError(f"unexpected openpyxl cell XML {cell[:60]!r}")
        out.append(cell[len(head) :])
    return out


def _suffixes(values: list[Any]) -> list[str]:
    """The cell XML after the coordinate of each value (``""``: no cell)."""
    out = [_suffix(v) for v in values]
    odd = [k for k, s in enumerate(out) if s is None]
    if odd:
        for k, s in zip(odd, _openpyxl_suffixes([values[k] for k in odd]), strict=True):
            out[k] = s
    return [s or "" for s in out]


def _float_suffixes(values: list[float]) -> list[str]:
    """``_suffixes([_cell(v) for v in values])`` of Python floats, without a call per value.

    A finite value is written as :func:`_suffix` writes it (``"%.16g"``), NaN as no cell,
    and infinities by openpyxl itself.
    """
    out = [
        f' t="n"><v>{"%.16g" % v}</v></c>' if v - v == 0.0 else ("" if v != v else None)  # noqa: UP031
        for v in values
    ]
    odd = [k for k, s in enumerate(out) if s is None]
    if odd:
        for k, s in zip(odd, _suffixes([values[k] for k in odd]), strict=True):
            out[k] = s
    return [s or "" for s in out]


def _column(s: pd.Series, cell: Any, plain_floats: bool = False) -> tuple[np.ndarray, list[str]]:
    """``(codes, suffixes)`` of a column: ``suffixes[codes]`` is each row's cell XML."""
    dtype = s.dtype
    if dtype == np.float64:
        bits = np.ascontiguousarray(s.to_numpy()).view(np.int64)  # -0.0 is not 0.0 here
        codes, ubits = pd.factorize(bits, sort=False)
        uniq = np.asarray(ubits, dtype=np.int64).view(np.float64).tolist()
        if plain_floats:  # ``cell`` gives NaN as None (no cell), other floats as they are
            return codes, _float_suffixes(uniq)
        return codes, _suffixes([cell(v) for v in uniq])
    plain = isinstance(dtype, np.dtype) and dtype.kind in "biu"
    if plain or pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        codes, uniq = pd.factorize(s, use_na_sentinel=True, sort=False)
        values = [cell(v) for v in list(uniq)]
        missing = codes < 0
        nas = {(type(v), repr(v)): v for v in s[missing].unique()} if missing.any() else {}
        if len(nas) <= 1:  # None, nan or pd.NA (which openpyxl gets as the text "<NA>")
            codes = np.where(missing, len(values), codes)
            return codes, _suffixes([*values, *(cell(v) for v in nas.values())])
    # mixed objects (1, 1.0 and True would be one distinct value): cell by cell
    values = [cell(v) for v in s.tolist()]
    return np.arange(len(values)), _suffixes(values)


def sheet_rows(
    df: pd.DataFrame, lo: int, hi: int, first_row: int, cell: Any, *, plain_floats: bool = False
) -> bytes:
    """The ``<row>`` elements of rows ``lo:hi`` of ``df``, numbered from ``first_row``.

    ``cell`` converts a value as openpyxl gets it (:func:`fifteenmin.output._files._cell`).
    The text is openpyxl's for ``ws.append([cell(v) for v in row])`` of each row.
    ``plain_floats``: ``cell`` returns a float as it is and NaN as None (as ``_cell`` does),
    so float columns are written without calling it.

    Examples
    --------
    >>> from fifteenmin.output._files import _cell
    >>> sheet_rows(pd.DataFrame({"a": ["x&y"], "b": [1.5]}), 0, 1, 7, _cell).decode()[:58]
    '<row r="7"><c r="A7" t="inlineStr"><is><t>x&amp;y</t></is>'
    """
    from openpyxl.utils import get_column_letter

    part = df.iloc[lo:hi]
    numbers = [str(r) for r in range(first_row, first_row + len(part))]
    cells = []
    for k in range(part.shape[1]):
        codes, suffixes = _column(part.iloc[:, k], cell, plain_floats)
        quoted = ['"' + t if t else "" for t in suffixes]  # once per distinct value
        table = np.array(quoted, dtype=object)[codes].tolist()
        head = f'<c r="{get_column_letter(k + 1)}'
        cells.append([head + r + t if t else "" for r, t in zip(numbers, table, strict=True)])
    opens = [f'<row r="{r}">' for r in numbers]
    rows = map("".join, zip(opens, *cells, ["</row>"] * len(part), strict=True))
    return "".join(rows).encode("utf-8")
