"""What an invite may be before a code is made: who may invite whom, to which village, and
whether it binds someone on the roster or creates a new member (which the inviter confirms).

An invite naming a roster member binds that member, so the invite's role must be theirs: a
mismatch is refused with the role the roster has, rather than binding a grid leader as a
volunteer's account or the other way round."""

from __future__ import annotations

from bot.ledger import identities
from bot.ledger import members as members_db
from bot.services.ledger_types import ROLE_NAMES, ROLES, Conflict, LedgerError, Member, NotAllowed

NO_VILLAGE_ROLES = ("township_coordinator", "admin")


class NeedsVillage(LedgerError):
    """A township-wide inviter must say which village the new member belongs to."""


class NeedsConfirmation(LedgerError):
    """The invite would create a member the roster does not have: ask before making it."""


def check_invite(
    db, actor: Member, role: str, village: str | None, grid: str, name: str, confirm_new: bool
) -> str:
    """The village the invite is for; raises when it may not be made (yet)."""
    if not actor.is_coordinator:
        raise NotAllowed("只有村级、乡镇管理员可以发邀请码。")
    if role not in ROLES:
        raise LedgerError(
            "角色请写：volunteer（联户党员）、grid_leader（网格长）、village_coordinator（村级管理员）。"
        )
    village = village or actor.village
    if actor.role == "village_coordinator" and (
        village != actor.village or role in NO_VILLAGE_ROLES
    ):
        raise NotAllowed("村级管理员只能为本村邀请联户党员、网格长或村级管理员。")
    if not village and role not in NO_VILLAGE_ROLES:
        example = " ".join(w for w in (role, "东山村", grid or "一组", name) if w)
        raise NeedsVillage(f"请写上是哪个村的，比如：/邀请 {example}")
    roster = [m for m in members_db.members_named(db, name) if m.village == village] if name else []
    if roster and roster[0].role != role:
        have = roster[0].role
        raise NotAllowed(
            f"花名册里{village}的{name}是{ROLE_NAMES[have]}，不是{ROLE_NAMES[role]}。"
            f"请按花名册的角色邀请：/邀请 {have} {village} {name}，或先改花名册再邀请。"
        )
    if not roster and not confirm_new:
        who = f"“{name}”" if name else "对方（名字用对方的聊天昵称）"
        missing = f"花名册里{village}没有“{name}”。" if name else "没有写名字。"
        raise NeedsConfirmation(
            f"{missing}用这个邀请码会新建一名{ROLE_NAMES[role]}：{who}，{village or '全乡镇'}{grid}。"
            "确认新建吗？"
        )
    return village


def check_redeem(db, invite: dict, channel: str) -> None:
    """The roster may have changed since the invite was made: refuse a role that no longer fits,
    and a roster member who already has an account on this channel (a second account would
    otherwise be created under the same name)."""
    if not invite["name"]:
        return
    roster = [
        m for m in members_db.members_named(db, invite["name"]) if m.village == invite["village"]
    ]
    if roster and roster[0].role != invite["role"]:
        raise NotAllowed(
            f"花名册里{invite['village']}的{invite['name']}现在是{ROLE_NAMES[roster[0].role]}，"
            "和邀请码不一致，请向管理员要一个新的邀请码。"
        )
    if roster and identities.external_id(db, roster[0].id, channel) is not None:
        raise Conflict(
            f"{invite['village']}的{invite['name']}已经绑定过账号了。如果要换账号，请管理员先解绑。"
        )
