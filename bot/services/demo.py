"""`lianhu demo`: a realistic demo township so that digests and exports show something real.

Three villages, about 30 volunteers, 250 households with tags, eight weeks of visits and
problems in every state. Some notes carry phone numbers and ID numbers as volunteers really
type them; they are generated (not real) and go through the same masking as live input.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.ledger import repo
from bot.ledger.db import transaction
from bot.services.ledger_service import LedgerService
from bot.services.masking import mask_ids

VILLAGES = ("东山村", "西河村", "南坡村")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英桂兰春花志强国华玉梅德福金凤海军小红文明长林淑珍永福"
TAGS = ("低保户", "特困户", "空巢老人", "重病", "重残", "留守儿童", "脱贫监测户")
SITUATIONS = (
    "身体还行，地里活忙完了",
    "老人腿脚不好，需要人照看",
    "孩子在外打工，过年回来",
    "房子墙体有裂缝",
    "医保已交，药费负担重",
    "家里收入稳定",
    "想了解低保政策",
    "说邻里有点矛盾",
)
PROBLEMS = (
    ("住房", "屋顶漏雨需要维修"),
    ("医疗", "慢性病门诊报销不会办"),
    ("救助", "想申请临时救助"),
    ("纠纷", "和邻居因地界吵架"),
    ("证件", "残疾人证到期要换"),
    ("基础设施", "门前路灯坏了"),
    ("土地", "承包地被人占用"),
    ("低保", "低保金这个月没到账"),
)
WEEKS = 8
NOW = object()  # in a demo step: "the time of this step"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _fake_id(rng: random.Random) -> str:
    return f"4{rng.randint(10000, 99999)}19{rng.randint(40, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}{rng.choice('0123456789X')}"


def build_demo(ledger: LedgerService, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    db = ledger.db
    tz = ZoneInfo(ledger.settings.schedule.timezone)
    utc = ZoneInfo("UTC")
    now = datetime.now(tz)
    start = now - timedelta(weeks=WEEKS)
    counts = {"members": 0, "households": 0, "visits": 0, "problems": 0}
    with transaction(db):
        if repo.count_members(db):
            raise ValueError("数据目录里已经有台账数据，演示数据请用一个新的 --data-dir。")
        township = repo.insert_member(
            db, "乡镇党建办", "township_coordinator", "", "", "13700000000", None
        )
        volunteers: dict[str, list[int]] = {}
        for v_index, village in enumerate(VILLAGES):
            repo.insert_member(
                db,
                f"{village}书记",
                "village_coordinator",
                village,
                "",
                f"1380000{v_index:04d}",
                None,
            )
            volunteers[village] = []
            for grid in ("一组", "二组"):
                repo.insert_member(
                    db, f"{village}{grid}网格长", "grid_leader", village, grid, "", None
                )
                for _ in range(5):
                    name = _name(rng)
                    while repo.member_exists(db, name, village):
                        name = _name(rng)
                    volunteers[village].append(
                        repo.insert_member(
                            db,
                            name,
                            "volunteer",
                            village,
                            grid,
                            f"139{rng.randint(10**7, 10**8 - 1)}",
                            None,
                        )
                    )
        counts["members"] = repo.count_members(db)
        households = []
        for i in range(250):
            village = VILLAGES[i % 3]
            vol = rng.choice(volunteers[village])
            grid = repo.member(db, vol).grid
            tags = tuple(rng.sample(TAGS, rng.choice((0, 0, 0, 1, 1, 2))))
            phone = (
                f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}"
                if rng.random() < 0.7
                else ""
            )
            hid = repo.insert_household(
                db,
                village,
                _name(rng),
                grid,
                f"{rng.randint(1, 120)}号",
                rng.randint(1, 6),
                phone,
                tags,
                vol,
            )
            households.append((hid, vol))
        counts["households"] = len(households)
        for n in range(int(250 * WEEKS * 0.45)):
            hid, vol = rng.choice(households)
            if rng.random() < 0.05:  # some volunteers visit little: the digest names them
                continue
            moment = start + timedelta(seconds=rng.randint(0, WEEKS * 7 * 86400 - 3600))
            situation = rng.choice(SITUATIONS)
            if rng.random() < 0.03:
                situation += (
                    f"，儿子电话{rng.choice(['138', '159', '186'])}{rng.randint(10**7, 10**8 - 1)}"
                )
            if rng.random() < 0.02:
                situation += f"，身份证号{_fake_id(rng)}要补办"
            situation, _ = mask_ids(situation)
            at = moment.astimezone(utc).isoformat(timespec="seconds")
            visit_id = repo.insert_visit(
                db,
                hid,
                vol,
                at,
                rng.choice(("入户", "入户", "入户", "电话", "线上")),
                situation,
                "",
                rng.choice(("", "低保", "医保", "低保,医保", "耕地保护")),
                f"demo:{seed}:{n}",
            )
            counts["visits"] += 1
            if rng.random() < 0.18:
                _demo_problem(db, rng, hid, vol, visit_id, moment, now, township, n, seed, ledger)
                counts["problems"] += 1
    return counts


def _demo_problem(db, rng, hid, vol, visit_id, moment, now, township, n, seed, ledger) -> None:
    utc = ZoneInfo("UTC")
    category, text = rng.choice(PROBLEMS)
    iso = lambda t: t.astimezone(utc).isoformat(timespec="seconds")  # noqa: E731
    days = ledger.settings.ledger
    pid = repo.insert_problem(
        db,
        hid,
        visit_id,
        vol,
        category,
        text,
        "volunteer",
        "recorded",
        iso(moment + timedelta(days=days.deadline_days_volunteer)),
        iso(moment),
        f"demo:{seed}:{n}:problem",
    )
    village_admin = repo.village_coordinator_of(db, hid)
    path = rng.choices(("open", "spot", "village", "township", "stuck"), weights=(2, 4, 4, 2, 1))[0]
    t = moment
    state = {
        "status": "recorded",
        "level": "volunteer",
        "resolved_at": "",
        "result": "",
        "closed_at": "",
        "satisfaction": "",
        "deadline": iso(moment + timedelta(days=days.deadline_days_volunteer)),
    }

    def step(actor, action, to_status, hours, **changes):
        nonlocal t
        t = t + timedelta(hours=hours)
        if t > now:
            return False
        changes = {k: iso(t) if v is NOW else v for k, v in changes.items()}
        note = changes.get("result", "") or changes.get("satisfaction", "")
        repo.insert_event(
            db,
            pid,
            actor,
            action,
            state["status"],
            to_status,
            note,
            f"demo:{seed}:{n}:{action}:{to_status}",
            at=iso(t),
        )
        state.update(status=to_status, **changes)
        return True

    ok = True
    if path == "spot":
        ok = step(
            vol,
            "solve_on_spot",
            "solved_on_spot",
            1,
            result="当场帮忙办好",
            resolved_at=NOW,
        )
    elif path in ("village", "township", "stuck"):
        ok = step(
            vol,
            "escalate",
            "escalated_village",
            rng.randint(2, 30),
            level="village",
            deadline=iso(t + timedelta(days=days.deadline_days_village)),
        )
        if ok and path in ("township", "stuck"):
            ok = step(
                village_admin,
                "escalate",
                "escalated_township",
                rng.randint(24, 120),
                level="township",
                deadline=iso(t + timedelta(days=days.deadline_days_township)),
            )
        if ok and path != "stuck":
            actor = township if path == "township" else village_admin
            hours = rng.randint(24, 24 * 20)
            ok = step(
                actor,
                "resolve",
                "resolved",
                hours,
                result="已协调办理",
                resolved_at=NOW,
            )
    if ok and state["status"] in ("solved_on_spot", "resolved") and rng.random() < 0.7:
        satisfaction = rng.choices(("满意", "基本满意", "不满意"), weights=(7, 2, 1))[0]
        if satisfaction == "不满意":
            ok = step(
                vol,
                "follow_up",
                f"escalated_{state['level']}" if state["level"] != "volunteer" else "recorded",
                rng.randint(24, 96),
                satisfaction=satisfaction,
                resolved_at="",
            )
        else:
            ok = step(
                vol, "follow_up", "followed_up", rng.randint(24, 96), satisfaction=satisfaction
            )
            if ok and rng.random() < 0.6:
                step(
                    village_admin,
                    "close",
                    "closed",
                    rng.randint(24, 200),
                    closed_at=NOW,
                )
    repo.set_problem_fields(db, pid, **state)
