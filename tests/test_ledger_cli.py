"""`lianhu demo && lianhu digest --json && lianhu export` on a fresh data dir."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from typer.testing import CliRunner

from bot import cli

runner = CliRunner()


def test_demo_digest_export_backup(tmp_path):
    cli._register_all()
    data = ["--data-dir", str(tmp_path / "data")]
    result = runner.invoke(cli.app, ["demo", *data])
    assert 0 == result.exit_code, result.output
    assert "农户 250 户" in result.output
    again = runner.invoke(cli.app, ["demo", *data])
    assert 2 == again.exit_code  # never mixes demo data into an existing ledger

    result = runner.invoke(cli.app, ["digest", "--json", "--png", str(tmp_path / "d.png"), *data])
    assert 0 == result.exit_code, result.output
    digest = json.loads(result.output)
    for key in (
        "week",
        "visits",
        "households_assigned",
        "households_visited",
        "coverage",
        "special_due",
        "special_visited",
        "problems_new",
        "problems_solved_on_spot",
        "problems_escalated",
        "problems_resolved",
        "problems_overdue",
        "resolution_rate",
        "on_time_rate",
        "satisfaction_rate",
        "on_spot_rate",
        "resolved_in_village_rate",
        "zero_visit_members",
        "previous",
    ):
        assert key in digest
    assert digest["visits"] > 0 and digest["previous"]["visits"] > 0
    # item 1: the two new rates, consistent with the counts beside them, this week and last
    for week in (digest, digest["previous"]):
        assert week["problems_new"] and week["resolved_in_week"]  # the demo has both
        assert (
            round(week["problems_solved_on_spot"] / week["problems_new"], 4) == week["on_spot_rate"]
        )
        assert (
            round(week["resolved_in_village"] / week["resolved_in_week"], 4)
            == week["resolved_in_village_rate"]
        )
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"

    result = runner.invoke(cli.app, ["digest", "--week", "47周", *data])
    assert 2 == result.exit_code and "2026-W47" in result.output

    out = tmp_path / "台账.xlsx"
    result = runner.invoke(cli.app, ["export", "--out", str(out), *data])
    assert 0 == result.exit_code, result.output
    wb = load_workbook(out, read_only=True)
    assert ["汇总", "走访记录", "问题台账", "农户"] == wb.sheetnames
    text = " ".join(str(c) for row in wb["走访记录"].iter_rows(values_only=True) for c in row if c)
    import re

    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)  # no full phone number
    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", text)  # no full ID number

    result = runner.invoke(cli.app, ["backup", "--out", str(tmp_path / "b.db"), *data])
    assert 0 == result.exit_code and (tmp_path / "b.db").stat().st_size > 0
