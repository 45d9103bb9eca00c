"""Households: adding them, who may see which, and finding one from what a volunteer types."""

from __future__ import annotations

from pypinyin import lazy_pinyin

from bot.ledger import audit as audit_db
from bot.ledger import households as households_db
from bot.ledger.db import transaction
from bot.services.command_grammar import parse_number
from bot.services.ledger_base import LedgerBase
from bot.services.ledger_types import Ambiguous, Household, Member, NotFound
from bot.services.masking import mask_phone_field


class HouseholdOps(LedgerBase):
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
            hid = households_db.insert_household(
                self.db,
                village,
                head_name,
                grid,
                house_number,
                size,
                phone,
                tags,
                volunteer.id if volunteer else None,
                at=self.now_iso(),
            )
            created = households_db.household(self.db, hid)
            audit_db.audit(
                self.db,
                actor.id if actor else None,
                "household",
                hid,
                "create",
                None,
                created,
                at=self.now_iso(),
            )
        return created

    def visible_households(self, member: Member) -> list[Household]:
        return households_db.visible_households(self.db, member)

    def household(self, member: Member, household_id: int) -> Household:
        self.row_id(household_id, NotFound("没有找到这户，或者这户不归您联系。"))
        found = households_db.household(self.db, household_id)
        if found is None or not households_db.can_see_household(self.db, member, household_id):
            raise NotFound("没有找到这户，或者这户不归您联系。")
        return found

    def household_name(self, household_id: int) -> str:
        """村 + 户主 of a household already shown to the member (a problem's, say)."""
        found = households_db.household(self.db, household_id)
        return f"{found.village}{found.head_name}" if found else ""

    def phone_for(self, member: Member, household: Household) -> str:
        """The household's phone as this member may see it: in full to the volunteer linked to
        the household (电话 is one way to visit) and to [ledger] phone_visible_roles, masked to
        everyone else."""
        if household.volunteer_id == member.id or (
            member.role in self.settings.ledger.phone_visible_roles
        ):
            return household.phone
        return mask_phone_field(household.phone)

    def find_household(self, member: Member, query: str) -> Household:
        """By id (户12 / 12), house number, head's name (with its house number: 王建国 12号),
        a name tolerant of one wrong character or a same-sounding one, or the start of a name
        (张 → 张三, 张山); several matches give the candidates instead of a guess."""
        query = " ".join(query.split()).removeprefix("#")
        households = households_db.visible_households(self.db, member)
        if not households:
            raise NotFound("您名下还没有联系户，请管理员先导入花名册。")
        number = parse_number(query, prefixes=("户",))
        if number is not None:
            by_id = [h for h in households if h.id == number]
            if by_id:
                return by_id[0]
        name, _, house = query.partition(" ")
        if house:  # 王建国 12号: both must fit
            candidates = [h for h in households if h.head_name == name and h.house_number == house]
        else:
            exact = [
                h for h in households if query in (h.head_name, h.house_number, f"{h.head_name}家")
            ]
            candidates = exact or _similar(query, households) or _starting(query, households)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise NotFound(f"您联系的农户里没有“{query}”，请检查户主姓名，或发 /户 看看名单。")
        raise Ambiguous(f"有 {len(candidates)} 户都像“{query}”", candidates)


def _starting(query: str, households: list[Household]) -> list[Household]:
    """Heads whose name starts with what was typed (a surname, or the first two characters)."""
    return [h for h in households if h.head_name.startswith(query)] if query else []


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
