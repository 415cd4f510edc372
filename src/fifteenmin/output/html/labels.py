"""The labels of the HTML report, in English and Chinese.

Looked up with :func:`fifteenmin._i18n.labels` (``labels(LABELS, lang)``), which checks the
language. ``method_body`` is HTML (list items); every other label is plain text and is
escaped where it is used.

Examples
--------
>>> from fifteenmin._i18n import labels
>>> labels(LABELS, "zh")["map"]
'地图'
"""

from __future__ import annotations

__all__ = ["LABELS"]

#: ``{lang: {key: label}}``; both languages have the same keys.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "15-minute community service coverage",
        "nav_summary": "Summary",
        "nav_map": "Map",
        "nav_charts": "Charts",
        "nav_items": "Items",
        "nav_communities": "Communities",
        "nav_method": "Definitions",
        "nav_sites": "Where to add",
        "sites": "Where to add facilities (怎么补)",
        "sites_note": (
            "For every required item that some community misses, the network node where one new "
            "facility would bring the most resident weight not yet within the item's tier "
            "(greedy maximal coverage on the walking network; existing facilities count as "
            "covering). A starting point for planners, not a decision: check land and buildings."
        ),
        "site_node": "OSM node",
        "site_gain": "Resident weight gained",
        "site_gain_unit": "Resident weight gained ({unit})",
        "site_share": "Share within tier after",
        "site_helped": "Communities helped",
        "summary": "Summary",
        "coverage_rate": "Coverage rate (communities meeting every required item)",
        "coverage_rate_weighted": "Coverage rate, resident-weighted",
        "communities": "Communities",
        "n_communities": "Communities",
        "mean_score": "Mean community score",
        "facilities": "Facilities matched",
        "origins": "Resident origin points",
        "most_missing": "Items most often missing",
        "missing_in": "missing in {n} of {total} communities",
        "missing_in_one": "missing in {n} of {total} community",
        "none_missing": "No required item is missing in any community.",
        "data_gaps": "Data gaps",
        "no_facility": "Items with no facility anywhere in the study area",
        "none": "none",
        "list_sep": ", ",
        "colon": ": ",
        "sparse": "Items whose OSM tagging is often sparse (low figures may be a data gap)",
        "n_facilities": "{n} facilities",
        "n_facilities_one": "{n} facility",
        "parameters": "Parameters",
        "catalogue": "Catalogue",
        "speed": "Walking speed",
        "threshold": "Threshold (share of residents within the tier)",
        "cutoff": "Search cutoff",
        "osm_file": "OSM file",
        "community_source": "Communities from",
        "network": "Walking network",
        "network_size": "{nodes} nodes, {edges} edges, {km} km of streets",
        "map": "Map",
        "map_note": (
            "Background tiles load only when online; every layer below works offline. "
            "Click a community or a facility for details."
        ),
        "layer_communities": "Communities (score)",
        "layer_isochrones": "Walking isochrones",
        "legend_title": "Community score",
        "no_residents": "no resident points",
        "charts": "Charts",
        "chart_items": "Share of residents within each item's tier",
        "chart_items_x": "share of residents within the tier",
        "chart_required": "required",
        "chart_optional": "optional",
        "chart_threshold": "threshold",
        "chart_scores": "Distribution of community scores",
        "chart_scores_x": "score (share of required items met)",
        "chart_scores_y": "communities",
        "items": "Items",
        "item": "Item",
        "category": "Category",
        "tier": "Tier",
        "required": "Required",
        "yes": "yes",
        "no": "no",
        "residents_within": "Residents within tier",
        "communities_met": "Communities meeting it",
        "community": "Community",
        "id": "Id",
        "score": "Score",
        "met": "Met",
        "residents_share": "Share of residents",
        "missing": "Missing required items",
        "directory": "Service directory",
        "directory_note": (
            "Every facility within the item's tier of at least one home of the community; "
            "minutes from the nearest home, and the share of the community's residents "
            "within the tier of that facility."
        ),
        "facilities_within": "Facilities within the tier",
        "no_facility_within": "none within {tier} min",
        "nearest_beyond": "; nearest: {name}, {minutes} min",
        "minutes_short": "min",
        "optional": "optional",
        "unnamed": "unnamed",
        "n_more": "{n} more",
        "unnamed_osm": "unnamed {ref}",
        "popup_items": "Items",
        "popup_community": "Community",
        "popup_missing": "Missing",
        "popup_gaps": "Data gaps",
        "data_gaps_col": "Required items with a data gap",
        "status_no_data": "no data",
        "popup_directory": "Service directory",
        "iso_minutes": "within {m} min",
        "iso_community": "{name}: walking area, {m} min",
        "weight": "Resident weight",
        "weight_by": "Residents counted as",
        "weighted_na": (
            "not computed: the communities' resident weights are in different units ({units})"
        ),
        "unit_people": "people",
        "unit_m2_floor_area": "m² of residential floor area",
        "unit_m_street": "metres of street",
        "unit_point": "points (one per community)",
        "unit_weight": "weight (unit not given)",
        "unit_short_people": "people",
        "unit_short_m2_floor_area": "m²",
        "unit_short_m_street": "m",
        "unit_short_point": "pt",
        "method": "Definitions",
        "method_body": (
            "<li><b>Walking time</b>: along the OSM walking network at the walking speed, "
            "plus the straight-line distance from a home or facility to the nearest street.</li>"
            "<li><b>Residents</b>: the people of a population file when one is given; else the "
            "residential buildings of the community weighted by floor area (m²), else points "
            "along its streets weighted by metres of street, else its representative point. "
            "Shares of residents are shares of this weight.</li>"
            "<li><b>Share within tier</b>: the share of the community's residents (by weight) "
            "whose walk to the nearest facility of the item takes at most the item's tier.</li>"
            "<li><b>Met</b>: the share within tier is at least the threshold.</li>"
            "<li><b>Score</b>: the share of the catalogue's required items that are met.</li>"
            "<li><b>Coverage rate</b>: the share of communities that meet every required item; "
            "resident-weighted: the same, weighted by the communities' residents.</li>"
            "<li><b>Service directory</b>: for every item, every facility within the item's "
            "tier of at least one home of the community; minutes from the nearest home, and "
            "the share of the community's residents within the tier of that facility.</li>"
        ),
        "footer_data": "Map data",
        "footer_generated": "Generated by fifteenmin {version}.",
        # the city layout (city.py, city_js.py)
        "layer_area": "Walking area of the opened community",
        "area_missing": (
            "The walking area could not be loaded: {file} is missing or belongs to another "
            "report. Keep the folder {folder} beside report.html."
        ),
        "search_placeholder": "Search communities by name or id",
        "sort_hint": "Sort",
        "show_more": "Show more",
        "shown_of": "{shown} of {n} shown ({total} communities)",
        "city_hint": (
            "Click a community on the map or in the table below to see its score, missing "
            "items, service directory and walking area."
        ),
    },
    "zh": {
        "title": "一刻钟社区服务圈覆盖报告",
        "nav_summary": "概要",
        "nav_map": "地图",
        "nav_charts": "图表",
        "nav_items": "服务项目",
        "nav_communities": "社区",
        "nav_method": "指标说明",
        "nav_sites": "怎么补",
        "sites": "怎么补：新增设施选址建议",
        "sites_note": (
            "对每个有社区未达标的必需项目，给出新增一处设施后能使最多尚未覆盖的居民进入该项目步行时限的"
            "路网节点（基于步行网络的贪心最大覆盖；现有设施视为已覆盖）。仅供规划参考，需核实用地与建筑。"
        ),
        "site_node": "OSM 节点",
        "site_gain": "新增覆盖居民权重",
        "site_gain_unit": "新增覆盖居民（{unit}）",
        "site_share": "新增后时限内比例",
        "site_helped": "受益社区数",
        "summary": "概要",
        "coverage_rate": "覆盖率（满足全部必备项目的社区占比）",
        "coverage_rate_weighted": "覆盖率（按居民加权）",
        "communities": "社区",
        "n_communities": "社区数",
        "mean_score": "社区平均得分",
        "facilities": "匹配设施数",
        "origins": "居民出发点数",
        "most_missing": "最常缺失的项目",
        "missing_in": "{total} 个社区中 {n} 个缺失",
        "missing_in_one": "{total} 个社区中 {n} 个缺失",
        "none_missing": "没有社区缺失任何必备项目。",
        "data_gaps": "数据缺口",
        "no_facility": "研究范围内没有任何设施的项目",
        "none": "无",
        "list_sep": "、",
        "colon": "：",
        "sparse": "OSM 标注通常较少的项目（数值偏低可能是数据缺口）",
        "n_facilities": "{n} 处设施",
        "n_facilities_one": "{n} 处设施",
        "parameters": "参数",
        "catalogue": "服务目录",
        "speed": "步行速度",
        "threshold": "阈值（时限内居民占比）",
        "cutoff": "搜索上限",
        "osm_file": "OSM 文件",
        "community_source": "社区来源",
        "network": "步行路网",
        "network_size": "{nodes} 个节点，{edges} 条边，道路总长 {km} 公里",
        "map": "地图",
        "map_note": "底图瓦片仅在联网时加载；以下各图层离线也可使用。点击社区或设施查看详情。",
        "layer_communities": "社区（得分）",
        "layer_isochrones": "步行等时圈",
        "legend_title": "社区得分",
        "no_residents": "无居民点",
        "charts": "图表",
        "chart_items": "各项目时限内可达的居民占比",
        "chart_items_x": "时限内居民占比",
        "chart_required": "必备",
        "chart_optional": "可选",
        "chart_threshold": "阈值",
        "chart_scores": "社区得分分布",
        "chart_scores_x": "得分（已满足的必备项目占比）",
        "chart_scores_y": "社区数",
        "items": "服务项目",
        "item": "项目",
        "category": "类别",
        "tier": "时限",
        "required": "必备",
        "yes": "是",
        "no": "否",
        "residents_within": "时限内居民占比",
        "communities_met": "满足的社区数",
        "community": "社区",
        "id": "编号",
        "score": "得分",
        "met": "已满足",
        "residents_share": "居民占比",
        "missing": "缺失的必备项目",
        "directory": "服务设施清单",
        "directory_note": (
            "列出在项目时限内至少能从社区一处住宅步行到达的全部设施；"
            "分钟数为从最近住宅出发的步行时间，百分比为在该设施时限内的社区居民占比。"
        ),
        "facilities_within": "时限内的设施",
        "no_facility_within": "{tier} 分钟内没有",
        "nearest_beyond": "；最近：{name}，{minutes} 分钟",
        "minutes_short": "分钟",
        "optional": "可选",
        "unnamed": "未命名",
        "n_more": "另有 {n} 处",
        "unnamed_osm": "未命名（{ref}）",
        "popup_items": "项目",
        "popup_community": "社区",
        "popup_missing": "缺失",
        "popup_gaps": "数据缺口",
        "data_gaps_col": "存在数据缺口的必备项目",
        "status_no_data": "无数据",
        "popup_directory": "服务设施清单",
        "iso_minutes": "{m} 分钟内",
        "iso_community": "{name}：{m} 分钟步行范围",
        "weight": "居民权重",
        "weight_by": "居民计量方式",
        "weighted_na": "未计算：各社区居民权重的单位不同（{units}）",
        "unit_people": "人",
        "unit_m2_floor_area": "平方米住宅建筑面积",
        "unit_m_street": "米道路长度",
        "unit_point": "点（每个社区一个）",
        "unit_weight": "权重（单位未注明）",
        "unit_short_people": "人",
        "unit_short_m2_floor_area": "平方米",
        "unit_short_m_street": "米",
        "unit_short_point": "点",
        "method": "指标说明",
        "method_body": (
            "<li><b>步行时间</b>：沿 OSM 步行路网按步行速度计算，"
            "另加住宅或设施到最近道路的直线距离。</li>"
            "<li><b>居民</b>：给定人口数据时按人数计；否则用社区内的住宅建筑（按建筑面积平方米"
            "加权）；没有时用社区内道路上的点（按道路长度米加权）；再没有时用社区的代表点。"
            "居民占比均按此权重计算。</li>"
            "<li><b>时限内居民占比</b>：到该项目最近设施的步行时间不超过项目时限的居民"
            "（按权重）所占比例。</li>"
            "<li><b>满足</b>：时限内居民占比不低于阈值。</li>"
            "<li><b>得分</b>：已满足的必备项目占全部必备项目的比例。</li>"
            "<li><b>覆盖率</b>：满足全部必备项目的社区占比；按居民加权时以各社区居民权重计算。</li>"
            "<li><b>服务设施清单</b>：每个项目在其时限内至少能从社区一处住宅步行到达的全部设施；"
            "分钟数为从最近住宅出发的步行时间，百分比为在该设施时限内的社区居民占比。</li>"
        ),
        "footer_data": "地图数据",
        "footer_generated": "由 fifteenmin {version} 生成。",
        # the city layout (city.py, city_js.py)
        "layer_area": "所选社区的步行范围",
        "area_missing": (
            "无法加载步行范围：{file} 缺失或不属于本报告。请将 {folder} 文件夹与 report.html "
            "放在同一目录。"
        ),
        "search_placeholder": "按名称或编号搜索社区",
        "sort_hint": "排序",
        "show_more": "显示更多",
        "shown_of": "显示 {shown} / {n}（共 {total} 个社区）",
        "city_hint": "点击地图上或下表中的社区，查看其得分、缺失项目、服务设施清单和步行范围。",
    },
}
