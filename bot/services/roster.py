"""Roster import from the coordinators' Excel or CSV: members and households, as an update.

Excel: a sheet 党员 (姓名, 角色, 村, 网格, 电话) and a sheet 农户 (编号, 村, 网格, 户主, 门牌, 人口,
电话, 标签, 联户党员); `lianhu roster-template` writes an empty one with an example row. CSV: one
of the two tables, told apart by its header.

Importing again updates what is there instead of refusing it. A member is the same member when
姓名 and 村 match. A household is the same household when its 编号 (the id the Excel export
prints) names a household of that village, or else when 村, 户主 and 门牌 all match. Rows that
match are compared field by field: changed fields are written and audited, identical rows are
counted as unchanged; rows that match nothing are added. Nobody is deleted by leaving them out.
Every row is checked first; if any row is wrong nothing is stored and the report lists each
rejected row and why.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from bot.ledger import audit as audit_db
from bot.ledger import households as households_db
from bot.ledger import members as members_db
from bot.ledger import roster as roster_db
from bot.ledger.db import transaction
from bot.services.command_grammar import parse_number
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import ROLE_NAMES, ROLES, Household, Member
from bot.services.text_safety import clean_line

ROLE_BY_NAME = {
    **{v: k for k, v in ROLE_NAMES.items()},
    **{r: r for r in ROLES},
    "党员": "volunteer",
    "村书记": "village_coordinator",
    "乡镇": "township_coordinator",
}
MEMBER_COLUMNS = ("姓名", "角色", "村", "网格", "电话")
HOUSEHOLD_COLUMNS = ("编号", "村", "网格", "户主", "门牌", "人口", "电话", "标签", "联户党员")
EXAMPLE_MEMBER = ("刘党员", "联户党员", "东山村", "一组", "13800000000")
EXAMPLE_HOUSEHOLD = (
    "",
    "东山村",
    "一组",
    "张三",
    "12号",
    3,
    "13900000000",
    "低保户、空巢老人",
    "刘党员",
)
COLUMN_NOTES = (
    ("党员", "姓名", "必填；同一个村里姓名不重复（姓名 + 村 认定是同一个人）"),
    ("党员", "角色", "联户党员、网格长、村级管理员 或 乡镇管理员"),
    ("党员", "村", "必填（乡镇管理员可空）"),
    ("党员", "网格", "如 一组；网格长按网格看农户"),
    ("党员", "电话", "可空"),
    ("农户", "编号", "新户留空；导出表“农户”里的编号，填上就按编号更新这一户（可改户主、门牌）"),
    ("农户", "村", "必填"),
    ("农户", "网格", "如 一组"),
    ("农户", "户主", "必填；没有编号时 村 + 户主 + 门牌 认定是同一户"),
    ("农户", "门牌", "如 12号"),
    ("农户", "人口", "数字，空着算 1"),
    ("农户", "电话", "可空；只有本户的联户党员和有权限的管理员看得到完整号码"),
    (
        "农户",
        "标签",
        "重点户类别，用顿号或逗号分开：低保户、特困户、空巢老人、重病、重残、留守儿童…",
    ),
    ("农户", "联户党员", "党员表（或已导入的名单）里同村的姓名；可空"),
)


@dataclass
class RosterReport:
    members_added: int = 0
    members_changed: int = 0
    members_unchanged: int = 0
    households_added: int = 0
    households_changed: int = 0
    households_unchanged: int = 0
    rejected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        if self.ok:
            return (
                f"导入成功：党员 新增 {self.members_added} 人，更新 {self.members_changed} 人，"
                f"没变 {self.members_unchanged} 人；农户 新增 {self.households_added} 户，"
                f"更新 {self.households_changed} 户，没变 {self.households_unchanged} 户。"
            )
        lines = [f"有 {len(self.rejected)} 行不对，全部没有导入，请改好后重新导入："]
        return "\n".join([*lines, *(f"  - {r}" for r in self.rejected)])


def read_tables(path: Path) -> dict[str, list[dict]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        tables = {}
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            if not rows:
                continue
            header = [str(c).strip() if c is not None else "" for c in rows[0]]
            kind = _kind(header)
            if kind:
                tables[kind] = [
                    {h: _cell(v) for h, v in zip(header, r, strict=False)}
                    for r in rows[1:]
                    if any(v not in (None, "") for v in r)
                ]
        return tables
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        kind = _kind(reader.fieldnames or [])
        if not kind:
            return {}
        return {kind: [{k: clean_line(v) for k, v in row.items()} for row in reader]}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # Excel stores 3 as 3.0
        value = int(value)
    return clean_line(str(value))


def _kind(header: list[str]) -> str | None:
    if "户主" in header:
        return "households"
    if "姓名" in header and "角色" in header:
        return "members"
    return None


def _tags(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.replace("，", ",").replace("、", ",").split(",") if t.strip())


def import_roster(ledger: LedgerService, path: Path) -> RosterReport:
    """Add new members and households, update the ones already there; all or nothing."""
    report = RosterReport()
    tables = read_tables(path)
    if not tables:
        report.rejected.append(f"{path.name}：没有找到“党员”（姓名、角色…）或“农户”（户主…）表头")
        return report
    db = ledger.db
    with transaction(db):
        members = {(m.name, m.village): m for m in members_db.members_with_role(db, ROLES)}
        member_rows = _check_members(tables.get("members", []), members, report)
        # names the household table may use: those on file and those this import adds
        known = {key: m.id for key, m in members.items()}
        for r in member_rows:
            known.setdefault((r["name"], r["village"]), -1)  # its id comes when it is added
        households = roster_db.all_households(db)
        household_rows = _check_households(tables.get("households", []), households, known, report)
        if report.rejected:
            return report  # nothing was written: the transaction commits no row
        now = ledger.now_iso()
        for row in member_rows:
            old: Member | None = members.get((row["name"], row["village"]))
            fields = {"role": row["role"], "grid": row["grid"], "phone": row["phone"]}
            if old is None:
                member_id = members_db.insert_member(
                    db, row["name"], row["role"], row["village"], row["grid"], row["phone"], at=now
                )
                known[(row["name"], row["village"])] = member_id
                audit_db.audit(db, None, "member", member_id, "import", None, row, at=now)
                report.members_added += 1
                continue
            changed = {k: v for k, v in fields.items() if getattr(old, k) != v}
            if not changed:
                report.members_unchanged += 1
                continue
            roster_db.update_member(db, old.id, **changed)
            after = members_db.member(db, old.id)
            audit_db.audit(db, None, "member", old.id, "import_update", old, after, at=now)
            report.members_changed += 1
        for row in household_rows:
            old: Household | None = row.pop("existing")
            volunteer = row.pop("volunteer")
            row["volunteer_id"] = known.get((volunteer, row["village"])) if volunteer else None
            if old is None:
                hid = households_db.insert_household(
                    db,
                    row["village"],
                    row["head_name"],
                    row["grid"],
                    row["house_number"],
                    row["size"],
                    row["phone"],
                    row["tags"],
                    row["volunteer_id"],
                    at=now,
                )
                audit_db.audit(db, None, "household", hid, "import", None, row, at=now)
                report.households_added += 1
                continue
            changed = {k: v for k, v in row.items() if k != "village" and getattr(old, k) != v}
            if not changed:
                report.households_unchanged += 1
                continue
            roster_db.update_household(db, old.id, **changed)
            after = households_db.household(db, old.id)
            audit_db.audit(db, None, "household", old.id, "import_update", old, after, at=now)
            report.households_changed += 1
    return report


def _check_members(rows: list[dict], members: dict, report: RosterReport) -> list[dict]:
    checked, seen = [], {}
    for n, row in enumerate(rows, start=2):
        name, village = row.get("姓名", ""), row.get("村", "")
        role = ROLE_BY_NAME.get(row.get("角色", ""))
        if not name:
            report.rejected.append(f"党员表第 {n} 行：缺少姓名")
        elif role is None:
            report.rejected.append(
                f"党员表第 {n} 行：角色“{row.get('角色', '')}”不认识，请写 联户党员、网格长、村级管理员 或 乡镇管理员"
            )
        elif role != "township_coordinator" and not village:
            report.rejected.append(f"党员表第 {n} 行：{name} 缺少所在村")
        elif (name, village) in seen:
            report.rejected.append(
                f"党员表第 {n} 行：{village}{name} 和第 {seen[(name, village)]} 行重复"
            )
        else:
            seen[(name, village)] = n
            checked.append(
                {
                    "name": name,
                    "role": role,
                    "village": village,
                    "grid": row.get("网格", ""),
                    "phone": row.get("电话", ""),
                }
            )
    return checked


def _check_households(
    rows: list[dict], households: list[Household], known: dict, report: RosterReport
) -> list[dict]:
    by_id = {h.id: h for h in households}
    by_key = {(h.village, h.head_name, h.house_number): h for h in households}
    checked, seen = [], {}
    for n, row in enumerate(rows, start=2):
        head, village, number = row.get("户主", ""), row.get("村", ""), row.get("门牌", "")
        size = parse_number(row.get("人口", "") or "1")
        volunteer = row.get("联户党员", "")
        given_id = row.get("编号", "")
        existing = None
        if given_id:
            hid = parse_number(given_id)
            existing = by_id.get(hid) if hid else None
            if existing is None or existing.village != village:
                report.rejected.append(f"农户表第 {n} 行：编号“{given_id}”不是{village}的农户")
                continue
        if not head or not village:
            report.rejected.append(f"农户表第 {n} 行：户主和村都要填")
            continue
        if size is None:
            report.rejected.append(f"农户表第 {n} 行：人口“{row.get('人口', '')}”不是数字")
            continue
        if volunteer and (volunteer, village) not in known:
            report.rejected.append(
                f"农户表第 {n} 行：联户党员“{volunteer}”不在{village}的党员名单里"
            )
            continue
        existing = existing or by_key.get((village, head, number))
        identity = existing.id if existing else (village, head, number)
        if identity in seen:
            report.rejected.append(f"农户表第 {n} 行：和第 {seen[identity]} 行是同一户")
            continue
        seen[identity] = n
        checked.append(
            {
                "existing": existing,
                "village": village,
                "head_name": head,
                "house_number": number,
                "grid": row.get("网格", ""),
                "size": size,
                "phone": row.get("电话", ""),
                "tags": _tags(row.get("标签", "")),
                "volunteer": volunteer,
            }
        )
    return checked


def write_template(path: Path) -> None:
    """An empty roster with one example row per sheet and a sheet explaining the columns."""
    from openpyxl import Workbook

    wb = Workbook()
    members = wb.active
    members.title = "党员"
    members.append(list(MEMBER_COLUMNS))
    members.append(list(EXAMPLE_MEMBER))
    households = wb.create_sheet("农户")
    households.append(list(HOUSEHOLD_COLUMNS))
    households.append(list(EXAMPLE_HOUSEHOLD))
    notes = wb.create_sheet("说明")
    notes.append(["表", "列", "怎么填"])
    for row in COLUMN_NOTES:
        notes.append(list(row))
    for ws, widths in (
        (members, (10, 12, 10, 8, 14)),
        (households, (8, 10, 8, 10, 8, 6, 14, 20, 10)),
    ):
        for i, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + i)].width = width
    notes.column_dimensions["C"].width = 80
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
