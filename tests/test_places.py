"""Which province a question is about, from the places it names (knowledge/places.tsv)."""

from __future__ import annotations

from bot.config import BUNDLED_KNOWLEDGE
from bot.search.places import PROVINCES, Places

PLACES = Places.load(BUNDLED_KNOWLEDGE / "places.tsv")


def test_a_city_or_district_names_its_province():
    assert {"浙江"} == PLACES.provinces_named("嘉兴的老沈家够不上低保")
    assert {"重庆"} == PLACES.provinces_named("万州的张嬢嬢去镇上交低保材料")
    assert {"上海"} == PLACES.provinces_named("崇明的阿姨家老伴透析")
    assert {"浙江"} == PLACES.provinces_named("杭州市郊区的老孙")
    assert {"浙江"} == PLACES.provinces_named("浙江省的临时救助谁批")


def test_a_name_inside_another_word_names_nothing():
    assert set() == PLACES.provinces_named("买复合肥去哪买便宜")  # not 合肥
    assert set() == PLACES.provinces_named("一百二十四平方米的宅基地")  # not 四平
    assert {"黑龙江"} == PLACES.provinces_named("大兴安岭林区")  # not 北京的大兴区
    assert set() == PLACES.provinces_named("俺家老人能吃低保不")


def test_every_line_names_a_province_and_no_place_twice():
    seen: dict[str, str] = {}
    for line in (BUNDLED_KNOWLEDGE / "places.tsv").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        province, _, names = line.partition("\t")
        assert province in PROVINCES
        for name in names.split():
            assert len(name) >= 2 and name not in seen, name
            seen[name] = province
    assert len(seen) > 500


def test_local_regulations_know_their_province():
    assert "上海" == Places.province_of_title("上海市社会救助条例")
    assert "" == Places.province_of_title("社会救助暂行办法")
