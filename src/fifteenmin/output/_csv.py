"""A fast CSV writer that gives the bytes of ``pandas.DataFrame.to_csv``, byte for byte.

pandas formats every cell in Python (``float_format % x``, then the ``csv`` module), about
7 µs per row of ``coverage.csv`` (12 columns): 10 s for the 1.4 million rows of a city of
27,556 communities. Report tables repeat their values (item names, tiers, statuses, the
community's id and name on each of its ~50 rows), so here every column is formatted once per
distinct value (:func:`pandas.factorize`), neighbouring columns with few distinct pairs are
merged into one field list, and only the rows' ``",".join`` remains per row.

The formatting of each distinct value is pandas' and the ``csv`` module's own: a float with
``float_format % x``, a missing value as ``""``, anything else written by a ``csv.writer``
with pandas' settings (minimal quoting, ``"`` doubled), so quoting is the standard library's
exactly. Frames this writer does not handle exactly (other dtypes, mixed object columns, a
single column, duplicate or non-text column names, no ``float_format``) return None, and the
caller uses pandas. ``tests/test_fast_writers.py`` checks the bytes against ``to_csv``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .._kernel_jit import HAVE_NUMBA, njit

__all__ = ["csv_bytes", "csv_chunks"]

#: Rows formatted and encoded at a time (bounds the memory of the text of a large table).
CHUNK_ROWS = 100_000

#: Two neighbouring fields are merged into one when they have at most this many distinct
#: pairs per row of the table (then the pair is formatted once and joined once per row).
MERGE_SHARE = 0.125


class _Rows:
    """A file object that keeps what a ``csv.writer`` writes, one string per row."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    def write(self, text: str) -> int:
        self.rows.append(text)
        return len(text)


def _quoted(values: list[Any]) -> list[str]:
    """Each value as the ``csv`` module writes it as a field (pandas' dialect), no separator."""
    sink = _Rows()
    writer = csv.writer(sink, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, quotechar='"')
    for v in values:
        writer.writerow([v, ""])  # two fields: an empty value is never quoted
    return [row[:-2] for row in sink.rows]  # without ",\n"


def _safe(v: Any, prefixes: tuple[str, ...]) -> Any:
    return "'" + v if isinstance(v, str) and v.startswith(prefixes) else v


def _column(
    s: pd.Series, float_format: str, prefixes: tuple[str, ...]
) -> tuple[np.ndarray, list[str]] | None:
    """``(codes, fields)`` of one column (``fields[codes]`` are its cells), or None."""
    dtype = s.dtype
    if dtype == np.float64:
        return _floats(s.to_numpy(), float_format)
    if dtype == np.bool_ or (dtype.kind in "iu" and isinstance(dtype, np.dtype)):
        codes, uniq = pd.factorize(s.to_numpy(), sort=False)
        return codes, [str(x) for x in uniq.tolist()]
    is_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if not (is_object or str(dtype) in ("string", "str")):
        return None
    if is_object and pd.api.types.infer_dtype(s, skipna=True) not in (
        "string",
        "integer",
        "empty",
    ):
        return None  # mixed objects: 1, 1.0 and True would be one distinct value
    codes, uniq = pd.factorize(s, use_na_sentinel=True, sort=False)
    codes = np.asarray(codes, dtype=np.int64)
    values = list(uniq)
    missing = codes < 0
    if missing.any():  # the kinds of missing value present (None, nan, pd.NA) decide the dtype
        nas = {(type(v), repr(v)): v for v in s[missing].unique()}
        codes = np.where(missing, len(values), codes)
        if len(nas) > 1:
            return None
        values += list(nas.values())
    # safe_text maps the column: its values, and the dtype pandas infers from their types
    mapped = pd.Series(values, dtype=dtype).map(lambda v: _safe(v, prefixes))
    if mapped.dtype == np.float64:  # integers with missing values: pandas writes floats
        sub, fields = _floats(mapped.to_numpy(), float_format)
        return sub[codes], fields
    out = mapped.tolist()
    return codes, _quoted(["" if pd.isna(v) else v for v in out])


