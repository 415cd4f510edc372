"""A single self-contained HTML page of a coverage report.

:func:`write_html` writes ``report.html``: one file that opens in any browser from disk, with
no server and no internet connection (planners' intranets are often offline). Leaflet's
JavaScript and CSS (from the ``XStatic-Leaflet`` package, the same Leaflet 1.9.3 folium uses)
and every chart are inlined; only the OpenStreetMap background tiles come from the internet
and simply stay blank offline, while every vector layer still renders.

The page holds:

* a summary (:func:`report_html_fragment`): coverage rates, communities, the items most
  often missing, data gaps, parameters and network size;
* an interactive map (folium): communities coloured by score with a legend, facilities in
  one layer per catalogue category, optional walking isochrones, a layer control;
* charts (matplotlib, inline SVG): residents within each item's tier, and the distribution
  of community scores;
* for every community its score, missing items and service directory
  (:func:`fifteenmin.directory.service_directory`): every facility within each item's tier,
  with walking minutes;
* the definitions used, and the OpenStreetMap attribution (ODbL,
  :data:`fifteenmin.settings.ATTRIBUTION_HTML`).

Chinese text renders on a machine without a CJK font: the page embeds a subset of Noto Sans
CJK SC with exactly the CJK characters it uses (:mod:`fifteenmin.output.fonts`), and the
charts are measured with the same font. The page reads on a phone: below
:data:`~fifteenmin.output.html.assets.NARROW_PX` px tables scroll in their own box or
become one card per row, the map's layer control starts collapsed, and the charts are drawn
for a phone's width; long facility lists are folded.

Every string that comes from OpenStreetMap or from a user file (community, facility and
catalogue names, tags) is escaped with :func:`html.escape`, in the page and in the map's
popups, tooltips and layer names alike. The output is deterministic: the same report gives
the same bytes (folium's random element ids are replaced by a counter, everything is sorted,
coordinates are rounded to 6 decimals).

One module per concern:

========================  ==========================================================
``labels``                the English and Chinese labels
``common``                escaping, number formats, names, score colours
``assets``                CSS, inlined Leaflet, the self-containment check
``charts``                matplotlib charts as inline SVG
``map``                   the folium map (features, layers, legend, ids, bounds)
``fragment``              the summary fragment (:func:`report_html_fragment`)
``sections``              the items, communities and sites tables
``city_data``             the city layout's compact data (vectorised)
``city_js``               the city layout's script (map, clusters, table, details)
``city``                  the city layout's pieces (map, detail panel, table, data)
``area_files``            the city layout's walking areas in files beside the page
``page``                  the page (:func:`render_html`), its sections
                          (:data:`~fifteenmin.output.html.page.SECTIONS`) and its file
                          (:func:`write_html`)
========================  ==========================================================

Above :data:`~fifteenmin.settings.HTML_CITY_MIN_COMMUNITIES` communities the page uses its
city layout (:mod:`fifteenmin.output.html.city`): an overview map with clustered
facilities, a searchable community table and each community's details rendered on demand
from compact embedded data, instead of one pre-rendered block and map feature per
community and facility; :func:`~fifteenmin.output.write_report` puts its walking areas in
files beside the page (:mod:`fifteenmin.output.html.area_files`), loaded when a community is
opened.

Examples
--------
>>> from fifteenmin import run_report
>>> from fifteenmin.output.html import write_html
>>> rep = run_report()  # doctest: +SKIP
>>> write_html(rep, "out/report.html", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

from .common import SCORE_CLASSES
from .fragment import report_html_fragment
from .page import render_html, write_html

__all__ = [
    "SCORE_CLASSES",
    "render_html",
    "report_html_fragment",
    "write_html",
]
