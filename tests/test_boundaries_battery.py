"""Hostile input for items 10, 11 and 12 of issue #10 through the real Dispatcher: control
characters, formulas, numbers in odd scripts. Each case gets a Chinese reply, stores clean text
with ID numbers masked, and afterwards the export opens cleanly with no formula cell, no control
character and no unmasked number; the digest and a grid leader's /我的 show no phone number."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendDocument
from bot_support import Harness
from openpyxl import load_workbook

from bot.config import load_settings
from bot.services.answer import Answerer
from bot.services.ledger_service import LedgerService
from ingest.pipeline import ingest

VOLUNTEER, GRID, TOWNSHIP, STRANGER = 11, 44, 33, 99
ID = "110105194910010011"
MASKED_ID = "110105********0011"
CJK = re.compile(r"[\u4e00-\u9fff]")
# what must never be stored: control characters (\n and \t aside) and the invisible ones
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\r]"
)

# (what the volunteer types after "/走访 张三 ", what the stored situation must contain)
VISIT_NOTES = [
    ("腿疼\x00需要轮椅", "腿疼需要轮椅"),
    ("屋顶\x0b漏雨", "屋顶漏雨"),
    ("\x1b[31m红字\x1b[0m 看病难", "[31m红字[0m 看病难"),
    ("老人\u202e独居", "老人独居"),
    ("第一行\r\n第二行\r第三行", "第三行"),  # the one-line form joins lines; no \r stays
    ("控制\x85符\x9f号", "符号"),
    ("非字符\ufffe\uffff不要", "非字符不要"),
    ("零宽\u200b\ufeff空格", "零宽空格"),
    ("\x07\x08响铃退格", "响铃退格"),
    (
        '=HYPERLINK("http://example.invalid/x","点此查看")',
        '=HYPERLINK("http://example.invalid/x","点此查看")',
    ),
    ("+1+2 看看", "+1+2 看看"),
    ("-2+3 算算", "-2+3 算算"),
    ("@SUM(A1:A9) 总数", "@SUM(A1:A9) 总数"),
    ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
    (f"身份证{ID}", f"身份证{MASKED_ID}"),
    ("身份证１１０１０５１９４９１００１００１１", f"身份证{MASKED_ID}"),
    ("身份证110105 19491001 0011", f"身份证{MASKED_ID}"),
    ("身份证110105-19491001-0011", f"身份证{MASKED_ID}"),
    ("身份证١١٠١٠٥١٩٤٩١٠٠١٠٠١١", f"身份证{MASKED_ID}"),
    ("身份证１１０１０５１９４９１００１００１Ｘ", "身份证110105********001X"),
    ("证号\x0b110105\x0019491001\x000011", f"证号{MASKED_ID}"),
    ("旧证110105491001011", "旧证110105*****1011"),
    ("儿子电话13812345678", "儿子电话13812345678"),  # phones are stored, masked when shown
    ("说了很多" + "\x0b很长" * 300, "说了很多" + "很长" * 300),
]
# (the problem text after "/走访 张三 看过了 #问题 ", what the stored description must contain)
PROBLEMS = [
    ("联系电话１３８-１２３４-５６７８ 屋顶漏雨", "屋顶漏雨"),
    ("=1+1 需要轮椅", "=1+1 需要轮椅"),
    (f"低保\x00申请 身份证{ID}", f"低保申请 身份证{MASKED_ID}"),
]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIANHU_EMBEDDINGS__BACKEND", "none")  # keyword ranking is enough here
        settings = load_settings(tmp_path_factory.mktemp("answers"))
        ingest(settings, [])  # the bundled cards only, as on a fresh install
        return Answerer.from_settings(settings, use_llm=False)


@pytest.fixture
def h(tmp_path, answerer):
    ledger = LedgerService.open(load_settings(tmp_path))
    volunteer = ledger.add_member("刘党员", "volunteer", "东村", "一组", telegram_id=VOLUNTEER)
    ledger.add_member("赵网格", "grid_leader", "东村", "一组", telegram_id=GRID)
    ledger.add_member("吴委员", "township_coordinator", "", telegram_id=TOWNSHIP)
    ledger.add_household("东村", "张三", "一组", "12号", 3, "13912345678", ("低保户",), volunteer)
    harness = Harness(ledger.settings, answerer, ledger)
    harness.ledger = ledger
    return harness


def _count(h, table: str) -> int:
    return h.ledger.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _chinese_replies(replies: list[str]) -> bool:
    return bool(replies) and all(CJK.search(r) and "Traceback" not in r for r in replies)


async def test_item10_11_12_battery_through_the_dispatcher_then_export_and_digest(h):
    cases = 0
    for i, (typed, stored) in enumerate(VISIT_NOTES):
        replies = await h.send(f"/走访 张三 {typed}", user_id=VOLUNTEER)
        assert _chinese_replies(replies) and "已记走访" in replies[0], typed
        situation = h.ledger.db.execute(
            "SELECT situation FROM visits ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        assert stored in situation, typed
        assert not UNSAFE.search(situation) and ID not in situation, typed
        assert i + 1 == _count(h, "visits")
        cases += 1
    for typed, stored in PROBLEMS:
        replies = await h.send(f"/走访 张三 看过了 #问题 {typed}", user_id=VOLUNTEER)
        assert _chinese_replies(replies) and "问题 #" in replies[0], typed
        description = h.ledger.db.execute(
            "SELECT description FROM problems ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        assert stored in description and not UNSAFE.search(description), typed
        cases += 1
    visits, problems = _count(h, "visits"), _count(h, "problems")

    # the household's name written with invisible characters still finds 张三
    replies = await h.send("/走访 张\u200b三\x0b 身体还行", user_id=VOLUNTEER)
    assert "已记走访：东村张三家" in replies[0]
    visits += 1
    cases += 1
    # nothing but control characters: a Chinese answer, nothing stored
    for typed in ("/走访 \x0b\x00", "/走访", "\x00\x0b\x1b", "/问题 \x0b 张三"):
        replies = await h.send(typed, user_id=VOLUNTEER)
        if typed == "/走访":  # the guided form starts; leave it
            await h.send("/取消", user_id=VOLUNTEER)
        assert _chinese_replies(replies), repr(typed)
        cases += 1
    assert (visits, problems) == (_count(h, "visits"), _count(h, "problems"))
    # a result typed with a formula, a control character and an ID number
    first = h.ledger.db.execute("SELECT max(id) FROM problems").fetchone()[0]
    replies = await h.send(f"/办结 {first} =1+2 已修好\x0b 身份证{ID}", user_id=TOWNSHIP)
    assert _chinese_replies(replies)
    result = h.ledger.db.execute("SELECT result FROM problems WHERE id=?", [first]).fetchone()[0]
    assert f"=1+2 已修好 身份证{MASKED_ID}" == result
    cases += 1
    # a stranger's policy question with control characters is still answered
    replies = await h.send("家里穷\x0b，能吃\x00低保不", user_id=STRANGER)
    assert _chinese_replies(replies) and "低保" in replies[0]
    cases += 1

    # a grid leader's /我的 and the week's digest show no phone number
    h.ledger.db.execute("UPDATE problems SET deadline='2000-01-01T00:00:00+00:00'")
    mine = "\n".join(await h.send("/我的", user_id=GRID))
    assert "屋顶漏雨" in mine and "138****5678" in mine and "1234" not in mine
    year, number, _ = datetime.now(ZoneInfo("Asia/Shanghai")).isocalendar()
    digest = "\n".join(await h.send(f"/周报 {year}-W{number:02d}", user_id=TOWNSHIP))
    assert "屋顶漏雨" in digest and "138****5678" in digest
    assert not re.search(r"1[3-9]\d{9}", digest) and ID not in digest
    cases += 2

    # the township's /导出 through the Dispatcher opens cleanly
    before = len(h.session.calls)
    replies = await h.send("/导出", user_id=TOWNSHIP)
    assert "[文件]" in replies
    document = next(c for c in h.session.calls[before:] if isinstance(c, SendDocument))
    workbook = load_workbook(io.BytesIO(document.document.data))
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row]
    strings = [c.value for c in cells if isinstance(c.value, str)]
    assert [] == [c.coordinate for c in cells if c.data_type == "f"]
    assert [] == [s for s in strings if UNSAFE.search(s)]
    assert [] == [s for s in strings if ID in s or re.search(r"\d{17}[\dX]", s)]
    assert '=HYPERLINK("http://example.invalid/x","点此查看")' in strings
    summary = " ".join(str(c.value) for c in workbook["汇总"].iter_rows() for c in c)
    assert not re.search(r"1[3-9]\d{9}", summary)
    cases += 1
    assert 37 == cases  # the number of hostile cases above, reported with the issue
