"""Problem lifecycle: every transition, every refusal, who may act, replays and races."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import make_village

from bot.ledger import audit as audit_db
from bot.ledger import rows as rows_db
from bot.services.ledger_types import Ambiguous, Conflict, LedgerError, NotAllowed, NotFound


@pytest.fixture
def v(tmp_path):
    return make_village(tmp_path)


def _problem(v, key="k1"):
    return v.ledger.open_problem(v.volunteer, v.zhang.id, "屋顶漏雨", client_key=key)


def test_full_path_through_village_and_township(v):
    p = _problem(v)
    assert ("recorded", "volunteer") == (p.status, p.level)
    p = v.ledger.escalate(v.volunteer, p.id, "e1").problem
    assert ("escalated_village", "village") == (p.status, p.level)
    p = v.ledger.escalate(v.village_admin, p.id, "e2").problem
    assert ("escalated_township", "township") == (p.status, p.level)
    p = v.ledger.resolve(v.township, p.id, "已修好屋顶", "r1").problem
    assert ("resolved", "已修好屋顶") == (p.status, p.result)
    p = v.ledger.follow_up(v.volunteer, p.id, "满意", "f1").problem
    assert ("followed_up", "满意") == (p.status, p.satisfaction)
    p = v.ledger.close(v.village_admin, p.id, "c1").problem
    assert "closed" == p.status and p.closed_at
    actions = [
        e["action"]
        for e in rows_db.all_rows(v.ledger.db, "SELECT action FROM problem_events ORDER BY id", [])
    ]
    assert ["escalate", "escalate", "resolve", "follow_up", "close"] == actions


def test_solved_on_the_spot_then_followed_up(v):
    p = _problem(v)
    p = v.ledger.solve_on_spot(v.volunteer, p.id, "帮忙联系了维修", "s1").problem
    assert "solved_on_spot" == p.status
    assert "followed_up" == v.ledger.follow_up(v.volunteer, p.id, "基本满意", "f1").problem.status


def test_unsatisfied_follow_up_reopens_at_its_level(v):
    p = _problem(v)
    v.ledger.escalate(v.volunteer, p.id, "e1")
    v.ledger.resolve(v.village_admin, p.id, "已协调", "r1")
    p = v.ledger.follow_up(v.volunteer, p.id, "不满意", "f1").problem
    assert ("escalated_village", "不满意", "") == (p.status, p.satisfaction, p.resolved_at)


@pytest.mark.parametrize(
    ("prepare", "action", "message"),
    [
        ([], "close", "回访以后才能销号"),
        ([], "follow_up", "办结以后才能回访"),
        (["solve"], "escalate", "不能再上报"),
        (["solve"], "resolve", "不能再办结"),
        (["escalate"], "solve", "不能再当场解决"),
    ],
)
def test_refused_transitions(v, prepare, action, message):
    p = _problem(v)
    if "solve" in prepare:
        v.ledger.solve_on_spot(v.volunteer, p.id, "已解决", "prep-s")
    if "escalate" in prepare:
        v.ledger.escalate(v.volunteer, p.id, "prep-e")
    calls = {
        "close": lambda: v.ledger.close(v.village_admin, p.id, "x"),
        "follow_up": lambda: v.ledger.follow_up(v.volunteer, p.id, "满意", "x"),
        "escalate": lambda: v.ledger.escalate(v.village_admin, p.id, "x"),
        "resolve": lambda: v.ledger.resolve(v.village_admin, p.id, "结果", "x"),
        "solve": lambda: v.ledger.solve_on_spot(v.volunteer, p.id, "结果", "x"),
    }
    with pytest.raises(NotAllowed, match=message):
        calls[action]()


def test_permissions_by_role(v):
    p = _problem(v)
    # another village's coordinator cannot even see it; a volunteer of another household cannot act
    with pytest.raises(NotFound):
        v.ledger.escalate(v.other_village_admin, p.id, "x1")
    with pytest.raises(NotFound):
        v.ledger.escalate(v.other_volunteer, p.id, "x2")
    v.ledger.escalate(v.volunteer, p.id, "e1")
    # at village level only coordinators resolve or escalate further
    with pytest.raises(NotAllowed, match="村级管理员"):
        v.ledger.resolve(v.volunteer, p.id, "自己办了", "x3")
    with pytest.raises(NotAllowed, match="村级管理员"):
        v.ledger.escalate(v.grid_leader, p.id, "x4")
    v.ledger.escalate(v.village_admin, p.id, "e2")
    with pytest.raises(NotAllowed, match="乡镇"):
        v.ledger.resolve(v.village_admin, p.id, "村里办了", "x5")
    v.ledger.resolve(v.township, p.id, "乡里办了", "r1")
    v.ledger.follow_up(v.volunteer, p.id, "满意", "f1")
    with pytest.raises(NotAllowed, match="管理员"):
        v.ledger.close(v.volunteer, p.id, "x6")
    assert ["close"] == v.ledger.next_actions(
        v.village_admin, v.ledger.problem(v.village_admin, p.id)
    )


def test_same_client_key_twice_gives_one_row(v):
    first = v.ledger.log_visit_text(v.volunteer, "张三 腿疼 #问题 申请轮椅", "chat1:msg7")
    again = v.ledger.log_visit_text(v.volunteer, "张三 腿疼 #问题 申请轮椅", "chat1:msg7")
    assert (first.visit.id, first.problem.id) == (again.visit.id, again.problem.id)
    assert again.replayed
    counts = v.ledger.db.execute(
        "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM problems)"
    ).fetchone()
    assert (1, 1) == counts
    p = first.problem
    a = v.ledger.escalate(v.volunteer, p.id, "cb:55")
    b = v.ledger.escalate(v.volunteer, p.id, "cb:55")  # double tap on the same button
    assert (a.problem.version, False) == (b.problem.version, a.replayed)
    assert b.replayed
    assert 1 == v.ledger.db.execute("SELECT count(*) FROM problem_events").fetchone()[0]


def test_two_coordinators_at_once_one_wins(v):
    p = _problem(v)
    v.ledger.escalate(v.volunteer, p.id, "e1")
    seen = v.ledger.problem(v.village_admin, p.id)  # both looked at the same version
    v.ledger.resolve(v.village_admin, p.id, "孙书记办结", "r-sun", expected_version=seen.version)
    with pytest.raises(Conflict, match="孙书记刚刚处理过"):
        v.ledger.resolve(v.township, p.id, "吴委员办结", "r-wu", expected_version=seen.version)
    assert "孙书记办结" == v.ledger.problem(v.township, p.id).result


def test_every_change_is_audited(v):
    p = _problem(v)
    v.ledger.escalate(v.volunteer, p.id, "e1")
    rows = audit_db.audit_rows(v.ledger.db, "problem", p.id)
    assert ["create", "escalate"] == [r["action"] for r in rows]
    assert (
        '"status": "recorded"' in rows[1]["before"]
        and '"status": "escalated_village"' in rows[1]["after"]
    )
    assert v.volunteer.id == rows[1]["actor_id"]


def test_visit_log_grammar_and_household_matching(v):
    r = v.ledger.log_visit_text(v.volunteer, "张三家 昨天 电话 宣讲:低保,医保 身体还行", "k1")
    assert ("电话", "低保,医保", "身体还行") == (
        r.visit.method,
        r.visit.policies,
        r.visit.situation,
    )
    assert v.ledger.today() - timedelta(days=1) == v.ledger.local(r.visit.visited_at).date()
    assert (
        v.li.id == v.ledger.log_visit_text(v.volunteer, "李思 挺好", "k2").household.id
    )  # one character off
    assert v.li.id == v.ledger.log_visit_text(v.volunteer, "13号 挺好", "k3").household.id
    with pytest.raises(NotFound, match="没有"):
        v.ledger.log_visit_text(v.volunteer, "王五 挺好", "k4")  # not this volunteer's household
    v.ledger.add_household("东村", "张叁", "一组", "14号", 1, "", (), v.volunteer)
    with pytest.raises(Ambiguous) as err:
        v.ledger.log_visit_text(v.volunteer, "张散 挺好", "k5")
    assert {"张三", "张叁"} == {h.head_name for h in err.value.candidates}


def test_future_date_and_empty_line_are_refused(v):
    future = v.ledger.today() + timedelta(days=5)
    with pytest.raises(LedgerError, match="还没到"):
        v.ledger.log_visit_text(v.volunteer, f"张三 {future:%Y-%m-%d} 看望", "k1")
    with pytest.raises(LedgerError, match="/走访"):
        v.ledger.log_visit_text(v.volunteer, "   ", "k2")
    assert 0 == v.ledger.db.execute("SELECT count(*) FROM visits").fetchone()[0]


def test_id_numbers_are_masked_before_storage(v):
    r = v.ledger.log_visit_text(
        v.volunteer, "张三 身份证110105194912310021要补办 #问题 电话13912345678", "k1"
    )
    assert 1 == r.masked_ids
    stored = v.ledger.db.execute("SELECT situation FROM visits").fetchone()[0]
    assert "110105194912310021" not in stored and "110105********0021" in stored


def test_correction_is_a_new_linked_version(v):
    first = v.ledger.log_visit_text(v.volunteer, "张三 腿疼", "k1").visit
    fixed = v.ledger.correct_visit(v.volunteer, first.id, "腰疼，不是腿疼", "k2").visit
    assert first.id == fixed.supersedes
    rows = v.ledger.db.execute(
        "SELECT id, situation, superseded_by FROM visits ORDER BY id"
    ).fetchall()
    assert [(first.id, "腿疼", fixed.id), (fixed.id, "腰疼，不是腿疼", None)] == rows


def test_due_list_is_computed_from_visits(v):
    due = {h.head_name for h, _ in v.ledger.due_households(v.volunteer)}
    assert {"张三", "李四"} == due
    v.ledger.log_visit_text(v.volunteer, "张三 看望", "k1")
    assert {"李四"} == {h.head_name for h, _ in v.ledger.due_households(v.volunteer)}


def test_invite_binds_a_telegram_account_once(v):
    code = v.ledger.create_invite(
        v.village_admin, "volunteer", grid="一组", name="新党员", confirm_new=True
    )
    m = v.ledger.redeem_invite(code, 777, "Tg名")
    assert ("新党员", "volunteer", "东村", 777) == (m.name, m.role, m.village, m.telegram_id)
    assert m == v.ledger.redeem_invite(code, 777, "Tg名")  # redelivered /start
    with pytest.raises(Conflict):
        v.ledger.redeem_invite(code, 888, "别人")
    with pytest.raises(NotAllowed):
        v.ledger.create_invite(v.volunteer, "volunteer")
    with pytest.raises(NotAllowed):
        v.ledger.create_invite(v.village_admin, "township_coordinator")
