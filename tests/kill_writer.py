"""A writer process for the kill -9 tests: logs visits and walks their problems through the
lifecycle through the real service, printing an acknowledgement after each call returns.

    python tests/kill_writer.py DATA_DIR WORKER START

Every key is derived from (worker, i), so a restarted writer that starts again a little before
its last acknowledgement re-sends the same keys, as a client whose reply was lost would."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config import load_settings
from bot.services.ledger_service import LedgerService


def main(data_dir: str, worker: int, start: int) -> None:
    ledger = LedgerService.open(load_settings(Path(data_dir)))
    volunteer = ledger.members_named(f"党员{worker}")[0]
    admin = ledger.members_named("书记")[0]
    household = ledger.visible_households(volunteer)[0]
    print("ready", flush=True)
    for i in range(start, start + 100_000):
        key = f"w{worker}:{i}"
        problem = "屋顶漏雨" if i % 3 == 0 else ""
        result = ledger.log_visit(
            volunteer, household.id, f"第{i}次走访", problem_text=problem, client_key=key
        )
        print(f"V {key}", flush=True)
        if result.problem is None:
            continue
        pid = result.problem.id
        for step_key, call in (
            (f"{key}:e", lambda k, p=pid: ledger.escalate(volunteer, p, k, to_level="village")),
            (f"{key}:r", lambda k, p=pid: ledger.resolve(admin, p, "已修好", k)),
            (f"{key}:f", lambda k, p=pid: ledger.follow_up(volunteer, p, "满意", k)),
            (f"{key}:c", lambda k, p=pid: ledger.close(admin, p, k)),
        ):
            call(step_key)
            print(f"E {step_key}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
