"""`lianhu export`: the ledger as an Excel workbook a coordinator can work in.

Sheets 走访记录, 问题台账, 农户, 汇总; Chinese headers, frozen header row, widths that fit,
local dates, phone numbers and ID numbers masked unless the role may see phones."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.ledger import repo
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
    rows = repo.export_rows(db, village)
    wb = Workbook()
    wb.remove(wb.active)
    written = {}
    for key, (title, columns) in SHEETS.items():
        ws = wb.create_sheet(title)
        ws.append([header for _, header, _ in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
        for row in rows[key]:
            ws.append([_cell(name, row.get(name), tz, show_phones) for name, _, _ in columns])
        for i, (_, _, width) in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:
                cell.alignment = Alignment(
                    vertical="top", wrap_text=isinstance(cell.value, str) and len(cell.value) > 20
                )
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        written[title] = len(rows[key])
    summary = wb.create_sheet("汇总", 0)
    summary.append(["项目", "内容"])
    for cell in summary[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for line in digest_text(digest, tz).splitlines():
        label, _, value = line.partition(" ")
        summary.append([label.strip(), value.strip()])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 80
    summary.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return written


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
