"""Which province a question is about, from the places it names (knowledge/places.tsv)."""

from __future__ import annotations

import pytest

from bot.config import BUNDLED_KNOWLEDGE, load_settings
from bot.search.places import PROVINCES, Places
from bot.services.answer import Answerer, ensure_index
from bot.services.cards import load_cards

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


@pytest.fixture(scope="module")
def cards_only(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("places"))
    ensure_index(settings)
    return Answerer.from_settings(settings, use_llm=False)


def _local_only(card_id: str) -> bool:
    card = next(c for c in load_cards(BUNDLED_KNOWLEDGE) if c.id == card_id)
    return all(Places.province_of_title(doc) for doc, _ in card.citations)


def test_a_card_resting_only_on_another_provinces_rule_does_not_lead(cards_only):
    answer = cards_only.answer("骗低保会上征信不")
    assert answer.card_id and not _local_only(answer.card_id)
    # named, directly or by the member's region, the province's own card may lead
    assert "jiuzhu-pianqu-zhengxin" == cards_only.answer("浙江骗低保会上征信不").card_id
    named_by_region = cards_only.answer("骗低保会上征信不", region="浙江省嘉兴市")
    assert "jiuzhu-pianqu-zhengxin" == named_by_region.card_id


def test_a_cards_own_citations_show_another_provinces_rule_last(cards_only):
    shown = []
    for question in ("王大爷儿子在外地不管他，能吃低保不", "老人不要儿女给的赡养费，还能吃低保吗"):
        answer = cards_only.answer(question)
        local = [bool(Places.province_of_title(c.doc)) for c in answer.citations]
        assert local == sorted(local), (question, [c.doc for c in answer.citations])
        shown += local
    assert any(shown) and not all(shown)  # the order was put to the test
