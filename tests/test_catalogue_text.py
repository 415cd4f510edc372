"""Tests of fifteenmin.catalogue.text: the terminal listing."""

from __future__ import annotations

import pytest

from fifteenmin.catalogue import format_catalogue, load_catalogue

BUNDLED = ["beijing", "gb50180", "mofcom", "tdt1062"]


@pytest.mark.parametrize("name", BUNDLED)
def test_format_catalogue(name):
    en = format_catalogue(name)
    zh = format_catalogue(load_catalogue(name), lang="zh")
    cat = load_catalogue(name)
    for it in cat:
        assert f"  {it.id}: {it.name_en}" in en
        assert f"  {it.id}: {it.name_zh}" in zh
    assert "Needs local data" in en and "需要本地数据" in zh
    assert "分钟" in zh and "必需" in zh and "来源" in zh


def test_format_beijing_lists_non_spatial_and_groupings():
    text = format_catalogue("beijing", lang="zh")
    assert "家政服务" in text and "社区就业服务" in text
    assert "一校" in text and "[U]" in text
    assert "== 教育 / Education ==" in text


def test_format_catalogue_checks_the_language():
    with pytest.raises(ValueError, match="lang must be 'en' or 'zh'"):
        format_catalogue("beijing", lang="fr")
