"""The problem lifecycle in one table: from which state, by which action, who may act, to which
state, and what happens to the deadline. The service checks moves against it, the buttons and
the typed commands are built from it, the digest takes its vocabulary from it, and the demo
walks problems through it.

    recorded ──当场解决──▶ solved_on_spot ─┐
       │ ──办结──────────▶ resolved ◀──────┼── 办结 ── escalated_village / escalated_township
       └──上报村级──▶ escalated_village ──上报乡镇──▶ escalated_township
    solved_on_spot | resolved ──回访 满意/基本满意──▶ followed_up ──销号──▶ closed
    solved_on_spot | resolved ──回访 不满意──▶ back to the open state of the level it was at
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ledger.records import COORDINATORS, Household, Member, Problem

OWNER = "owner"  # not a role: the household's volunteer or the member who reported the problem
FIELD = (OWNER, "grid_leader", *COORDINATORS)
TOWNSHIP = ("township_coordinator", "admin")
REOPEN = "reopen"  # next state of an unsatisfied return visit: the open state of its level

LEVELS = ("volunteer", "village", "township")
LEVEL_NAMES = {"volunteer": "联户党员", "village": "村级", "township": "乡镇"}
STATUS_NAMES = {
    "recorded": "已登记",
    "solved_on_spot": "当场解决",
    "escalated_village": "已上报村级",
    "escalated_township": "已上报乡镇",
    "resolved": "已办结",
    "followed_up": "已回访",
    "closed": "已销号",
}
# the state a problem is in while a level must act on it (and returns to when reopened)
OPEN_STATUS_OF_LEVEL = {
    "volunteer": "recorded",
    "village": "escalated_village",
    "township": "escalated_township",
}
OPEN_STATUSES = tuple(OPEN_STATUS_OF_LEVEL.values())
SATISFACTION = ("满意", "基本满意", "不满意")
SATISFIED = ("满意", "基本满意")


@dataclass(frozen=True)
class Action:
    """What a user does, whatever state the problem is in."""

    name: str  # the Chinese verb
    command: str  # Latin name of the typed command in texts.COMMANDS
    needs: str  # "" | "result" (a line saying what was done) | "satisfaction"
    wrong_state: str  # the refusal when no row of the table starts from the current state


ACTIONS = {
    "solve_on_spot": Action(
        "当场解决", "solve", "result", "这个问题现在是“{state}”，不能再当场解决。"
    ),
    "escalate": Action("上报", "escalate", "", "这个问题现在是“{state}”，不能再上报。"),
    "resolve": Action("办结", "resolve", "result", "这个问题现在是“{state}”，不能再办结。"),
    "follow_up": Action(
        "回访", "followup", "satisfaction", "这个问题现在是“{state}”，办结以后才能回访。"
    ),
    "close": Action("销号", "close", "", "这个问题现在是“{state}”，回访以后才能销号。"),
}


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    roles: tuple[str, ...]  # roles that may act; OWNER counts the household's own volunteer
    next_state: str  # or REOPEN
    deadline: str  # "restart": a fresh deadline for the level after the move; "": unchanged
    label: str  # what the button says it does
    refusal: str  # told to a member whose role is not in `roles`
    level: str = ""  # the level after the move, when it changes
    verdicts: tuple[str, ...] = ()  # return visits: the answers this row takes


_OWNER_OR_FIELD = "只有联系这户的党员或网格长、管理员可以{verb}。"
TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "recorded",
        "solve_on_spot",
        FIELD,
        "solved_on_spot",
        "",
        "当场解决",
        _OWNER_OR_FIELD.format(verb="当场解决"),
    ),
    Transition(
        "recorded",
        "escalate",
        FIELD,
        "escalated_village",
        "restart",
        "上报村级",
        _OWNER_OR_FIELD.format(verb="上报"),
        level="village",
    ),
    Transition(
        "recorded", "resolve", FIELD, "resolved", "", "办结", "只有联系这户的党员或管理员可以办结。"
    ),
    Transition(
        "escalated_village",
        "escalate",
        COORDINATORS,
        "escalated_township",
        "restart",
        "上报乡镇",
        "上报乡镇要由村级管理员来办。",
        level="township",
    ),
    Transition(
        "escalated_village",
        "resolve",
        COORDINATORS,
        "resolved",
        "",
        "办结",
        "这个问题已上报村级，要由村级管理员办结。",
    ),
    Transition(
        "escalated_township",
        "resolve",
        TOWNSHIP,
        "resolved",
        "",
        "办结",
        "这个问题已上报乡镇，要由乡镇办结。",
    ),
    *(
        Transition(
            state,
            "follow_up",
            FIELD,
            REOPEN if verdict == "不满意" else "followed_up",
            "restart" if verdict == "不满意" else "",
            f"回访：{verdict}",
            "只有联系这户的党员或管理员可以回访。",
            verdicts=(verdict,),
        )
        for state in ("solved_on_spot", "resolved")
        for verdict in SATISFACTION
    ),
    Transition(
        "followed_up", "close", COORDINATORS, "closed", "", "销号", "销号要由村级或乡镇管理员来办。"
    ),
)
FINAL_STATUSES = tuple(
    s for s in STATUS_NAMES if not any(t.state == s for t in TRANSITIONS)
)  # nothing moves on from these (销号)
DONE_STATUSES = ("solved_on_spot", "resolved", "followed_up", "closed")


def transitions_from(state: str, action: str | None = None, verdict: str = "") -> list[Transition]:
    """Rows of the table leaving `state` (by `action`; for a return visit, taking `verdict`)."""
    return [
        t
        for t in TRANSITIONS
        if t.state == state
        and (action is None or t.action == action)
        and (not verdict or verdict in t.verdicts)
    ]


def is_owner(member: Member, problem: Problem, household: Household | None) -> bool:
    return problem.reporter_id == member.id or (
        household is not None and household.volunteer_id == member.id
    )


def may_act(member: Member, transition: Transition, owner: bool) -> bool:
    return member.role in transition.roles or (owner and OWNER in transition.roles)


def check(
    member: Member,
    action: str,
    problem: Problem,
    household: Household | None,
    verdict: str = "",
) -> Transition | str:
    """The row that lets the member take the action now, or the Chinese reason why not."""
    rows = transitions_from(problem.status, action, verdict)
    if not rows:
        return ACTIONS[action].wrong_state.format(state=STATUS_NAMES[problem.status])
    owner = is_owner(member, problem, household)
    allowed = [t for t in rows if may_act(member, t, owner)]
    return allowed[0] if allowed else rows[0].refusal


def available(member: Member, problem: Problem, household: Household | None) -> list[Transition]:
    """Every row the member may take from the problem's current state, in table order."""
    owner = is_owner(member, problem, household)
    return [t for t in transitions_from(problem.status) if may_act(member, t, owner)]


def next_state(transition: Transition, problem: Problem) -> str:
    if transition.next_state == REOPEN:
        return OPEN_STATUS_OF_LEVEL[problem.level]
    return transition.next_state
