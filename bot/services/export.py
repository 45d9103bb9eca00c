"""`lianhu export`: the ledger as an Excel workbook a coordinator can work in.

Sheets 走访记录, 问题台账, 农户, 汇总; Chinese headers, frozen header row, widths that fit,
local dates, phone numbers and ID numbers masked unless the role may see phones.

Every user string is written as text, never as a formula (a visit note typed as
=HYPERLINK(...) must not become a live link), and without control characters (one \x0b in an
old row used to make the whole workbook unwritable). The workbook is written beside the target
and renamed over it only when complete, so a kill mid-save leaves the previous file intact.
"""

from __future__ import annotations

import contextvars
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as openpyxl_writer

from bot.ledger import reports as reports_db
from bot.services.digest import Digest, digest_text
from bot.services.ledger_types import LEVEL_NAMES, STATUS_NAMES
from bot.services.masking import mask_personal, mask_phone_field
from bot.services.text_safety import clean_text

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
# A cell starting with one of these is read as a formula by Excel or LibreOffice when edited or
# saved as CSV; such strings get the quote prefix (shown as text, like typing ' before them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STAGING_SUFFIX = ".lianhu-export"


def export_workbook(
    db, path: Path, digest: Digest, tz: ZoneInfo, show_phones: bool, village: str | None = None
) -> dict[str, int]:
    """Write the workbook; return the number of rows written per sheet."""
    rows = reports_db.export_rows(db, village)
    with _staging(Path(path)) as partial:
        # write-only mode streams rows to disk: 100,000 rows in seconds instead of minutes
        wb = Workbook(write_only=True)
        try:
            written = _fill(wb, rows, digest, tz, show_phones)
            wb.save(partial)
        except BaseException:
            _abandon(wb)
            raise
    return written


def _fill(wb: Workbook, rows: dict, digest: Digest, tz: ZoneInfo, show_phones: bool) -> dict:
    summary = wb.create_sheet("汇总")
    _prepare(summary, [("项目", 28), ("内容", 80)])
    summary.append(_header(summary, ["项目", "内容"]))
    for line in digest_text(digest, tz).splitlines():
        label, _, value = line.partition(" ")
        summary.append([_text(summary, label.strip()), _text(summary, value.strip())])
    written = {}
    for key, (title, columns) in SHEETS.items():
        ws = wb.create_sheet(title)
        _prepare(ws, [(header, width) for _, header, width in columns])
        ws.append(_header(ws, [header for _, header, _ in columns]))
        for row in rows[key]:
            ws.append([_cell(ws, name, row.get(name), tz, show_phones) for name, _, _ in columns])
        written[title] = len(rows[key])
    return written


def _abandon(wb: Workbook) -> None:
    """Close the sheets' streams of a workbook that will not be saved, so that they end here
    instead of complaining when garbage-collected; their files go with the staging folder."""
    for ws in wb.worksheets:
        try:
            ws.close()
        except Exception:  # noqa: BLE001 - the export already failed; this is only tidying
            pass


@contextmanager
def _staging(path: Path) -> Iterator[Path]:
    """A private folder beside `path` for the workbook being written (and openpyxl's per-sheet
    temporary files, tens of MB for a big ledger); renamed over `path` only on success, and
    removed whatever happens. Folders left by an export killed mid-way are removed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(path.parent)
    folder = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{STAGING_SUFFIX}"
    folder.mkdir()
    token = _TEMP_DIR.set(folder)
    try:
        partial = folder / path.name
        yield partial
        os.replace(partial, path)
    finally:
        _TEMP_DIR.reset(token)
        _forget_temp_files(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _remove_abandoned(parent: Path) -> None:
    for folder in parent.glob(f".*{STAGING_SUFFIX}"):
        try:
            pid = int(folder.name.removesuffix(STAGING_SUFFIX).split(".")[-2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# openpyxl's write-only sheets stream into temporary files it creates in the system temp folder
# and deletes only at interpreter exit; a killed export left them there. Inside `_staging` they
# go to the staging folder instead (a context variable, so concurrent exports in worker threads
# each use their own folder); elsewhere openpyxl behaves as usual.
_TEMP_DIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "lianhu_export_temp_dir", default=None
)
_openpyxl_temporary_file = openpyxl_writer.create_temporary_file


def _temporary_file(suffix: str = "") -> str:
    folder = _TEMP_DIR.get()
    if folder is None:
        return _openpyxl_temporary_file(suffix)
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="openpyxl.", dir=folder)
    os.close(handle)
    openpyxl_writer.ALL_TEMP_FILES.append(name)
    return name


def _forget_temp_files(folder: Path) -> None:
    inside = str(folder) + os.sep
    openpyxl_writer.ALL_TEMP_FILES[:] = [
        f for f in openpyxl_writer.ALL_TEMP_FILES if not f.startswith(inside)
    ]


openpyxl_writer.create_temporary_file = _temporary_file


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


def _cell(ws, name: str, value, tz: ZoneInfo, show_phones: bool):
    if value is None or value == "":
        return ""
    if name in TIME_FIELDS:
        try:
            return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except (TypeError, ValueError):
            pass  # an unreadable stored time is shown as it is, not allowed to stop the export
    if name == "level":
        return LEVEL_NAMES.get(value, _text(ws, value))
    if name == "status":
        return STATUS_NAMES.get(value, _text(ws, value))
    if name == "phone":
        return _text(ws, value if show_phones else mask_phone_field(value))
    if isinstance(value, str):
        return _text(ws, mask_personal(value, show_phones))
    return value


def _text(ws, value: str) -> str | WriteOnlyCell:
    """A user string as a text cell: control characters out, never a formula."""
    value = clean_text(value)
    if not value.startswith(FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # openpyxl made it a formula ('f') because it starts with =
    cell.quotePrefix = True
    return cell
