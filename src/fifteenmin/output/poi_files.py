"""Files of POI imports: the unmatched POI types of a run, and the facility-ledger template.

``poi_unmatched.csv`` lists the POIs of ``--poi`` tables that no rule of the POI-types table
mapped to a catalogue item, per type (:attr:`fifteenmin.pipeline.Results.poi_unmatched`).
``fifteenmin ledger-template`` writes an empty facility ledger (台账) with Chinese headers
(:data:`fifteenmin.poi.LEDGER_COLUMNS`), as CSV and as an Excel workbook with the list of
the catalogue's items, for the facilities OSM lacks; ``--poi`` reads it back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .. import settings
from ..catalogue import Catalogue, load_catalogue
from ..poi import LEDGER_COLUMNS
from ._files import commit, prepare_output_dir, stage_file, write_atomic, write_csv, write_xlsx

if TYPE_CHECKING:
    from ..pipeline import Results

__all__ = ["LEDGER_FILES", "POI_UNMATCHED_FILE", "write_ledger_template", "write_poi_unmatched"]

#: The unmatched POI types of a run, in the report folder.
POI_UNMATCHED_FILE = "poi_unmatched.csv"
#: The files of ``fifteenmin ledger-template``.
LEDGER_FILES = ("facility_ledger.csv", "facility_ledger.xlsx")

_HELP = [
    ("名称", "设施名称 (必填)", "facility name (required)", "学院路社区养老驿站"),
    (
        "事项编号",
        "目录事项编号或中文名称 (必填; 见\u201c事项列表\u201d)",
        "catalogue item id or its Chinese name (required; see the item list)",
        "elderly_day_care",
    ),
    ("事项名称", "事项编号为空时使用", "used when 事项编号 is empty", "社区养老服务驿站"),
    ("地址", "可选", "optional", "海淀区学院路20号院"),
    ("经度", "十进制度 (必填)", "decimal degrees (required)", "116.351234"),
    ("纬度", "十进制度 (必填)", "decimal degrees (required)", "40.001234"),
    (
        "坐标系",
        "WGS84 (GPS、OSM) / GCJ-02 (高德、腾讯) / BD-09 (百度); 每行必填",
        "coordinate system of the row (required)",
        "GCJ-02",
    ),
    (
        "开放时间",
        "可选, 如 Mo-Fr 08:00-17:00",
        "optional, OSM opening_hours syntax",
        "Mo-Su 08:00-20:00",
    ),
    ("备注", "可选", "optional", "2024年新建"),
]


def write_poi_unmatched(results: Results, out_dir: str | os.PathLike[str]) -> Path | None:
    """Write ``poi_unmatched.csv`` of a run with POI tables; remove a stale one otherwise.

    Parameters
    ----------
    results
        A run; its ``poi_unmatched`` table (None without ``--poi``).
    out_dir
        The report folder.

    Returns
    -------
    pathlib.Path or None
        The file written.

    Examples
    --------
    >>> write_poi_unmatched(report.results, "report")  # doctest: +SKIP
    PosixPath('report/poi_unmatched.csv')
    """
    path = Path(out_dir) / POI_UNMATCHED_FILE
    table = results.poi_unmatched
    if table is None:
        path.unlink(missing_ok=True)  # an earlier run's file: never mix two runs
        return None
    return write_atomic(path, lambda p: write_csv(p, table, None))


def _items(cat: Catalogue) -> pd.DataFrame:
    names = {c.id: c.name_zh for c in cat.categories}
    return pd.DataFrame(
        {
            "事项编号": [it.id for it in cat.items],
            "事项名称": [it.name_zh for it in cat.items],
            "item (English)": [it.name_en for it in cat.items],
            "类别": [names.get(it.category, "") for it in cat.items],
            "步行时间(分钟)": [float(it.tier_minutes) for it in cat.items],
            "是否必配": ["是" if it.required else "否" for it in cat.items],
        }
    )


def write_ledger_template(
    out_dir: str | os.PathLike[str], catalogue: str | Catalogue = settings.CATALOGUE
) -> list[Path]:
    """Write an empty facility ledger (台账): ``facility_ledger.csv`` and ``.xlsx``.

    The CSV (UTF-8 with a byte-order mark, so that Excel reads the Chinese headers) holds the
    header row only. The workbook holds the same empty ``台账`` sheet, the catalogue's items
    (``事项列表``: id, Chinese and English name, category, walking tier, required) and a
    ``说明`` sheet explaining each column with an example. Fill in one row per facility and
    give the file to ``fifteenmin report --poi FILE`` (``poi=`` of
    :class:`~fifteenmin.config.RunConfig`). The same catalogue gives the same bytes.

    Parameters
    ----------
    out_dir
        The folder (created if needed).
    catalogue
        The catalogue whose items the ledger names.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_ledger_template(tempfile.mkdtemp())]
    ['facility_ledger.csv', 'facility_ledger.xlsx']
    """
    cat = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
    out = prepare_output_dir(out_dir)
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in LEDGER_COLUMNS})
    help_sheet = pd.DataFrame(_HELP, columns=["列", "说明", "explanation", "示例 (example)"])
    about = [
        ("attribution", settings.ATTRIBUTION),
        ("catalogue", f"{cat.name}: {cat.title_zh} / {cat.title_en}"),
        ("sheets", "台账: one row per facility; 事项列表: the catalogue's items; 说明: columns"),
    ]
    sheets = {"台账": empty, "事项列表": _items(cat), "说明": help_sheet}
    staged = [
        stage_file(out, LEDGER_FILES[0], lambda p: write_csv(p, empty, None)),
        stage_file(out, LEDGER_FILES[1], lambda p: write_xlsx(p, sheets, about)),
    ]
    return commit(staged)
