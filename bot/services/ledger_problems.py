"""Problems: opening one, moving it through the lifecycle table, and the lists people work from.

Every move runs in one `BEGIN IMMEDIATE` transaction: a replayed client key returns the first
result; an `expected_version` that no longer matches is refused with who moved it last; the
update itself is a compare-and-set on the version column."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ledger import audit as audit_db
from bot.ledger import households as households_db
from bot.ledger import problems as problems_db
from bot.ledger.db import transaction
from bot.services import lifecycle
from bot.services.ledger_base import MAX_TEXT
from bot.services.ledger_households import HouseholdOps
from bot.services.ledger_types import (
    OPEN_STATUSES,
    SATISFACTION,
    STATUS_NAMES,
    Conflict,
    Household,
    LedgerError,
    Member,
    NotAllowed,
    NotFound,
    Problem,
    TransitionResult,
)
from bot.services.masking import mask_ids
from bot.services.text_safety import clean_text

ACTION_NAMES = {action: spec.name for action, spec in lifecycle.ACTIONS.items()}
# a client key already used by someone else: never answer with their record
KEY_CLASH = "这条消息的编号和别的记录重复了，没有保存，请再发一次。"


@dataclass
class ProblemPage:
    items: list[Problem]
    page: int
    pages: int
    total: int  # live problems (not yet 销号) in the member's scope
    open: int  # waiting for someone to act
    overdue: set[int]  # ids of open problems past their deadline
    awaiting: int  # solved or resolved, waiting for the return visit or 销号
    remaining: int  # problems on the pages after this one


class ProblemOps(HouseholdOps):
    def open_problem(
        self,
        member: Member,
        household_id: int,
        description: str,
        client_key: str,
        category: str = "",
        visit_id: int | None = None,
    ) -> Problem:
        description, _ = mask_ids(clean_text(description).strip()[:MAX_TEXT])
        if not description:
            raise LedgerError("请写清楚是什么问题，比如“/问题 张三 屋顶漏雨”。")
        household = self.household(member, household_id)
        with transaction(self.db):
            existing = problems_db.problem_by_key(self.db, client_key)
            if existing:
                if existing.reporter_id != member.id:
                    raise Conflict(KEY_CLASH)
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
        level = lifecycle.LEVELS[0]
        pid = problems_db.insert_problem(
            self.db,
            household.id,
            visit_id,
            member.id,
            category,
            description,
            level,
            lifecycle.OPEN_STATUS_OF_LEVEL[level],
            self.deadline(level),
            self.now_iso(),
            client_key,
        )
        created = problems_db.problem(self.db, pid)
        audit_db.audit(
            self.db, member.id, "problem", pid, "create", None, created, at=self.now_iso()
        )
        return created

    def problem(self, member: Member, problem_id: int) -> Problem:
        self.row_id(problem_id, NotFound(f"没有找到编号 {problem_id} 的问题，或您无权查看。"))
        found = problems_db.problem(self.db, problem_id)
        if found is None or not households_db.can_see_household(
            self.db, member, found.household_id
        ):
            raise NotFound(f"没有找到编号 {problem_id} 的问题，或您无权查看。")
        return found

    def solve_on_spot(self, member, problem_id, result, client_key, expected_version=None):
        return self.move(
            member, problem_id, "solve_on_spot", client_key, expected_version, result=result
        )

    def escalate(
        self, member, problem_id, client_key, expected_version=None, note="", to_level=None
    ):
        """to_level: the level the sender means to reach ("village", "township"); a problem
        already past the state that leads there is not moved again."""
        expected_state = None
        if to_level:
            expected_state = next(
                t.state
                for t in lifecycle.TRANSITIONS
                if t.action == "escalate" and t.level == to_level
            )
        return self.move(
            member,
            problem_id,
            "escalate",
            client_key,
            expected_version,
            note=note,
            expected_state=expected_state,
        )

    def resolve(self, member, problem_id, result, client_key, expected_version=None):
        return self.move(member, problem_id, "resolve", client_key, expected_version, result=result)

    def follow_up(
        self, member, problem_id, satisfaction, client_key, expected_version=None, note=""
    ):
        return self.move(
            member,
            problem_id,
            "follow_up",
            client_key,
            expected_version,
            satisfaction=satisfaction,
            note=note,
        )

    def close(self, member, problem_id, client_key, expected_version=None):
        return self.move(member, problem_id, "close", client_key, expected_version)

    def next_actions(self, member: Member, problem: Problem) -> list[str]:
        """Actions the member may take now, each once, in lifecycle-table order."""
        return list(dict.fromkeys(t.action for t in self.next_moves(member, problem)))

    def next_moves(self, member: Member, problem: Problem) -> list[lifecycle.Transition]:
        household = households_db.household(self.db, problem.household_id)
        return lifecycle.available(member, problem, household)

    def move(
        self,
        member: Member,
        problem_id: int,
        action: str,
        client_key: str,
        expected_version: int | None,
        result: str = "",
        satisfaction: str = "",
        note: str = "",
        expected_state: str | None = None,
    ) -> TransitionResult:
        """Take one step of the lifecycle table.

        expected_version (buttons) or expected_state (typed commands) is the compare-and-set:
        the step is taken only from what the sender saw or meant. The same step sent again by
        the same member is answered as already done; a step someone else took first is
        answered with who took it."""
        spec = lifecycle.ACTIONS[action]
        result, _ = mask_ids(clean_text(result).strip()[:MAX_TEXT])
        note, _ = mask_ids(clean_text(note).strip()[:MAX_TEXT])
        if spec.needs == "result" and not result:
            raise LedgerError(
                "请写上怎么解决的，比如“/当场解决 12 已帮忙联系维修”。"
                if action == "solve_on_spot"
                else "请写上办理结果，比如“/办结 12 已申请残疾人证”。"
            )
        if spec.needs == "satisfaction" and satisfaction not in SATISFACTION:
            raise LedgerError("回访请选：满意、基本满意 或 不满意。")
        self.row_id(problem_id, NotFound(f"没有找到编号 {problem_id} 的问题，或您无权处理。"))
        with transaction(self.db):
            seen = problems_db.event_by_key(self.db, client_key)
            if seen:  # a redelivered message or a double tap: the first result, if it was theirs
                if seen["actor_id"] != member.id or seen["problem_id"] != problem_id:
                    raise Conflict(KEY_CLASH)
                return TransitionResult(problems_db.problem(self.db, problem_id), replayed=True)
            problem = problems_db.problem(self.db, problem_id)
            if problem is None or not households_db.can_see_household(
                self.db, member, problem.household_id
            ):
                raise NotFound(f"没有找到编号 {problem_id} 的问题，或您无权处理。")
            if expected_version is not None and expected_version != problem.version:
                last = problems_db.last_event(self.db, problem_id)
                who = f"{last['actor_name']}刚刚" if last else "别人刚刚"
                raise Conflict(
                    f"这个问题{who}处理过了，现在是“{STATUS_NAMES[problem.status]}”，请看最新情况。"
                )
            household = households_db.household(self.db, problem.household_id)
            stale = expected_state is not None and expected_state != problem.status
            row = lifecycle.check(member, action, problem, household, satisfaction)
            if stale or not lifecycle.transitions_from(problem.status, action, satisfaction):
                last = problems_db.last_event(self.db, problem_id)
                if last and last["action"] == action and last["to_status"] == problem.status:
                    if last["actor_id"] == member.id:  # the same command sent twice
                        return TransitionResult(problem, replayed=True)
                    raise Conflict(
                        f"这个问题{last['actor_name']}刚刚处理过了，"
                        f"现在是“{STATUS_NAMES[problem.status]}”，请看最新情况。"
                    )
            if stale:
                raise NotAllowed(
                    f"这个问题现在是“{STATUS_NAMES[problem.status]}”，不是“{STATUS_NAMES[expected_state]}”，"
                    f"这次没有{lifecycle.ACTIONS[action].name}。请发 /我的 看最新情况。"
                )
            if isinstance(row, str):
                raise NotAllowed(row)
            changes = self._changes(row, problem, result, satisfaction)
            if not problems_db.update_problem(self.db, problem_id, problem.version, **changes):
                raise Conflict("这个问题刚被别人处理过了，请看最新情况。")
            updated = problems_db.problem(self.db, problem_id)
            problems_db.insert_event(
                self.db,
                problem_id,
                member.id,
                action,
                problem.status,
                updated.status,
                note or result or satisfaction,
                client_key,
                at=self.now_iso(),
            )
            audit_db.audit(
                self.db,
                member.id,
                "problem",
                problem_id,
                action,
                problem,
                updated,
                at=self.now_iso(),
            )
            return TransitionResult(updated)

    def _changes(
        self, row: lifecycle.Transition, problem: Problem, result: str, satisfaction: str
    ) -> dict:
        """The columns a step of the table writes."""
        status = lifecycle.next_state(row, problem)
        level = row.level or problem.level
        changes: dict = {"status": status}
        if row.level:
            changes["level"] = row.level
        if row.deadline == "restart":
            changes["deadline"] = self.deadline(level)
        if status in ("solved_on_spot", "resolved"):
            changes.update(result=result, resolved_at=self.now_iso())
        if satisfaction:
            changes["satisfaction"] = satisfaction
        if row.next_state == lifecycle.REOPEN:
            changes["resolved_at"] = ""
        if status == "closed":
            changes["closed_at"] = self.now_iso()
        return changes

    # -- lists ----------------------------------------------------------------------------------
    def my_problems(self, member: Member, limit: int = 30) -> list[Problem]:
        live = tuple(s for s in STATUS_NAMES if s not in lifecycle.FINAL_STATUSES)
        return problems_db.problems_in_scope(self.db, member, live, limit)

    def problem_page(self, member: Member, page: int = 1, size: int = 10) -> ProblemPage:
        """The member's live problems, overdue first, then by deadline, one page at a time."""
        now = self.now_iso()
        live = tuple(s for s in STATUS_NAMES if s not in lifecycle.FINAL_STATUSES)
        problems = problems_db.problems_in_scope(self.db, member, live, 100_000)
        overdue = [p for p in problems if p.status in OPEN_STATUSES and p.deadline < now]
        still_open = [p for p in problems if p.status in OPEN_STATUSES and p.deadline >= now]
        done = [p for p in problems if p.status not in OPEN_STATUSES]
        ordered = overdue + still_open + done
        pages = max(1, -(-len(ordered) // size))
        return ProblemPage(
            items=ordered[(page - 1) * size : page * size],
            page=page,
            pages=pages,
            total=len(ordered),
            open=len(overdue) + len(still_open),
            overdue={p.id for p in overdue},
            awaiting=len(done),
            remaining=max(0, len(ordered) - page * size),
        )

    def overdue(self, member: Member, limit: int = 50) -> list[Problem]:
        now = self.now_iso()
        return [
            p
            for p in problems_db.problems_in_scope(self.db, member, OPEN_STATUSES, 10_000)
            if p.deadline < now
        ][:limit]
