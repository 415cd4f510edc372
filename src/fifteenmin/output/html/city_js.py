"""The script of the city layout: map, clustered facilities, community table, details.

Plain JavaScript over Leaflet (inlined by the page), reading the compact data of
:func:`fifteenmin.output.html.city_data.city_data` from ``<script type="application/json"
id="fm-data">`` and, when a community is opened, its line of ``#fm-dir`` (service
directory) and its walking area: from ``#fm-areas`` or, when the page's data has
``areaFiles``, from the file beside the page that holds it
(:mod:`~fifteenmin.output.html.area_files`), loaded by a ``<script>`` element (a message
replaces the area when the file is missing). Every string from the data is escaped
(``esc``) before it becomes HTML.

* The communities are one canvas layer of polygons coloured by score, one shared tooltip.
* Facilities are clustered on a grid of :data:`CLUSTER_PX` screen pixels, redrawn after each
  move over the points in view (typed arrays); a cluster is a count that zooms in on click,
  a single facility a dot in its category's colour whose popup is built when opened.
* The table is filtered (name or id) and sorted in memory; only the first rows are in the
  DOM ("show more" adds more).
* Opening a community (a row, a polygon, or the page's ``#c-0001`` anchor) outlines it, draws
  its walking area (only that one) and renders its details.

Examples
--------
>>> "fmSelect" in CITY_JS
True
"""

from __future__ import annotations

__all__ = ["CITY_JS", "CLUSTER_PX", "ROWS_SHOWN"]

#: Facilities closer than this many screen pixels are drawn as one cluster.
CLUSTER_PX = 56
#: The community table shows this many rows, and this many more per "show more".
ROWS_SHOWN = 100

