"""Visits: the one-line log, the form, corrections as new versions, attachments."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.ledger import audit as audit_db
from bot.ledger import households as households_db
from bot.ledger import problems as problems_db
from bot.ledger import visits as visits_db
from bot.ledger.db import transaction
from bot.services.ledger_base import MAX_TEXT, UTC
from bot.services.ledger_households import HouseholdOps
from bot.services.ledger_problems import KEY_CLASH, ProblemOps
from bot.services.ledger_types import (
    METHODS,
    Conflict,
    LedgerError,
    Member,
    NotAllowed,
    NotFound,
    Visit,
    VisitResult,
)
from bot.services.masking import mask_ids
from bot.services.text_safety import clean_text
from bot.services.visit_parser import parse_visit

ATTACH_WINDOW_HOURS = 2  # a location or photo attaches to a visit logged this recently


class VisitOps(ProblemOps, HouseholdOps):
    def log_visit_text(self, member: Member, text: str, client_key: str) -> VisitResult:
        replay = visits_db.visit_by_key(self.db, client_key)
        if replay:
            return self._replayed_visit(replay, member)
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
        situation, masked_a = mask_ids(clean_text(situation).strip()[:MAX_TEXT])
        problem_text, masked_b = mask_ids(clean_text(problem_text).strip()[:MAX_TEXT])
        if not situation and not problem_text:
            situation = "走访，无特殊情况"
        household = self.household(member, household_id)
        visited_at = self._visit_time(visit_date)
        with transaction(self.db):
            replay = visits_db.visit_by_key(self.db, client_key)
            if replay:
                return self._replayed_visit(replay, member)
            requests = problem_text
            if supersedes:
                old = visits_db.visit(self.db, supersedes)
                if old is None:
                    raise NotFound("要更正的走访记录不存在。")
                newer = visits_db.superseded_by(self.db, supersedes)
                if newer:  # two corrections of one version would fork its history
                    raise Conflict(
                        f"走访 #{supersedes} 已经更正过了（新记录 #{newer}），"
                        f"请更正最新的：/更正 {newer} 新的情况。"
                    )
                requests = requests or old.requests
            visit_id = visits_db.insert_visit(
                self.db,
                household.id,
                member.id,
                visited_at,
                method,
                situation,
                requests,
                ",".join(policies),
                client_key,
                supersedes,
                at=self.now_iso(),
            )
            visit = visits_db.visit(self.db, visit_id)
            audit_db.audit(
                self.db,
                member.id,
                "visit",
                visit_id,
                "correct" if supersedes else "create",
                visits_db.visit(self.db, supersedes) if supersedes else None,
                visit,
                at=self.now_iso(),
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
        self, member: Member, visit_id: int | None, situation: str, client_key: str
    ) -> VisitResult:
        """A correction is a new version linked to the old one; the old row stays as it was.
        visit_id None: the member's own latest visit."""
        if not situation.strip():
            raise LedgerError("请写上更正后的走访情况，比如“/更正 身体还行，想了解医保报销”。")
        if visit_id is None:
            old = visits_db.last_visit_of(self.db, member.id)
            if old is None:
                raise NotFound("您还没有走访记录可以更正。")
        else:
            self.row_id(visit_id, NotFound("没有找到这条走访记录。"))
            old = visits_db.visit(self.db, visit_id)
        if old is None or not households_db.can_see_household(self.db, member, old.household_id):
            raise NotFound("没有找到这条走访记录。")
        if old.member_id != member.id and not member.is_coordinator:
            raise NotAllowed("只能更正自己的走访记录。")
        return self.log_visit(
            member,
            old.household_id,
            situation,
            policies=[p for p in old.policies.split(",") if p],
            method=old.method,
            visit_date=self.local(old.visited_at).date(),
            client_key=client_key,
            supersedes=old.id,
        )

    def attach_to_last_visit(
        self, member: Member, location: str | None = None, photo: str | None = None
    ) -> Visit:
        with transaction(self.db):
            last = visits_db.last_visit_of(self.db, member.id)
            recent = last and self.now() - datetime.fromisoformat(
                visits_db.visit_created_at(self.db, last.id)
            ) <= timedelta(hours=ATTACH_WINDOW_HOURS)
            if not recent:
                raise NotFound("请先用 /走访 记一次走访，再发位置或照片。")
            photos = [*last.photos, photo] if photo and photo not in last.photos else None
            visits_db.set_visit_attachment(self.db, last.id, location, photos)
            updated = visits_db.visit(self.db, last.id)
            audit_db.audit(
                self.db, member.id, "visit", last.id, "attach", last, updated, at=self.now_iso()
            )
            return updated

    def _visit_time(self, visit_date: date | None) -> str:
        now = self.now()
        if visit_date is None or visit_date == now.date():
            moment = now
        else:
            moment = datetime.combine(visit_date, time(12, 0), self.tz)
        return moment.astimezone(UTC).isoformat(timespec="seconds")

    def _replayed_visit(self, visit: Visit, member: Member) -> VisitResult:
        """The first result of a redelivered message, only to the member who sent it: a key
        that names someone else's visit is a clash, not a replay (two console sessions once
        shared keys and were told of each other's households)."""
        if visit.member_id != member.id:
            raise Conflict(KEY_CLASH)
        household = households_db.household(self.db, visit.household_id)
        key = visits_db.visit_client_key(self.db, visit.id)
        problem = problems_db.problem_by_key(self.db, f"{key}:problem")
        return VisitResult(visit=visit, household=household, problem=problem, replayed=True)
