"""/待走访, /户, /周报, /导出, /邀请."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiogram.filters import CommandObject
from aiogram.types import BufferedInputFile, Message

from bot import texts
from bot.channels import TELEGRAM
from bot.handlers.common import Routes, command, reply
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import LedgerError
from bot.services.masking import mask_phone_field

routes = Routes("reports", members_only=True)


@routes.message(command("due"))
async def due(message: Message, ledger: LedgerService, member) -> None:
    items = ledger.due_households(member)
    if not items:
        await reply(message, texts.DUE_NONE)
        return
    lines = [texts.DUE_HEADER.format(n=len(items))]
    for household, last in items[:50]:
        seen = ledger.local(last).strftime("%m-%d") if last else "从未走访"
        lines.append(f"{household.label}（{'、'.join(household.tags)}）上次：{seen}")
    await reply(message, "\n".join(lines))


@routes.message(command("household"))
async def household(
    message: Message, command: CommandObject, ledger: LedgerService, member
) -> None:
    show_phone = member.role in ledger.settings.ledger.phone_visible_roles
    if command.args:
        try:
            h = ledger.find_household(member, command.args)
        except LedgerError as exc:
            await reply(message, str(exc))
            return
        phone = h.phone if show_phone else mask_phone_field(h.phone)
        await reply(
            message,
            f"{h.label} 户号{h.id}，{h.size}口人，电话 {phone or '无'}，标签：{'、'.join(h.tags) or '无'}",
        )
        return
    households = ledger.visible_households(member)
    lines = [texts.HOUSEHOLD_LIST.format(n=len(households))]
    lines += [f"{h.id}. {h.label} {'、'.join(h.tags)}" for h in households[:100]]
    await reply(message, "\n".join(lines))


@routes.message(command("digest"))
async def digest(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    if not member.is_coordinator:
        await reply(message, texts.ONLY_COORDINATORS)
        return
    from bot.services.chart import digest_png
    from bot.services.digest import digest_text

    village = member.village if member.role == "village_coordinator" else None
    try:
        d = ledger.digest((command.args or "").strip() or None, village)
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(message, digest_text(d, ledger.tz))
    png = await asyncio.to_thread(digest_png, d)
    await message.answer_photo(
        BufferedInputFile(png, "digest.png"),
        caption=texts.DIGEST_CAPTION.format(week=d.this_week.week),
    )


@routes.message(command("export"))
async def export(message: Message, ledger: LedgerService, member) -> None:
    if not member.is_coordinator:
        await reply(message, texts.ONLY_COORDINATORS)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "民情台账.xlsx"
        written = await asyncio.to_thread(ledger.export, path, member)
        rows = "，".join(f"{k}{v}行" for k, v in written.items())
        await message.answer_document(
            BufferedInputFile(path.read_bytes(), "民情台账.xlsx"),
            caption=texts.EXPORT_CAPTION.format(rows=rows),
        )


@routes.message(command("invite"))
async def invite(
    message: Message, command: CommandObject, ledger: LedgerService, member, identity=None
) -> None:
    parts = (command.args or "volunteer").split()
    role, grid, name = (parts + ["", ""])[:3] if len(parts) > 1 else (parts[0], "", "")
    try:
        code = ledger.create_invite(member, role, grid=grid, name=name)
    except LedgerError as exc:
        await reply(message, f"{exc}\n{texts.INVITE_USAGE}")
        return
    village = member.village or "全乡镇"
    made = texts.INVITE_MADE.format(code=code, role=role, village=village, grid=grid)
    if identity is None or identity.channel == TELEGRAM:  # a t.me link means nothing elsewhere
        me = await message.bot.me()
        made += texts.INVITE_LINK.format(link=f"https://t.me/{me.username}?start={code}")
    await reply(message, made)
