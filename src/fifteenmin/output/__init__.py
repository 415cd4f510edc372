"""The output layer: report files, the HTML report and site files.

It only reads pipeline results (:class:`fifteenmin.pipeline.Results`); nothing below it
imports it.
"""

from __future__ import annotations

from ._files import output_folder, prepare_output_dir, write_sites
from .html import render_html, report_html_fragment, write_html
from .report_files import REPORT_FILES, summary_schema, write_report

__all__ = [
    "REPORT_FILES",
    "output_folder",
    "prepare_output_dir",
    "render_html",
    "report_html_fragment",
    "summary_schema",
    "write_html",
    "write_report",
    "write_sites",
]
