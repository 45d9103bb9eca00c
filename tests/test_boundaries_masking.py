"""Items 10 and 12 of issue #10: text cleaned at the boundary, numbers found however typed."""

from __future__ import annotations

import pytest

from bot.services.masking import mask_ids, mask_personal, mask_phones
from bot.services.text_safety import clean_line, clean_text, has_control_characters

ID = "110105194910010011"


@pytest.mark.parametrize(
    "typed",
    [
        ID,
        "１１０１０５１９４９１００１００１１",  # full-width
        "110105 19491001 0011",  # spaces as on the card
        "1101 0519 4910 0100 11",
        "110105-19491001-0011",
        "110105\u300019491001\u30000011",  # ideographic space
        "١١٠١٠٥١٩٤٩١٠٠١٠٠١١",  # Arabic-Indic digits
        "११०१०५१९४९१००१००११",  # Devanagari digits
        "𝟏𝟏𝟎𝟏𝟎𝟓𝟏𝟗𝟒𝟗𝟏𝟎𝟎𝟏𝟎𝟎𝟏𝟏",  # mathematical bold
    ],
)
def test_item12_id_numbers_masked_whatever_digits_they_are_typed_in(typed):
    masked, count = mask_ids(f"身份证{typed}，住12号")
    assert ("身份证110105********0011，住12号", 1) == (masked, count)


def test_item12_id_with_check_letter_and_legacy_15_digit_ids():
    assert ("号110105********001X张三", 1) == mask_ids("号11010519491001001X张三")
    assert ("110105********001X", 1) == mask_ids("１１０１０５１９４９１００１００１ｘ")
    assert ("老证110105*****1011", 1) == mask_ids("老证110105491001011")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("电话13812345678", "电话138****5678"),
        ("电话１３８１２３４５６７８", "电话138****5678"),
        ("电话138-1234-5678", "电话138****5678"),
        ("电话138 1234 5678", "电话138****5678"),
        ("电话+86 138 1234 5678", "电话+86 138****5678"),
        ("电话①③⑧①②③④⑤⑥⑦⑧", "电话138****5678"),
        ("座机0371-66668888", "座机0371-****8888"),
        ("两个13812345678 13987654321都打不通", "两个138****5678 139****4321都打不通"),
    ],
)
def test_item12_phone_numbers_in_free_text_masked_however_typed(typed, expected):
    assert expected == mask_phones(typed)


@pytest.mark.parametrize(
    "text",
    [
        "2024年11月3日 补贴1200元",
        "卡号6222021234567890123",  # 19 digits: not a phone, not an ID
        "2024 11 03 来了3 个人",
        "门牌12-3号",
    ],
)
def test_item12_ordinary_numbers_are_left_alone(text):
    assert text == mask_personal(text)


def test_item12_mask_personal_keeps_phones_for_roles_that_may_see_them():
    text = f"电话13812345678 身份证{ID}"
    assert "电话13812345678 身份证110105********0011" == mask_personal(text, show_phones=True)
    assert "电话138****5678 身份证110105********0011" == mask_personal(text)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("腿疼\x0b需要轮椅", "腿疼需要轮椅"),
        ("屋顶\x00漏雨", "屋顶漏雨"),
        ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行"),
        ("张\u200b三", "张三"),
        ("\ufeff王五\u202e", "王五"),
        ("保留\t制表和\n换行", "保留\t制表和\n换行"),
        ("\x1b[31m红字\x1b[0m", "[31m红字[0m"),
        ("c1\x85控制\x9f", "c1\n控制"),
    ],
)
def test_item10_clean_text_removes_control_characters_only(raw, clean):
    assert clean == clean_text(raw)
    assert not has_control_characters(clean_text(raw))


def test_item10_clean_line_for_names():
    assert "张 三" == clean_line("  张\t\x0b三\n ")
