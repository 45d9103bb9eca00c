"""`lianhu export`: the ledger as an Excel workbook a coordinator can work in.

Sheets 走访记录, 问题台账, 农户, 汇总; Chinese headers, frozen header row, widths that fit,
local dates, phone numbers and ID numbers masked unless the role may see phones."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.ledger import reports as reports_db
from bot.services.digest import Digest, digest_text
from bot.services.ledger_types import LEVEL_NAMES, STATUS_NAMES
from bot.services.masking import mask_ids, mask_phone_field, mask_phones

SHEETS = {
    "visits": (
        "走访记录",
        [
            ("id", "编号", 8),
            ("visited_at", "走访时间", 17),
            ("village", "村", 10),
            ("grid", "网格", 8),
            ("head_name", "户主", 10),
            ("house_number", "门牌", 8),
            ("member", "联户党员", 10),
            ("method", "方式", 6),
            ("situation", "情况", 40),
            ("requests", "诉求/问题", 30),
            ("policies", "宣讲政策", 16),
            ("location", "位置", 16),
            ("supersedes", "更正自记录", 10),
        ],
    ),
    "problems": (
        "问题台账",
        [
            ("id", "编号", 8),
            ("opened_at", "登记时间", 17),
            ("village", "村", 10),
            ("head_name", "户主", 10),
            ("reporter", "登记人", 10),
            ("category", "类别", 10),
            ("description", "问题", 40),
            ("level", "责任层级", 10),
            ("status", "状态", 10),
            ("deadline", "办理期限", 17),
            ("result", "办理结果", 30),
            ("satisfaction", "满意度", 10),
            ("resolved_at", "办结时间", 17),
            ("closed_at", "销号时间", 17),
        ],
    ),
    "households": (
        "农户",
        [
            ("id", "编号", 8),
            ("village", "村", 10),
            ("grid", "网格", 8),
            ("head_name", "户主", 10),
            ("house_number", "门牌", 8),
            ("size", "人口", 6),
            ("phone", "电话", 14),
            ("tags", "标签", 20),
            ("volunteer", "联户党员", 10),
        ],
    ),
}
TIME_FIELDS = {"visited_at", "opened_at", "deadline", "resolved_at", "closed_at"}
HEADER_FILL = PatternFill("solid", fgColor="DDE6F2")


def export_workbook(
    db, path: Path, digest: Digest, tz: ZoneInfo, show_phones: bool, village: str | None = None
) -> dict[str, int]:
    """Write the workbook; return the number of rows written per sheet."""
    rows = reports_db.export_rows(db, village)
    # write-only mode streams rows to disk: 100,000 rows in seconds instead of minutes
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("汇总")
    _prepare(summary, [("项目", 28), ("内容", 80)])
    summary.append(_header(summary, ["项目", "内容"]))
    for line in digest_text(digest, tz).splitlines():
        label, _, value = line.partition(" ")
        summary.append([label.strip(), value.strip()])
    written = {}
    for key, (title, columns) in SHEETS.items():
        ws = wb.create_sheet(title)
        _prepare(ws, [(header, width) for _, header, width in columns])
        ws.append(_header(ws, [header for _, header, _ in columns]))
        for row in rows[key]:
            ws.append([_cell(name, row.get(name), tz, show_phones) for name, _, _ in columns])
        written[title] = len(rows[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return written


def _prepare(ws, columns: list[tuple[str, int]]) -> None:
    """Widths and the frozen header row must be set before a write-only sheet gets rows."""
    for i, (_, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"


def _header(ws, names: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def _cell(name: str, value, tz: ZoneInfo, show_phones: bool):
    if value is None or value == "":
        return ""
    if name in TIME_FIELDS:
        return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if name == "level":
        return LEVEL_NAMES.get(value, value)
    if name == "status":
        return STATUS_NAMES.get(value, value)
    if name == "phone":
        return value if show_phones else mask_phone_field(value)
    if isinstance(value, str):
        value = mask_ids(value)[0]
        return value if show_phones else mask_phones(value)
    return value