def _floats(values: np.ndarray, float_format: str) -> tuple[np.ndarray, list[str]]:
    """``(codes, fields)`` of float64 values: ``float_format % x``, missing as ``""``."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)  # -0.0 is not 0.0
    codes, ubits = pd.factorize(bits, sort=False)
    uniq = np.asarray(ubits, dtype=np.int64).view(np.float64)
    return codes, ["" if x != x else float_format % x for x in uniq.tolist()]


def _merge(
    a: tuple[np.ndarray, list[str]], b: tuple[np.ndarray, list[str]], limit: int
) -> tuple[np.ndarray, list[str]] | None:
    """One field list for two neighbouring columns if they have few distinct pairs."""
    if len(a[1]) * len(b[1]) > limit and (len(a[1]) > limit or len(b[1]) > limit):
        return None
    pair = a[0].astype(np.int64) * len(b[1]) + b[0]
    codes, upair = pd.factorize(pair, sort=False)
    if len(upair) > limit:
        return None
    codes = _small(codes)
    fa, fb = a[1], b[1]
    nb = len(fb)
    return codes, [f"{fa[p // nb]},{fb[p % nb]}" for p in upair.tolist()]


def _small(codes: np.ndarray) -> np.ndarray:
    """Codes as int32 (half the memory of a long table's int64 codes; the same values)."""
    return codes.astype(np.int32) if len(codes) and codes.max() < 2**31 - 1 else codes


def csv_bytes(
    df: pd.DataFrame, float_format: str | None, prefixes: tuple[str, ...]
) -> Iterator[bytes] | None:
    """:func:`csv_chunks` encoded as UTF-8; the rows joined by a compiled loop (numba).

    The same bytes as ``"".join(csv_chunks(...)).encode("utf-8")``: each distinct field is
    encoded once and the rows' bytes are copied together from them.
    """
    parts = _fields(df, float_format, prefixes)
    if parts is None:
        return None
    header, fields = parts
    if not HAVE_NUMBA:
        return (text.encode("utf-8") for text in _chunks(header, fields, len(df)))
    return _byte_chunks(header, fields, len(df))


def _byte_chunks(
    header: str, fields: list[tuple[np.ndarray, list[str]]], n: int
) -> Iterator[bytes]:
    yield header.encode("utf-8")
    encoded = [[f.encode("utf-8") for f in table] for _, table in fields]
    lens = [np.array([len(b) for b in e], dtype=np.int64) for e in encoded]
    blob = np.frombuffer(b"".join(b"".join(e) for e in encoded), dtype=np.uint8)
    # field k's value j is blob[all_offs[base[k] + j]:all_offs[base[k] + j + 1]]
    offs: list[np.ndarray] = []
    base = np.zeros(len(fields), dtype=np.int64)
    start, count = 0, 0
    for k, ln in enumerate(lens):
        base[k] = count
        o = np.zeros(len(ln) + 1, dtype=np.int64)
        np.cumsum(ln, out=o[1:])
        offs.append(o + start)
        start += int(o[-1])
        count += len(o)
    all_offs = np.concatenate(offs)
    for lo in range(0, n, CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, n)
        codes = np.stack([c[lo:hi].astype(np.int64) for c, _ in fields])
        size = 0
        for ln, c in zip(lens, codes, strict=True):
            size += int(ln[c].sum())
        out = np.empty(size + (hi - lo) * len(fields), dtype=np.uint8)
        _join_rows(codes, base, all_offs, blob, out)
        yield out.tobytes()


@njit(cache=True, nogil=True, boundscheck=False)
def _join_rows(
    codes: np.ndarray, base: np.ndarray, offs: np.ndarray, blob: np.ndarray, out: np.ndarray
) -> None:
    """Each row's fields joined by commas, and a newline, into ``out``.

    Field ``k`` of row ``r`` is ``blob[offs[j]:offs[j + 1]]`` with ``j = base[k] + codes[k, r]``.
    """
    n_f, n = codes.shape
    pos = 0
    for r in range(n):
        for k in range(n_f):
            j = base[k] + codes[k, r]
            for q in range(offs[j], offs[j + 1]):
                out[pos] = blob[q]
                pos += 1
            out[pos] = 44 if k < n_f - 1 else 10  # "," or "\n"
            pos += 1


def csv_chunks(
    df: pd.DataFrame, float_format: str | None, prefixes: tuple[str, ...]
) -> Iterator[str] | None:
    r"""The text of ``df.to_csv(index=False, float_format=..., lineterminator="\\n")`` in parts.

    Text cells starting with one of ``prefixes`` get a leading apostrophe first (as
    :func:`fifteenmin.output._files.safe_text`). Returns None when the frame is not one this
    writer handles exactly; the caller then uses pandas.

    Examples
    --------
    >>> df = pd.DataFrame({"a": ["x,y", None], "b": [1.5, float("nan")], "c": [True, False]})
    >>> "".join(csv_chunks(df, "%.2f", ("=",)))
    'a,b,c\n"x,y",1.50,True\n,,False\n'
    """
    parts = _fields(df, float_format, prefixes)
    if parts is None:
        return None
    return _chunks(parts[0], parts[1], len(df))


def _fields(
    df: pd.DataFrame, float_format: str | None, prefixes: tuple[str, ...]
) -> tuple[str, list[tuple[np.ndarray, list[str]]]] | None:
    """The header line and the (merged) fields of :func:`csv_chunks`, or None."""
    if float_format is None or not re.fullmatch(r"%\.\d+[efg]", float_format):
        return None  # other formats may need quoting: pandas writes them
    if df.shape[1] < 2:  # a lone empty field is quoted ('""'): pandas writes it
        return None
    names = list(df.columns)
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
        return None
    columns = []
    for k in range(df.shape[1]):
        col = _column(df.iloc[:, k], float_format, prefixes)
        if col is None:
            return None
        columns.append((_small(col[0]), col[1]))
    limit = max(64, int(len(df) * MERGE_SHARE))
    merged = [columns[0]]
    for col in columns[1:]:
        both = _merge(merged[-1], col, limit)
        if both is None:
            merged.append(col)
        else:
            merged[-1] = both
    return ",".join(_quoted(names)) + "\n", merged


def _chunks(header: str, fields: list[tuple[np.ndarray, list[str]]], n: int) -> Iterator[str]:
    yield header
    tables = [np.array(f, dtype=object) for _, f in fields]
    for lo in range(0, n, CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, n)
        cols = [t[codes[lo:hi]].tolist() for t, (codes, _) in zip(tables, fields, strict=True)]
        yield "\n".join(map(",".join, zip(*cols, strict=True))) + "\n"
