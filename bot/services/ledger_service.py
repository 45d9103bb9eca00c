"""The ledger facade the bot, the console and the CLI hold: members, households, visits and the
problem lifecycle, with permissions, idempotent writes and an audit of every change.

    ledger = LedgerService.open(settings)
    member = ledger.member_by_telegram(tg_id) / ledger.redeem_invite(code, tg_id, name)
    ledger.create_invite(actor, role, village=None, grid="") -> code
    ledger.visible_households(member) / ledger.find_household(member, "张三")
    ledger.log_visit_text(member, "张三 腿疼 #问题 申请残疾人证", client_key) -> VisitResult
    ledger.log_visit(member, household_id, situation, problem_text=..., client_key=...)
    ledger.correct_visit(member, visit_id, situation, client_key) -> VisitResult (new version)
    ledger.attach_to_last_visit(member, location=..., photo=...)
    ledger.open_problem(member, household_id, description, client_key)
    ledger.solve_on_spot / escalate / resolve / follow_up / close(member, problem_id, ..., client_key,
        expected_version=None) -> TransitionResult
    ledger.next_actions(member, problem) -> ["escalate", "resolve", ...]
    ledger.my_problems(member) / ledger.overdue(member) / ledger.due_households(member)
Errors are LedgerError subclasses whose message is one Chinese sentence for the user.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pypinyin import lazy_pinyin

from bot.config import Settings
from bot.ledger import repo
from bot.ledger.db import connect, now_utc, transaction
from bot.services.ledger_types import (
    COORDINATORS,
    METHODS,
    OPEN_STATUSES,
    ROLES,
    SATISFACTION,
    STATUS_NAMES,
    Ambiguous,
    Conflict,
    Household,
    LedgerError,
    Member,
    NotAllowed,
    NotFound,
    Problem,
    TransitionResult,
    Visit,
    VisitResult,
)
from bot.services.masking import mask_ids
from bot.services.visit_parser import parse_visit

ACTION_NAMES = {
    "solve_on_spot": "当场解决",
    "escalate": "上报",
    "resolve": "办结",
    "follow_up": "回访",
    "close": "销号",
}
MAX_TEXT = 2000  # characters kept of one free-text field
ATTACH_WINDOW_HOURS = 2  # a location or photo attaches to a visit logged this recently


class LedgerService:
    def __init__(self, db, settings: Settings):
        self.db = db
        self.settings = settings
        self.tz = ZoneInfo(settings.schedule.timezone)

    @classmethod
    def open(cls, settings: Settings) -> LedgerService:
        return cls(connect(settings.ledger_path), settings)

    def close_db(self) -> None:
        self.db.conn.close()

    # -- time ---------------------------------------------------------------------------------
    def today(self) -> date:
        return datetime.now(self.tz).date()

    def local(self, iso_utc: str) -> datetime:
        return datetime.fromisoformat(iso_utc).astimezone(self.tz)

    def _deadline(self, level: str, start: datetime | None = None) -> str:
        days = getattr(self.settings.ledger, f"deadline_days_{level}")
        start = start or datetime.now(self.tz)
        return (
            (start + timedelta(days=days)).astimezone(ZoneInfo("UTC")).isoformat(timespec="seconds")
        )

    # -- members ------------------------------------------------------------------------------
    def add_member(
        self,
        name: str,
        role: str,
        village: str = "",
        grid: str = "",
        phone: str = "",
        telegram_id: int | None = None,
        actor: Member | None = None,
    ) -> Member:
        if role not in ROLES:
            raise LedgerError(f"角色只能是：{'、'.join(ROLES)}")
        with transaction(self.db):
            member_id = repo.insert_member(self.db, name, role, village, grid, phone, telegram_id)
            created = repo.member(self.db, member_id)
            repo.audit(
                self.db, actor.id if actor else None, "member", member_id, "create", None, created
            )
        return created

    def member(self, member_id: int) -> Member | None:
        return repo.member(self.db, member_id)

    def member_by_telegram(self, telegram_id: int) -> Member | None:
        return repo.member_by_telegram(self.db, telegram_id)

    def create_invite(
        self, actor: Member, role: str, village: str | None = None, grid: str = "", name: str = ""
    ) -> str:
        if not actor.is_coordinator:
            raise NotAllowed("只有村级、乡镇管理员可以发邀请码。")
        if role not in ROLES:
            raise LedgerError(
                "角色请写：volunteer（联户党员）、grid_leader（网格长）、village_coordinator（村级管理员）。"
            )
        village = village or actor.village
        if actor.role == "village_coordinator" and (
            village != actor.village or role in ("township_coordinator", "admin")
        ):
            raise NotAllowed("村级管理员只能为本村邀请联户党员、网格长或村级管理员。")
        code = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
        with transaction(self.db):
            repo.insert_invite(self.db, code, role, village, grid, name, actor.id)
            repo.audit(
                self.db,
                actor.id,
                "invite",
                0,
                "create",
                None,
                {"code": code, "role": role, "village": village},
            )
        return code

    def redeem_invite(self, code: str, telegram_id: int, name: str) -> Member:
        """Bind a Telegram account with an invite code. Redeeming again is harmless."""
        with transaction(self.db):
            existing = repo.member_by_telegram(self.db, telegram_id)
            invite = repo.invite(self.db, code.strip())
            if invite is None:
                raise NotFound("邀请码不对，请向村里或乡镇管理员要一个新的。")
            if invite["used_by"]:
                used_by = repo.member(self.db, invite["used_by"])
                if used_by and used_by.telegram_id == telegram_id:
                    return used_by
                raise Conflict("这个邀请码已经用过了，请向管理员要一个新的。")
            if existing:
                raise Conflict(f"您已经登记为{existing.name}，不用再用邀请码。")
            # an invite naming someone on the roster binds that member (and their households)
            named = (
                [
                    m
                    for m in repo.members_named(self.db, invite["name"])
                    if m.village == invite["village"] and m.telegram_id is None
                ]
                if invite["name"]
                else []
            )
            if named:
                member_id = named[0].id
                repo.bind_telegram(self.db, member_id, telegram_id)
            else:
                member_id = repo.insert_member(
                    self.db,
                    invite["name"] or name,
                    invite["role"],
                    invite["village"],
                    invite["grid"],
                    "",
                    telegram_id,
                )
            repo.use_invite(self.db, invite["code"], member_id)
            created = repo.member(self.db, member_id)
            repo.audit(self.db, member_id, "member", member_id, "redeem_invite", None, created)
            return created

    # -- households ---------------------------------------------------------------------------
    def add_household(
        self,
        village: str,
        head_name: str,
        grid: str = "",
        house_number: str = "",
        size: int = 1,
        phone: str = "",
        tags: tuple[str, ...] = (),
        volunteer: Member | None = None,
        actor: Member | None = None,
    ) -> Household:
        with transaction(self.db):
            hid = repo.insert_household(
                self.db,
                village,
                head_name,
                grid,
                house_number,
                size,
                phone,
                tags,
                volunteer.id if volunteer else None,
            )
            created = repo.household(self.db, hid)
            repo.audit(
                self.db, actor.id if actor else None, "household", hid, "create", None, created
            )
        return created

    def visible_households(self, member: Member) -> list[Household]:
        return repo.visible_households(self.db, member)

    def household(self, member: Member, household_id: int) -> Household:
        found = repo.household(self.db, household_id)
        if found is None or not repo.can_see_household(self.db, member, household_id):
            raise NotFound("没有找到这户，或者这户不归您联系。")
        return found

    def household_name(self, household_id: int) -> str:
        """村 + 户主 of a household already shown to the member (a problem's, say)."""
        found = repo.household(self.db, household_id)
        return f"{found.village}{found.head_name}" if found else ""

    def find_household(self, member: Member, query: str) -> Household:
        """By id (户12 / 12), house number, or head's name tolerant of one wrong character or a
        same-sounding one; several matches give the candidates instead of a guess."""
        query = query.strip().removeprefix("#")
        households = repo.visible_households(self.db, member)
        if not households:
            raise NotFound("您名下还没有联系户，请管理员先导入花名册。")
        number = query.removeprefix("户")
        if number.isdigit():
            by_id = [h for h in households if h.id == int(number)]
            if by_id:
                return by_id[0]
        exact = [
            h for h in households if query in (h.head_name, h.house_number, f"{h.head_name}家")
        ]
        candidates = exact or _similar(query, households)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise NotFound(f"您联系的农户里没有“{query}”，请检查户主姓名，或发 /户 看看名单。")
        raise Ambiguous(f"有 {len(candidates)} 户都像“{query}”，请选一户：", candidates)

    # -- visits -------------------------------------------------------------------------------
    def log_visit_text(self, member: Member, text: str, client_key: str) -> VisitResult:
        replay = repo.visit_by_key(self.db, client_key)
        if replay:
            return self._replayed_visit(replay)
        parsed = parse_visit(text, self.today())
        household = self.find_household(member, parsed.household)
        return self.log_visit(
            member,
            household.id,
            parsed.situation,
            problem_text=parsed.problem,
            policies=parsed.policies,
            visit_date=parsed.visit_date,
            method=parsed.method,
            client_key=client_key,
        )

    def log_visit(
        self,
        member: Member,
        household_id: int,
        situation: str,
        *,
        problem_text: str = "",
        policies: list[str] | tuple[str, ...] = (),
        visit_date: date | None = None,
        method: str = "入户",
        client_key: str,
        supersedes: int | None = None,
    ) -> VisitResult:
        if method not in METHODS:
            raise LedgerError("走访方式只能是：入户、电话、线上。")
        if visit_date and visit_date > self.today():
            raise LedgerError("走访日期还没到，请写今天或以前的日期。")
        situation, masked_a = mask_ids(situation.strip()[:MAX_TEXT])
        problem_text, masked_b = mask_ids(problem_text.strip()[:MAX_TEXT])
        if not situation and not problem_text:
            situation = "走访，无特殊情况"
        household = self.household(member, household_id)
        visited_at = self._visit_time(visit_date)
        with transaction(self.db):
            replay = repo.visit_by_key(self.db, client_key)
            if replay:
                return self._replayed_visit(replay)
            if supersedes:
                old = repo.visit(self.db, supersedes)
                if old is None:
                    raise NotFound("要更正的走访记录不存在。")
            visit_id = repo.insert_visit(
                self.db,
                household.id,
                member.id,
                visited_at,
                method,
                situation,
                problem_text,
                ",".join(policies),
                client_key,
                supersedes,
            )
            visit = repo.visit(self.db, visit_id)
            repo.audit(
                self.db,
                member.id,
                "visit",
                visit_id,
                "correct" if supersedes else "create",
                repo.visit(self.db, supersedes) if supersedes else None,
                visit,
            )
            problem = None
            if problem_text:
                problem = self._insert_problem(
                    member, household, visit_id, problem_text, f"{client_key}:problem"
                )
        return VisitResult(
            visit=visit, household=household, problem=problem, masked_ids=masked_a + masked_b
        )

    def correct_visit(
        self, member: Member, visit_id: int, situation: str, client_key: str
    ) -> VisitResult:
        """A correction is a new version linked to the old one; the old row stays as it was."""
        old = repo.visit(self.db, visit_id)
        if old is None or not repo.can_see_household(self.db, member, old.household_id):
            raise NotFound("没有找到这条走访记录。")
        if old.member_id != member.id and not member.is_coordinator:
            raise NotAllowed("只能更正自己的走访记录。")
        return self.log_visit(
            member,
            old.household_id,
            situation,
            method=old.method,
            visit_date=self.local(old.visited_at).date(),
            client_key=client_key,
            supersedes=old.id,
        )

    def attach_to_last_visit(
        self, member: Member, location: str | None = None, photo: str | None = None
    ) -> Visit:
        with transaction(self.db):
            last = repo.last_visit_of(self.db, member.id)
            recent = last and datetime.fromisoformat(now_utc()) - datetime.fromisoformat(
                repo.visit_created_at(self.db, last.id)
            ) <= timedelta(hours=ATTACH_WINDOW_HOURS)
            if not recent:
                raise NotFound("请先用 /走访 记一次走访，再发位置或照片。")
            photos = [*last.photos, photo] if photo and photo not in last.photos else None
            repo.set_visit_attachment(self.db, last.id, location, photos)
            updated = repo.visit(self.db, last.id)
            repo.audit(self.db, member.id, "visit", last.id, "attach", last, updated)
            return updated

    def _visit_time(self, visit_date: date | None) -> str:
        now = datetime.now(self.tz)
        if visit_date is None or visit_date == now.date():
            moment = now
        else:
            moment = datetime.combine(visit_date, time(12, 0), self.tz)
        return moment.astimezone(ZoneInfo("UTC")).isoformat(timespec="seconds")

    def _replayed_visit(self, visit: Visit) -> VisitResult:
        household = repo.household(self.db, visit.household_id)
        problem = repo.problem_by_key(self.db, f"{self._key_of(visit)}:problem")
        return VisitResult(visit=visit, household=household, problem=problem, replayed=True)

    def _key_of(self, visit: Visit) -> str:
        return repo.visit_client_key(self.db, visit.id)

    # -- problems -----------------------------------------------------------------------------
    def open_problem(
        self,
        member: Member,
        household_id: int,
        description: str,
        client_key: str,
        category: str = "",
        visit_id: int | None = None,
    ) -> Problem:
        description, _ = mask_ids(description.strip()[:MAX_TEXT])
        if not description:
            raise LedgerError("请写清楚是什么问题，比如“/问题 张三 屋顶漏雨”。")
        household = self.household(member, household_id)
        with transaction(self.db):
            existing = repo.problem_by_key(self.db, client_key)
            if existing:
                return existing
            return self._insert_problem(
                member, household, visit_id, description, client_key, category
            )

    def _insert_problem(
        self,
        member: Member,
        household: Household,
        visit_id: int | None,
        description: str,
        client_key: str,
        category: str = "",
    ) -> Problem:
        pid = repo.insert_problem(
            self.db,
            household.id,
            visit_id,
            member.id,
            category,
            description,
            "volunteer",
            "recorded",
            self._deadline("volunteer"),
            now_utc(),
            client_key,
        )
        created = repo.problem(self.db, pid)
        repo.audit(self.db, member.id, "problem", pid, "create", None, created)
        return created

    def problem(self, member: Member, problem_id: int) -> Problem:
        found = repo.problem(self.db, problem_id)
        if found is None or not repo.can_see_household(self.db, member, found.household_id):
            raise NotFound(f"没有找到编号 {problem_id} 的问题，或您无权查看。")
        return found

    def solve_on_spot(self, member, problem_id, result, client_key, expected_version=None):
        return self._transition(
            member, problem_id, "solve_on_spot", client_key, expected_version, result=result
        )

    def escalate(self, member, problem_id, client_key, expected_version=None, note=""):
        return self._transition(
            member, problem_id, "escalate", client_key, expected_version, note=note
        )

    def resolve(self, member, problem_id, result, client_key, expected_version=None):
        return self._transition(
            member, problem_id, "resolve", client_key, expected_version, result=result
        )

    def follow_up(
        self, member, problem_id, satisfaction, client_key, expected_version=None, note=""
    ):
        return self._transition(
            member,
            problem_id,
            "follow_up",
            client_key,
            expected_version,
            satisfaction=satisfaction,
            note=note,
        )

    def close(self, member, problem_id, client_key, expected_version=None):
        return self._transition(member, problem_id, "close", client_key, expected_version)

    def next_actions(self, member: Member, problem: Problem) -> list[str]:
        household = repo.household(self.db, problem.household_id)
        return [a for a in ACTION_NAMES if _allowed(member, a, problem, household) is None]

    def _transition(
        self,
        member: Member,
        problem_id: int,
        action: str,
        client_key: str,
        expected_version: int | None,
        result: str = "",
        satisfaction: str = "",
        note: str = "",
    ) -> TransitionResult:
        result, _ = mask_ids(result.strip()[:MAX_TEXT])
        note, _ = mask_ids(note.strip()[:MAX_TEXT])
        if action in ("solve_on_spot", "resolve") and not result:
            raise LedgerError("请写上办理结果，比如“/办结 12 已申请残疾人证”。")
        if action == "follow_up" and satisfaction not in SATISFACTION:
            raise LedgerError("回访请选：满意、基本满意 或 不满意。")
        with transaction(self.db):
            if repo.event_by_key(self.db, client_key):  # a redelivered message or a double tap
                return TransitionResult(repo.problem(self.db, problem_id), replayed=True)
            problem = repo.problem(self.db, problem_id)
            if problem is None or not repo.can_see_household(self.db, member, problem.household_id):
                raise NotFound(f"没有找到编号 {problem_id} 的问题，或您无权处理。")
            if expected_version is not None and expected_version != problem.version:
                last = repo.last_event(self.db, problem_id)
                who = f"{last['actor_name']}刚刚" if last else "别人刚刚"
                raise Conflict(
                    f"这个问题{who}处理过了，现在是“{STATUS_NAMES[problem.status]}”，请看最新情况。"
                )
            household = repo.household(self.db, problem.household_id)
            refusal = _allowed(member, action, problem, household)
            if refusal:
                raise NotAllowed(refusal)
            changes = self._changes(action, problem, result, satisfaction)
            if not repo.update_problem(self.db, problem_id, problem.version, **changes):
                raise Conflict("这个问题刚被别人处理过了，请看最新情况。")
            updated = repo.problem(self.db, problem_id)
            repo.insert_event(
                self.db,
                problem_id,
                member.id,
                action,
                problem.status,
                updated.status,
                note or result or satisfaction,
                client_key,
            )
            repo.audit(self.db, member.id, "problem", problem_id, action, problem, updated)
            return TransitionResult(updated)

    def _changes(self, action: str, problem: Problem, result: str, satisfaction: str) -> dict:
        now = now_utc()
        if action == "solve_on_spot":
            return {"status": "solved_on_spot", "result": result, "resolved_at": now}
        if action == "escalate":
            level = "village" if problem.level == "volunteer" else "township"
            return {
                "status": f"escalated_{level}",
                "level": level,
                "deadline": self._deadline(level),
            }
        if action == "resolve":
            return {"status": "resolved", "result": result, "resolved_at": now}
        if action == "follow_up":
            if satisfaction == "不满意":  # reopened at the level that last had it
                status = {"volunteer": "recorded"}.get(problem.level, f"escalated_{problem.level}")
                return {
                    "status": status,
                    "satisfaction": satisfaction,
                    "resolved_at": "",
                    "deadline": self._deadline(problem.level),
                }
            return {"status": "followed_up", "satisfaction": satisfaction}
        return {"status": "closed", "closed_at": now}

    # -- lists ----------------------------------------------------------------------------------
    def my_problems(self, member: Member, limit: int = 30) -> list[Problem]:
        return repo.problems_in_scope(
            self.db,
            member,
            (
                "recorded",
                "escalated_village",
                "escalated_township",
                "solved_on_spot",
                "resolved",
                "followed_up",
            ),
            limit,
        )

    def overdue(self, member: Member, limit: int = 50) -> list[Problem]:
        now = now_utc()
        return [
            p
            for p in repo.problems_in_scope(self.db, member, OPEN_STATUSES, 10_000)
            if p.deadline < now
        ][:limit]

    def due_households(
        self, member: Member, today: date | None = None
    ) -> list[tuple[Household, str]]:
        """Special-group households not yet visited in their period (computed, not stored):
        a tag due every N months needs a visit since the start of the N-month window."""
        today = today or self.today()
        rhythm = self.settings.ledger.special_tags
        households = [
            h for h in repo.visible_households(self.db, member) if any(t in rhythm for t in h.tags)
        ]
        last = repo.last_visits(self.db, [h.id for h in households])
        due = []
        for h in households:
            months = min(rhythm[t] for t in h.tags if t in rhythm)
            start_month = (today.year * 12 + today.month - 1) - (months - 1)
            window_start = datetime(start_month // 12, start_month % 12 + 1, 1, tzinfo=self.tz)
            seen = last.get(h.id)
            if not seen or self.local(seen) < window_start:
                due.append((h, seen or ""))
        return due

    # -- digest, export, backup -----------------------------------------------------------------
    def digest(self, week: str | None = None, village: str | None = None):
        from bot.services.digest import build_digest

        return build_digest(
            self.db, week, village, self.tz, list(self.settings.ledger.special_tags), self.today()
        )

    def export(
        self,
        path,
        viewer: Member | None = None,
        village: str | None = None,
        week: str | None = None,
    ) -> dict[str, int]:
        """Export for a viewer's scope (a village coordinator: their village); phones shown only
        to the roles in [ledger] phone_visible_roles. No viewer: the whole ledger, masked.

        Reads through its own connection: the bot runs an export in a worker thread while the
        event loop keeps writing through the shared one."""
        from bot.services.digest import build_digest
        from bot.services.export import export_workbook

        if viewer is not None and viewer.role == "village_coordinator":
            village = viewer.village
        elif viewer is not None and viewer.role not in ("township_coordinator", "admin"):
            raise NotAllowed("只有村级、乡镇管理员可以导出台账。")
        show_phones = viewer is not None and viewer.role in self.settings.ledger.phone_visible_roles
        db = connect(self.settings.ledger_path)
        try:
            tags = list(self.settings.ledger.special_tags)
            digest = build_digest(db, week, village, self.tz, tags, self.today())
            written = export_workbook(db, path, digest, self.tz, show_phones, village)
            if show_phones:
                # full phone numbers left the system: record who took them, where, for which area
                with transaction(db):
                    repo.audit(
                        db,
                        viewer.id,
                        "export",
                        0,
                        "export_with_phones",
                        None,
                        {"file": str(path), "village": village or "全乡镇", "rows": written},
                    )
            return written
        finally:
            db.conn.close()

    def backup(self, target) -> None:
        """A consistent copy while the bot keeps writing: SQLite's online backup API."""
        import sqlite3

        target.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(target)
        with dest:
            self.db.conn.backup(dest)
        dest.close()


def _allowed(
    member: Member, action: str, problem: Problem, household: Household | None
) -> str | None:
    """None when the member may take the action now, else the Chinese reason why not."""
    name = ACTION_NAMES[action]
    status = problem.status
    state = STATUS_NAMES[status]
    owner = household is not None and (
        household.volunteer_id == member.id or problem.reporter_id == member.id
    )
    field_roles = ("grid_leader", *COORDINATORS)
    if action == "solve_on_spot":
        if status != "recorded":
            return f"这个问题现在是“{state}”，不能再{name}。"
        return (
            None
            if owner or member.role in field_roles
            else "只有联系这户的党员或网格长、管理员可以当场解决。"
        )
    if action == "escalate":
        if status == "recorded":
            return (
                None
                if owner or member.role in field_roles
                else "只有联系这户的党员或网格长、管理员可以上报。"
            )
        if status == "escalated_village":
            return None if member.role in COORDINATORS else "上报乡镇要由村级管理员来办。"
        return f"这个问题现在是“{state}”，不能再上报。"
    if action == "resolve":
        if status not in OPEN_STATUSES:
            return f"这个问题现在是“{state}”，不能再办结。"
        if problem.level == "volunteer":
            return (
                None
                if owner or member.role in field_roles
                else "只有联系这户的党员或管理员可以办结。"
            )
        if problem.level == "village":
            return (
                None if member.role in COORDINATORS else "这个问题已上报村级，要由村级管理员办结。"
            )
        return (
            None
            if member.role in ("township_coordinator", "admin")
            else "这个问题已上报乡镇，要由乡镇办结。"
        )
    if action == "follow_up":
        if status not in ("solved_on_spot", "resolved"):
            return f"这个问题现在是“{state}”，办结以后才能回访。"
        return (
            None if owner or member.role in field_roles else "只有联系这户的党员或管理员可以回访。"
        )
    if status != "followed_up":
        return f"这个问题现在是“{state}”，回访以后才能销号。"
    return None if member.role in COORDINATORS else "销号要由村级或乡镇管理员来办。"


def _similar(query: str, households: list[Household]) -> list[Household]:
    """Heads whose name differs from the query in one character, or sounds the same."""
    sound = "".join(lazy_pinyin(query))
    found = []
    for h in households:
        name = h.head_name
        if len(name) == len(query) and sum(a != b for a, b in zip(name, query, strict=True)) <= 1:
            found.append(h)
        elif "".join(lazy_pinyin(name)) == sound:
            found.append(h)
    return found


def problem_summary(problem: Problem) -> str:
    return f"#{problem.id} {STATUS_NAMES[problem.status]}：{problem.description[:60]}"