CITY_JS = (
    """
(function () {
"use strict";
performance.mark("fm-start");
var D = JSON.parse(document.getElementById("fm-data").textContent);
performance.mark("fm-data");
var T = D.labels, S = D.scale, C = D.com.cols, N = C.id.length;
var CLUSTER_PX = """
    + str(CLUSTER_PX)
    + """, ROWS_SHOWN = """
    + str(ROWS_SHOWN)
    + """;
var ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
function esc(s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return ESC[c]; });
}
function pct(v) { return v == null || v < 0 || !isFinite(v) ? "\u2013" : Math.round(v) + "%"; }
function fmt(s, o) {
  return s.replace(/\\{(\\w+)\\}/g, function (m, k) { return k in o ? o[k] : m; });
}
function ring(r) {
  var out = new Array(r.length / 2), la = 0, lo = 0;
  for (var k = 0; k < r.length; k += 2) {
    la += r[k]; lo += r[k + 1]; out[k / 2] = [la / S, lo / S];
  }
  return out;
}
function geom(g) { return g.map(function (p) { return p.map(ring); }); }
function anchor(i) { var s = String(i + 1); while (s.length < 4) { s = "0" + s; } return "c-" + s; }
function comName(i) { return C.name[i] || C.id[i]; }
function itemNames(list) {
  return list.map(function (k) { return k >= 0 ? D.items.name[k] : "?"; }).join(T.list_sep);
}
var totalW = 0;
for (var i0 = 0; i0 < N; i0++) { if (C.weight[i0] > 0) { totalW += C.weight[i0]; } }

/* ---- the map ---- */
var el = document.getElementById("fm-city-map");
var map = L.map(el, {preferCanvas: true, zoomSnap: 0.25});
window.fmMap = map;
// communities and facility dots: one canvas, below the other panes (the layer control hides
// the communities by their style); the few other shapes: SVG above it, not interactive, whose
// empty parts let clicks through (CITY_CSS)
map.createPane("fm-com").style.zIndex = 390;
var RC = L.canvas({padding: 0.3, pane: "fm-com"});
var R = L.svg({padding: 0.3});
L.tileLayer(D.tiles, {attribution: D.attribution, maxZoom: 19}).addTo(map);
L.control.scale().addTo(map);
if (D.bounds) { map.fitBounds(D.bounds); } else { map.setView(D.center, 15); }
var comLayer = L.featureGroup();
for (var i = 0; i < N; i++) {
  if (!C.geom[i].length) { continue; }
  var p = L.polygon(geom(C.geom[i]), {renderer: RC, color: "#333333", weight: 0.8,
    fillColor: D.com.palette[C.colour[i]], fillOpacity: 0.6});
  p.fmi = i;
  comLayer.addLayer(p);
}
var hover = L.tooltip({sticky: true});
comLayer.on("mouseover mousemove", function (e) {
  var k = e.layer.fmi;
  hover.setLatLng(e.latlng).setContent(esc(comName(k)) + esc(T.colon) + esc(pct(C.score[k] / 10)));
  if (!map.hasLayer(hover)) { map.openTooltip(hover); }
});
comLayer.on("mouseout", function () { map.closeTooltip(hover); });
comLayer.on("click", function (e) { fmSelect(e.layer.fmi, false); });
comLayer.addTo(map);
var comToggle = L.layerGroup().addTo(map);
performance.mark("fm-communities");
var areaLayer = L.layerGroup().addTo(map);
var isoLayer = null;
if (D.iso && D.iso.length) {
  isoLayer = L.layerGroup();
  D.iso.forEach(function (f) {
    isoLayer.addLayer(L.polygon(geom(f.g), {renderer: R, color: f.c, weight: 2, dashArray: "4 3",
      fillColor: f.c, fillOpacity: 0.12}).bindTooltip(esc(f.t), {sticky: true}));
  });
  isoLayer.addTo(map);
}
var selLayer = L.layerGroup().addTo(map);

/* ---- facilities, clustered on a screen grid ---- */
var F = D.fac, NF = F.lat.length;
var fLat = new Float64Array(NF), fLon = new Float64Array(NF), fCat = new Int32Array(NF);
var fX = new Float64Array(NF), fY = new Float64Array(NF);  // projected at zoom 0
for (var f = 0; f < NF; f++) {
  fLat[f] = F.lat[f] / S; fLon[f] = F.lon[f] / S; fCat[f] = F.cat[f];
  var p0 = map.project([fLat[f], fLon[f]], 0);
  fX[f] = p0.x; fY[f] = p0.y;
}
var catOn = D.cats.id.map(function () { return true; });
var catLayers = D.cats.id.map(function () { return L.layerGroup(); });
var facLayer = L.featureGroup().addTo(map);
// one popup for every facility dot, built when it is clicked
facLayer.on("click", function (e) {
  if (e.layer.fmf !== undefined) {
    L.popup({maxWidth: 380}).setLatLng(e.latlng).setContent(facPopup(e.layer.fmf)).openOn(map);
  }
});
function facPopup(f) {
  var its = [].concat(F.items[f]).map(function (k) { return D.items.name[k]; });
  var kind = {n: "node", w: "way", r: "relation"}[F.osm[f].charAt(0)] || "";
  return '<div class="fm-popup"><b>' + esc(F.name[f] || "(" + T.unnamed + ")") + "</b><br>" +
    esc(T.popup_items) + esc(T.colon) + esc(its.join(T.list_sep)) + "<br><small>OSM " +
    esc(kind + "/" + F.osm[f].slice(1)) + "</small></div>";
}
function drawFacilities() {
  facLayer.clearLayers();
  var b = map.getBounds().pad(0.05), z = map.getZoom();
  var s = b.getSouth(), n = b.getNorth(), w = b.getWest(), e = b.getEast();
  var single = z >= D.clusterOffZoom, cells = {}, keys = [], k = Math.pow(2, z) / CLUSTER_PX;
  for (var f = 0; f < NF; f++) {
    if (!catOn[fCat[f]] || fLat[f] < s || fLat[f] > n || fLon[f] < w || fLon[f] > e) { continue; }
    var key = single ? f : Math.floor(fX[f] * k) + ":" + Math.floor(fY[f] * k);
    var c = cells[key];
    if (!c) { c = cells[key] = {n: 0, la: 0, lo: 0, f: f}; keys.push(key); }
    c.n++; c.la += fLat[f]; c.lo += fLon[f];
  }
  keys.forEach(function (key) {
    var c = cells[key], m;
    if (c.n === 1) {
      m = L.circleMarker([fLat[c.f], fLon[c.f]], {renderer: RC, radius: 5, color: "#ffffff",
        weight: 1, fillColor: D.cats.colour[fCat[c.f]], fillOpacity: 0.9});
      m.fmf = c.f;
    } else {
      var size = c.n < 10 ? 20 : c.n < 100 ? 25 : c.n < 1000 ? 30 : 35;
      m = L.marker([c.la / c.n, c.lo / c.n], {icon: L.divIcon({className: "fm-cluster",
        html: "<span>" + c.n + "</span>", iconSize: [size, size]}),
        title: fmt(T.n_facilities, {n: c.n})});
      m.on("click", function (ev) { map.setView(ev.latlng, Math.min(map.getZoom() + 2, 19)); });
    }
    facLayer.addLayer(m);
  });
}
map.on("moveend", drawFacilities);
drawFacilities();
performance.mark("fm-facilities");
map.on("overlayadd overlayremove", function (e) {
  var k = catLayers.indexOf(e.layer);
  if (k >= 0) { catOn[k] = e.type === "overlayadd"; drawFacilities(); }
  if (e.layer === comToggle) {
    var on = e.type === "overlayadd";
    comLayer.eachLayer(function (p) {
      p.options.interactive = on;  // read by the canvas at each event
      p.setStyle({stroke: on, fill: on});
    });
    map.closeTooltip(hover);
  }
});

/* ---- layer control and legend ---- */
var overlays = {};
overlays[esc(T.layer_communities)] = comToggle;
overlays[esc(T.layer_area)] = areaLayer;
if (isoLayer) { overlays[esc(T.layer_isochrones)] = isoLayer; }
D.cats.id.forEach(function (c, k) {
  overlays['<span style="color:' + D.cats.colour[k] + '">&#9679;</span> ' + esc(D.cats.name[k]) +
    " (" + D.cats.n[k].toLocaleString("en") + ")"] = catLayers[k];
  catLayers[k].addTo(map);
});
L.control.layers(null, overlays, {collapsed: window.innerWidth <= D.narrow, position: "topright"})
  .addTo(map);
var legend = L.control({position: "bottomright"});
legend.onAdd = function () {
  var div = L.DomUtil.create("div", "fm-legend");
  div.innerHTML = D.legend;
  L.DomEvent.disableClickPropagation(div);
  return div;
};
legend.addTo(map);

/* ---- one community: outline, walking area, details ---- */
var lines = {};
function line(kind, i) {
  // one element per D.chunk communities: opening one reads and splits only its chunk
  var id = kind + "-" + Math.floor(i / D.chunk);
  if (!(id in lines)) {
    var node = document.getElementById(id);
    lines[id] = node ? node.textContent.split("\\n") : [];
  }
  var t = lines[id][i % D.chunk];
  return t ? JSON.parse(t) : null;
}
function facilityText(k, e) {
  if (e[1] === 0) {
    var nm0 = F.name[e[2]] || D.items.name[k] + " (" + T.unnamed + ")";
    return esc(fmt(T.no_facility_within, {tier: D.items.tier[k]}) +
      fmt(T.nearest_beyond, {name: nm0, minutes: (e[3] / 10).toFixed(1)}));
  }
  var parts = [];
  for (var j = 2; j < e.length; j += 3) {
    var f = e[j], nm = F.name[f] || D.items.name[k] + " (" + T.unnamed + ")";
    var kind = {n: "node", w: "way", r: "relation"}[F.osm[f].charAt(0)] || "";
    parts.push('<span class="fm-f" title="OSM ' + esc(kind + "/" + F.osm[f].slice(1)) + '">' +
      esc(nm) + "</span> " + (e[j + 1] / 10).toFixed(1) + "&#8202;" + esc(T.minutes_short) +
      " <small>(" + esc(pct(e[j + 2])) + ")</small>");
  }
  var more = e[1] - (e.length - 2) / 3;
  var tail = more > 0 ? "; <small>" + esc(fmt(T.n_more, {n: more})) + "</small>" : "";
  return parts.join("; ") + tail;
}
function detailHtml(i) {
  var dir = line("fm-dir", i) || [], by = {};
  dir.forEach(function (e) { by[e[0]] = e; });
  var st = C.status[i], sh = C.share[i], rows = [];
  for (var k = 0; k < D.items.id.length; k++) {
    var s = st.charAt(k), code = sh.charCodeAt(k), cls = "", txt = T.no;
    if (s === "1") { cls = "fm-ok"; txt = T.yes; }
    else if (s === "-") { cls = "fm-gap"; txt = T.status_no_data; }
    else if (D.items.req[k]) { cls = "fm-bad"; }
    var fac = by[k] ? facilityText(k, by[k])
      : esc(fmt(T.no_facility_within, {tier: D.items.tier[k]}));
    rows.push("<tr><td>" + esc(D.items.name[k]) +
      (D.items.req[k] ? "" : " <small>(" + esc(T.optional) + ")</small>") +
      '</td><td class="fm-num">' + D.items.tier[k] + " " + esc(T.minutes_short) +
      '</td><td class="fm-num">' + esc(code === 33 || isNaN(code) ? "\u2013" : pct(code - 40)) +
      '</td><td class="' + cls + '">' + esc(txt) + "</td><td>" + fac + "</td></tr>");
  }
  var head = ["item", "tier", "residents_within", "met", "facilities_within"].map(function (k) {
    return "<th>" + esc(T[k]) + "</th>"; }).join("");
  return "<h3>" + esc(comName(i)) + " \u2014 " + esc(T.score) + " " + esc(pct(C.score[i] / 10)) +
    " (" + C.met[i] + "/" + C.req[i] + ")</h3><p><small>" + esc(C.id[i]) + "</small><br>" +
    esc(T.missing) + esc(T.colon) + '<span class="fm-missing">' +
    esc(itemNames(C.missing[i]) || T.none) + "</span><br>" + esc(T.data_gaps_col) + esc(T.colon) +
    esc(itemNames(C.gaps[i]) || T.none) + "</p><p>" + esc(T.directory_note) + "</p>" +
    '<div class="fm-scroll"><table class="fm-directory"><thead><tr>' + head +
    "</tr></thead><tbody>" + rows.join("") + "</tbody></table></div>";
}
/* walking areas: embedded (#fm-areas-K elements), or in files beside the page
   (D.areaFiles: report_files/areas-K.js, each calling fmAreas(K, ids, lines)) loaded by a
   script element when one of their communities is opened (file:// allows no fetch) */
var AF = D.areaFiles || null, areaFiles = {}, areaWaiting = {};
window.fmAreas = function (k, ids, list) { areaFiles[k] = {ids: ids, lines: list}; };
function areaFile(k) { return AF.folder + "/" + AF.names[k]; }
function withAreas(i, done) {
  // done(list of [minutes, geometry], or null and the file that could not be read)
  if (!AF) { done(line("fm-areas", i) || []); return; }
  var k = Math.floor(i / AF.per), j = i % AF.per;
  var got = function () {
    var f = areaFiles[k];
    if (f && f.ids[j] === C.id[i]) { done(f.lines[j] ? JSON.parse(f.lines[j]) : []); }
    else { done(null, areaFile(k)); }
  };
  if (k in areaFiles) { got(); return; }
  if (areaWaiting[k]) { areaWaiting[k].push(got); return; }
  areaWaiting[k] = [got];
  var s = document.createElement("script");
  var end = function () {
    var w = areaWaiting[k];
    delete areaWaiting[k];
    if (!(k in areaFiles)) { s.remove(); }  // missing: a later opening tries again
    w.forEach(function (f) { f(); });
  };
  s.onload = end;
  s.onerror = end;
  s.src = areaFile(k);
  document.head.appendChild(s);
}
var opened = 0;  // counts the openings: an area file that arrives late draws only for the last
function fmSelect(i, zoom) {
  var mine = ++opened;
  selLayer.clearLayers();
  areaLayer.clearLayers();
  var box = null, outline = null;
  if (C.geom[i].length) {
    outline = L.polygon(geom(C.geom[i]), {renderer: R, color: "#000000", weight: 3,
      fill: false, interactive: false});
    selLayer.addLayer(outline);
    outline.bindTooltip(esc(comName(i)), {permanent: true, direction: "top",
      className: "fm-label"}).openTooltip();
    box = outline.getBounds();
  }
  var panel = document.getElementById("fm-detail");
  panel.innerHTML = detailHtml(i);
  panel.hidden = false;
  panel.setAttribute("data-community", C.id[i]);
  if (history.replaceState) { history.replaceState(null, "", "#" + anchor(i)); }
  withAreas(i, function (list, missing) {
    if (mine !== opened) { return; }  // opened again (this or another one) meanwhile
    if (list === null) {
      var note = document.createElement("p");
      note.className = "fm-note fm-area-missing";
      note.textContent = fmt(T.area_missing, {file: missing, folder: AF.folder});
      panel.insertBefore(note, panel.firstChild);
      list = [];
    }
    var label = comName(i);
    // the walking area is not interactive: the communities under it stay clickable
    list.forEach(function (a) {
      var poly = L.polygon(geom(a[1]), {renderer: R, className: "fm-area", color: "#08519c",
        weight: 2, fillColor: "#3182bd", fillOpacity: 0.15, interactive: false});
      areaLayer.addLayer(poly);
      label = fmt(T.iso_community, {name: comName(i), m: a[0]});
      box = box ? box.extend(poly.getBounds()) : poly.getBounds();
    });
    if (outline && list.length) { outline.setTooltipContent(esc(label)).bringToFront(); }
    if (zoom && box) { map.fitBounds(box, {maxZoom: 17}); }
  });
}
window.fmSelect = fmSelect;

/* ---- the community table ---- */
var keys = C.id.map(function (id, i) { return (C.name[i] + "\\u0000" + id).toLowerCase(); });
var order = C.id.map(function (_, i) { return i; }), shown = order, limit = ROWS_SHOWN;
var sortKey = -1, sortDir = 1;
var SORT = [
  function (i) { return comName(i).toLowerCase(); }, function (i) { return C.id[i]; },
  function (i) { return C.score[i] == null ? -1 : C.score[i]; }, function (i) { return C.met[i]; },
  function (i) { return C.weight[i] == null ? -1 : C.weight[i]; },
  function (i) { return C.weight[i] == null ? -1 : C.weight[i]; },
  function (i) { return C.missing[i].length; }, function (i) { return C.gaps[i].length; }
];
var tbody = document.querySelector("#fm-table tbody");
var count = document.getElementById("fm-count"), moreBtn = document.getElementById("fm-more");
function rowHtml(i) {
  var share = totalW > 0 && C.weight[i] != null ? C.weight[i] / totalW * 100 : -1;
  var unit = C.unit[i] >= 0 ? D.com.units[C.unit[i]] : "";
  var w = C.weight[i] == null ? "\u2013"
    : C.weight[i].toLocaleString("en") + (unit ? "\u200a" + unit : "");
  var cells = [
    [' class="fm-num ' + (C.missing[i].length || C.met[i] < C.req[i] ? "fm-bad" : "fm-ok") + '"',
      pct(C.score[i] == null ? -1 : C.score[i] / 10), "score"],
    [' class="fm-num"', C.met[i] + " / " + C.req[i], "met"],
    [' class="fm-num"', share < 0 ? "\u2013" : share.toFixed(share < 1 ? 1 : 0) + "%",
      "residents_share"],
    [' class="fm-num"', w, "weight"],
    ["", itemNames(C.missing[i]) || "\u2013", "missing"],
    ["", itemNames(C.gaps[i]) || "\u2013", "data_gaps_col"]
  ];
  return '<tr data-i="' + i + '"><td><a href="#' + anchor(i) + '">' + esc(comName(i)) +
    '</a></td><td data-label="' + esc(T.id) + '">' + esc(C.id[i]) + "</td>" +
    cells.map(function (c) {
      return "<td" + c[0] + ' data-label="' + esc(T[c[2]]) + '">' + esc(c[1]) + "</td>";
    }).join("") + "</tr>";
}
function renderTable() {
  tbody.innerHTML = shown.slice(0, limit).map(rowHtml).join("");
  count.textContent = fmt(T.shown_of, {shown: Math.min(limit, shown.length).toLocaleString("en"),
    n: shown.length.toLocaleString("en"), total: N.toLocaleString("en")});
  moreBtn.hidden = shown.length <= limit;
}
function refilter() {
  var q = document.getElementById("fm-search").value.trim().toLowerCase();
  shown = q ? order.filter(function (i) { return keys[i].indexOf(q) >= 0; }) : order;
  limit = ROWS_SHOWN;
  renderTable();
}
document.getElementById("fm-search").addEventListener("input", refilter);
moreBtn.addEventListener("click", function () { limit += ROWS_SHOWN; renderTable(); });
document.querySelectorAll("#fm-table thead th").forEach(function (th, k) {
  th.addEventListener("click", function () {
    sortDir = sortKey === k ? -sortDir : (k >= 2 ? -1 : 1);
    sortKey = k;
    var key = SORT[k], vals = C.id.map(function (_, i) { return key(i); });
    order = C.id.map(function (_, i) { return i; }).sort(function (a, b) {
      return vals[a] < vals[b] ? -sortDir : vals[a] > vals[b] ? sortDir : a - b;
    });
    document.querySelectorAll("#fm-table thead th").forEach(function (h, j) {
      h.setAttribute("aria-sort", j === k ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
    refilter();
  });
});
tbody.addEventListener("click", function (e) {
  var tr = e.target.closest("tr");
  if (!tr) { return; }
  e.preventDefault();
  fmSelect(+tr.getAttribute("data-i"), true);
  document.getElementById("fm-map").scrollIntoView();
});
renderTable();
function openHash() {
  var m = /^#c-(\\d+)$/.exec(location.hash || "");
  var i = m ? parseInt(m[1], 10) - 1 : -1;
  if (i >= 0 && i < N) { fmSelect(i, true); document.getElementById("fm-map").scrollIntoView(); }
}
window.addEventListener("hashchange", openHash);
openHash();
performance.mark("fm-ready");
})();
"""
)
