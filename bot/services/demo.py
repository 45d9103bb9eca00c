"""`lianhu demo`: a realistic demo township so that digests and exports show something real.

Three villages, about 30 volunteers, 250 households with tags, eight weeks of visits and
problems in every state. The demo drives the real ledger service with a clock set to each
moment of the story, so every row goes through the same checks, lifecycle table, masking and
audit as live input. Some notes carry phone numbers and ID numbers as volunteers really type
them; they are generated (not real).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.ledger import members as members_db
from bot.ledger.records import Member
from bot.services.ledger_service import LedgerService

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


class DemoClock:
    """The story's 'now': the service reads it for every time it stores."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _fake_id(rng: random.Random) -> str:
    return f"4{rng.randint(10000, 99999)}19{rng.randint(40, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}{rng.choice('0123456789X')}"


def build_demo(ledger: LedgerService, seed: int = 7) -> dict[str, int]:
    if members_db.count_members(ledger.db):
        raise ValueError("数据目录里已经有台账数据，演示数据请用一个新的 --data-dir。")
    rng = random.Random(seed)
    now = ledger.now()
    start = now - timedelta(weeks=WEEKS)
    clock = DemoClock(start - timedelta(days=1))
    story = LedgerService(ledger.db, ledger.settings, clock)
    township = story.add_member("乡镇党建办", "township_coordinator", phone="13700000000")
    admins: dict[str, Member] = {}
    volunteers: dict[str, list[Member]] = {}
    for v_index, village in enumerate(VILLAGES):
        admins[village] = story.add_member(
            f"{village}书记", "village_coordinator", village, phone=f"1380000{v_index:04d}"
        )
        volunteers[village] = []
        names: set[str] = set()
        for grid in ("一组", "二组"):
            story.add_member(f"{village}{grid}网格长", "grid_leader", village, grid)
            for _ in range(5):
                name = _name(rng)
                while name in names:
                    name = _name(rng)
                names.add(name)
                phone = f"139{rng.randint(10**7, 10**8 - 1)}"
                volunteers[village].append(
                    story.add_member(name, "volunteer", village, grid, phone=phone)
                )
    households = []
    for i in range(250):
        village = VILLAGES[i % 3]
        vol = rng.choice(volunteers[village])
        tags = tuple(rng.sample(TAGS, rng.choice((0, 0, 0, 1, 1, 2))))
        phone = (
            f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}" if rng.random() < 0.7 else ""
        )
        household = story.add_household(
            village,
            _name(rng),
            vol.grid,
            f"{rng.randint(1, 120)}号",
            rng.randint(1, 6),
            phone,
            tags,
            vol,
        )
        households.append((household, vol))

    visits = []
    for n in range(int(250 * WEEKS * 0.45)):
        household, vol = rng.choice(households)
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
        method = rng.choice(("入户", "入户", "入户", "电话", "线上"))
        policies = [
            p for p in rng.choice(("", "低保", "医保", "低保,医保", "耕地保护")).split(",") if p
        ]
        problem = rng.choice(PROBLEMS) if rng.random() < 0.18 else None
        visits.append((moment, n, household, vol, situation, method, policies, problem))
    visits.sort(key=lambda item: item[0])  # the story runs forward

    counts = {"members": members_db.count_members(ledger.db), "households": len(households)}
    counts.update(visits=0, problems=0)
    for moment, n, household, vol, situation, method, policies, problem in visits:
        clock.at = moment
        key = f"demo:{seed}:{n}"
        visit = story.log_visit(
            vol, household.id, situation, policies=policies, method=method, client_key=key
        ).visit
        counts["visits"] += 1
        if problem:
            category, text = problem
            opened = story.open_problem(
                vol, household.id, text, f"{key}:problem", category=category, visit_id=visit.id
            )
            _walk(story, clock, rng, opened.id, vol, admins[household.village], township, now, key)
            counts["problems"] += 1
    return counts


def _walk(story, clock, rng, pid, vol, village_admin, township, now, key) -> None:
    """Take one problem along a path of the lifecycle table; stop where the story reaches now."""
    path = rng.choices(("open", "spot", "village", "township", "stuck"), weights=(2, 4, 4, 2, 1))[0]

    def step(actor, action, hours, **kwargs) -> bool:
        clock.at = clock.at + timedelta(hours=hours)
        if clock.at > now:
            return False
        story.move(actor, pid, action, f"{key}:{action}:{clock.at.isoformat()}", None, **kwargs)
        return True

    ok = True
    if path == "spot":
        ok = step(vol, "solve_on_spot", 1, result="当场帮忙办好")
    elif path in ("village", "township", "stuck"):
        ok = step(vol, "escalate", rng.randint(2, 30))
        if ok and path in ("township", "stuck"):
            ok = step(village_admin, "escalate", rng.randint(24, 120))
        if ok and path != "stuck":
            actor = township if path == "township" else village_admin
            ok = step(actor, "resolve", rng.randint(24, 24 * 20), result="已协调办理")
    status = story.problem(township, pid).status
    if ok and status in ("solved_on_spot", "resolved") and rng.random() < 0.7:
        satisfaction = rng.choices(("满意", "基本满意", "不满意"), weights=(7, 2, 1))[0]
        ok = step(vol, "follow_up", rng.randint(24, 96), satisfaction=satisfaction)
        if ok and satisfaction != "不满意" and rng.random() < 0.6:
            step(village_admin, "close", rng.randint(24, 200))
