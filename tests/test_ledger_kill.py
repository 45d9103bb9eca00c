"""kill -9 of processes writing the ledger (issue #10 acceptance 3): two writers log visits and
move problems through the real service and are killed at random moments, then restarted a
little before their last acknowledgement (re-sending keys, as a client whose reply was lost).
Every acknowledged write must be present exactly once, every problem's row must agree with
its events, and SQLite's integrity check must pass."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.config import load_settings
from bot.services.ledger_service import LedgerService

WRITERS = 2
KILLS = 12  # in total, alternating between the writers
ROOT = Path(__file__).resolve().parent.parent


def _setup(data_dir: Path) -> None:
    ledger = LedgerService.open(load_settings(data_dir))
    ledger.add_member("书记", "village_coordinator", "东村")
    for w in range(WRITERS):
        member = ledger.add_member(f"党员{w}", "volunteer", "东村", "一组")
        ledger.add_household("东村", f"户主{w}", "一组", f"{w}号", 3, "", (), member)
    ledger.close_db()


class Writer:
    def __init__(self, data_dir: Path, worker: int):
        self.data_dir, self.worker = data_dir, worker
        self.acked: list[str] = []
        self.process: subprocess.Popen | None = None
        self.ready = threading.Event()

    def start(self, index: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        self.ready.clear()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "kill_writer.py"), str(self.data_dir)]
            + [str(self.worker), str(index)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            line = line.strip()
            if line == "ready":
                self.ready.set()
            elif line:
                self.acked.append(line)

    def kill(self) -> str:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        err = self.process.stderr.read()
        time.sleep(0.05)  # let the reader drain what was printed before the kill
        return err

    def resume_index(self) -> int:
        """A little before the last acknowledged visit: its keys are sent again."""
        visits = [int(a.split(":")[1]) for a in self.acked if a.startswith("V ")]
        return max(0, max(visits, default=0) - 2)


def test_kill9_writers_lose_and_duplicate_nothing(tmp_path):
    data_dir = tmp_path / "data"
    _setup(data_dir)
    rng = random.Random()
    writers = [Writer(data_dir, w) for w in range(WRITERS)]
    for w in writers:
        w.start(0)
    for w in writers:
        assert w.ready.wait(30), "writer did not start"
    errors = []
    for n in range(KILLS):
        w = writers[n % WRITERS]
        time.sleep(rng.uniform(0.2, 0.9))
        err = w.kill()
        if "Traceback" in err:
            errors.append(err)
        w.start(w.resume_index())
        assert w.ready.wait(30)
    time.sleep(0.5)
    for w in writers:
        w.kill()
    assert not errors, errors[0]

    db = LedgerService.open(load_settings(data_dir)).db
    assert "ok" == db.execute("PRAGMA integrity_check").fetchone()[0]
    acked_visits = {a[2:] for w in writers for a in w.acked if a.startswith("V ")}
    acked_steps = {a[2:] for w in writers for a in w.acked if a.startswith("E ")}
    assert len(acked_visits) > 50 and len(acked_steps) > 20  # the writers really worked
    visit_keys = [r[0] for r in db.execute("SELECT client_key FROM visits")]
    step_keys = [r[0] for r in db.execute("SELECT client_key FROM problem_events")]
    assert len(visit_keys) == len(set(visit_keys)) and len(step_keys) == len(set(step_keys))
    assert acked_visits <= set(visit_keys)  # every acknowledged visit is there, once
    assert acked_steps <= set(step_keys)
    # each problem's row agrees with its events: one version per event, the last state
    rows = db.execute(
        "SELECT p.id, p.status, p.version, count(e.id), "
        "(SELECT to_status FROM problem_events WHERE problem_id=p.id ORDER BY id DESC LIMIT 1) "
        "FROM problems p LEFT JOIN problem_events e ON e.problem_id=p.id GROUP BY p.id"
    ).fetchall()
    for pid, state, version, events, last in rows:
        assert version == 1 + events, pid
        assert state == (last or "recorded"), pid
    # one problem per visit that asked for one, however often the visit was re-sent
    problems = db.execute(
        "SELECT count(*), count(DISTINCT visit_id) FROM problems WHERE visit_id IS NOT NULL"
    ).fetchone()
    assert problems[0] == problems[1]
    print(
        f"kills={KILLS} acked_visits={len(acked_visits)} acked_steps={len(acked_steps)} "
        f"visits={len(visit_keys)} events={len(step_keys)}"
    )
