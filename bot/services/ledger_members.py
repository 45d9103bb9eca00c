"""Members of the ledger: adding them, invite codes, binding a chat account to a member."""

from __future__ import annotations

import secrets

from bot.ledger import audit as audit_db
from bot.ledger import identities
from bot.ledger import members as members_db
from bot.ledger.db import transaction
from bot.ledger.identities import ChannelIdentity
from bot.services.invites import check_invite, check_redeem
from bot.services.ledger_base import LedgerBase
from bot.services.ledger_types import ROLES, Conflict, LedgerError, Member, NotFound


class MemberOps(LedgerBase):
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
            member_id = members_db.insert_member(
                self.db, name, role, village, grid, phone, telegram_id, at=self.now_iso()
            )
            created = members_db.member(self.db, member_id)
            audit_db.audit(
                self.db,
                actor.id if actor else None,
                "member",
                member_id,
                "create",
                None,
                created,
                at=self.now_iso(),
            )
        return created

    def member(self, member_id: int) -> Member | None:
        return members_db.member(self.db, member_id)

    def member_by_telegram(self, telegram_id: int) -> Member | None:
        return members_db.member_by_telegram(self.db, telegram_id)

    def member_by_identity(self, who: ChannelIdentity) -> Member | None:
        """The member bound to this address on this channel (Telegram, WeCom, ...)."""
        return members_db.member_by_identity(self.db, who.channel, who.external_id)

    def create_invite(
        self,
        actor: Member,
        role: str,
        village: str | None = None,
        grid: str = "",
        name: str = "",
        confirm_new: bool = False,
    ) -> str:
        """A code binding a roster member (same name, village and role), or, once the inviter
        confirms (confirm_new), creating a new member. Refusals: bot/services/invites.py."""
        village = check_invite(self.db, actor, role, village, grid, name, confirm_new)
        code = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
        with transaction(self.db):
            members_db.insert_invite(self.db, code, role, village, grid, name, actor.id)
            audit_db.audit(
                self.db,
                actor.id,
                "invite",
                0,
                "create",
                None,
                {"code": code, "role": role, "village": village},
                at=self.now_iso(),
            )
        return code

    def redeem_invite(self, code: str, who: ChannelIdentity | int, name: str) -> Member:
        """Bind the account that redeems an invite code, on whichever channel it came from (an
        int is a Telegram id). A member already bound on another channel is bound on this one
        too by an invite naming them. Redeeming again is harmless."""
        if not isinstance(who, ChannelIdentity):
            who = ChannelIdentity("telegram", str(who))
        with transaction(self.db):
            existing = members_db.member_by_identity(self.db, who.channel, who.external_id)
            invite = members_db.invite(self.db, code.strip())
            if invite is None:
                raise NotFound("邀请码不对，请向村里或乡镇管理员要一个新的。")
            if invite["used_by"]:
                used_by = members_db.member(self.db, invite["used_by"])
                if used_by and existing and used_by.id == existing.id:
                    return used_by
                raise Conflict("这个邀请码已经用过了，请向管理员要一个新的。")
            if existing:
                raise Conflict(f"您已经登记为{existing.name}，不用再用邀请码。")
            check_redeem(self.db, invite, who.channel)
            # an invite naming someone on the roster binds that member (and their households),
            # if they have no account on this channel yet
            named = (
                [
                    m
                    for m in members_db.members_named(self.db, invite["name"])
                    if m.village == invite["village"]
                    and identities.external_id(self.db, m.id, who.channel) is None
                ]
                if invite["name"]
                else []
            )
            if named:
                member_id = named[0].id
            else:
                member_id = members_db.insert_member(
                    self.db,
                    invite["name"] or name,
                    invite["role"],
                    invite["village"],
                    invite["grid"],
                    "",
                    at=self.now_iso(),
                )
            identities.bind(self.db, member_id, who.channel, who.external_id)
            members_db.use_invite(self.db, invite["code"], member_id)
            created = members_db.member(self.db, member_id)
            audit_db.audit(
                self.db,
                member_id,
                "member",
                member_id,
                "redeem_invite",
                None,
                created,
                at=self.now_iso(),
            )
            audit_db.audit(
                self.db,
                member_id,
                "identity",
                member_id,
                "bind",
                None,
                {"channel": who.channel, "external_id": who.external_id},
                at=self.now_iso(),
            )
            return created

    def members_named(self, name: str) -> list[Member]:
        return members_db.members_named(self.db, name)

    def members_with_role(self, roles: tuple[str, ...], village: str | None = None) -> list[Member]:
        return members_db.members_with_role(self.db, roles, village)
