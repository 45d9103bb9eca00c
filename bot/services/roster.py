"""Roster import from the coordinators' Excel or CSV: members and households.

Excel: a sheet 党员 (姓名, 角色, 村, 网格, 电话) and a sheet 农户 (村, 网格, 户主, 门牌, 人口, 电话,
标签, 联户党员). CSV: one of the two tables, told apart by its header. Every row is checked
first; if any row is wrong nothing is stored and the report lists each rejected row and why.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from bot.ledger import audit as audit_db
from bot.ledger import households as households_db
from bot.ledger import members as members_db
from bot.ledger.db import transaction
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import ROLE_NAMES, ROLES
from bot.services.text_safety import clean_line

ROLE_BY_NAME = {
    **{v: k for k, v in ROLE_NAMES.items()},
    **{r: r for r in ROLES},
    "党员": "volunteer",
    "村书记": "village_coordinator",
    "乡镇": "township_coordinator",
}
MEMBER_COLUMNS = ("姓名", "角色", "村", "网格", "电话")
HOUSEHOLD_COLUMNS = ("村", "网格", "户主", "门牌", "人口", "电话", "标签", "联户党员")


@dataclass
class RosterReport:
    members_added: int = 0
    households_added: int = 0
    rejected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        if self.ok:
            return f"导入成功：党员 {self.members_added} 人，农户 {self.households_added} 户。"
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
                    {
                        h: ("" if v is None else clean_line(str(v)))
                        for h, v in zip(header, r, strict=False)
                    }
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


def _kind(header: list[str]) -> str | None:
    if "户主" in header:
        return "households"
    if "姓名" in header and "角色" in header:
        return "members"
    return None


def import_roster(ledger: LedgerService, path: Path) -> RosterReport:
    report = RosterReport()
    tables = read_tables(path)
    if not tables:
        report.rejected.append(f"{path.name}：没有找到“党员”（姓名、角色…）或“农户”（户主…）表头")
        return report
    db = ledger.db
    with transaction(db):
        known = {(m.name, m.village): m.id for m in members_db.members_with_role(db, ROLES)}
        new_members = []
        for n, row in enumerate(tables.get("members", []), start=2):
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
            elif (name, village) in known:
                report.rejected.append(f"党员表第 {n} 行：{village}{name} 已经登记过")
            else:
                known[(name, village)] = -1
                new_members.append((name, role, village, row.get("网格", ""), row.get("电话", "")))
        new_households = []
        for n, row in enumerate(tables.get("households", []), start=2):
            head, village = row.get("户主", ""), row.get("村", "")
            size = row.get("人口", "") or "1"
            volunteer = row.get("联户党员", "")
            if not head or not village:
                report.rejected.append(f"农户表第 {n} 行：户主和村都要填")
            elif not size.split(".")[0].isdigit():
                report.rejected.append(f"农户表第 {n} 行：人口“{size}”不是数字")
            elif volunteer and (volunteer, village) not in known:
                report.rejected.append(
                    f"农户表第 {n} 行：联户党员“{volunteer}”不在{village}的党员名单里"
                )
            else:
                tags = tuple(
                    t
                    for t in row.get("标签", "").replace("，", ",").replace("、", ",").split(",")
                    if t
                )
                new_households.append(
                    (
                        village,
                        head,
                        row.get("网格", ""),
                        row.get("门牌", ""),
                        int(size.split(".")[0]),
                        row.get("电话", ""),
                        tags,
                        volunteer,
                    )
                )
        if report.rejected:
            return report  # nothing was written: the transaction commits no row
        for name, role, village, grid, phone in new_members:
            member_id = members_db.insert_member(db, name, role, village, grid, phone)
            known[(name, village)] = member_id
            audit_db.audit(
                db,
                None,
                "member",
                member_id,
                "import",
                None,
                {"name": name, "role": role, "village": village},
            )
            report.members_added += 1
        for village, head, grid, number, size, phone, tags, volunteer in new_households:
            vid = known.get((volunteer, village)) if volunteer else None
            hid = households_db.insert_household(db, village, head, grid, number, size, phone, tags, vid)
            audit_db.audit(
                db, None, "household", hid, "import", None, {"village": village, "head_name": head}
            )
            report.households_added += 1
    return report
