"""A small village for ledger tests: one of each role, four households."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import load_settings
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Household, Member


@dataclass
class Village:
    ledger: LedgerService
    volunteer: Member
    other_volunteer: Member
    grid_leader: Member
    village_admin: Member
    other_village_admin: Member
    township: Member
    zhang: Household
    li: Household
    wang: Household
    far: Household


def make_village(tmp_path) -> Village:
    ledger = LedgerService.open(load_settings(tmp_path))
    v = ledger.add_member("刘党员", "volunteer", "东村", "一组", phone="13800001111")
    v2 = ledger.add_member("陈党员", "volunteer", "东村", "二组")
    g = ledger.add_member("赵网格", "grid_leader", "东村", "一组")
    va = ledger.add_member("孙书记", "village_coordinator", "东村")
    va2 = ledger.add_member("周书记", "village_coordinator", "西村")
    t = ledger.add_member("吴委员", "township_coordinator", "")
    zhang = ledger.add_household("东村", "张三", "一组", "12号", 3, "13912345678", ("低保户",), v)
    li = ledger.add_household("东村", "李四", "一组", "13号", 2, "", ("空巢老人",), v)
    wang = ledger.add_household("东村", "王五", "二组", "21号", 4, "", (), v2)
    far = ledger.add_household("西村", "张山", "一组", "1号", 1, "", ("重残",), None)
    return Village(ledger, v, v2, g, va, va2, t, zhang, li, wang, far)
