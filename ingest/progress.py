"""How `lianhu ingest` shows progress: a rich bar on a terminal, else a line now and then
(for a log file of a long run in the background), with the rate and the time still needed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

LINE_EVERY_S = 30.0


@contextmanager
def progress_display(stream=None) -> Iterator:
    """A `progress(stage, done, total)` callable for the length of the block."""
    stream = stream or sys.stderr
    if stream.isatty():
        from rich.console import Console
        from rich.progress import Progress, TimeRemainingColumn

        with Progress(
            *Progress.get_default_columns()[:-1],
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def show(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            yield show
    else:
        yield ProgressLines(stream)


class ProgressLines:
    """One line per stage start, then one every LINE_EVERY_S seconds, and one at the end."""

    def __init__(self, stream, every_s: float = LINE_EVERY_S):
        self.stream = stream
        self.every_s = every_s
        self._stage = ""
        self._started = 0.0
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self._stage:
            self._stage, self._started, self._last = stage, now, 0.0
        if done < total and now - self._last < self.every_s and self._last:
            return
        self._last = now
        elapsed = now - self._started
        line = f"{stage} {done}/{total}"
        if done and elapsed > 1 and done < total:
            rate = done / elapsed
            line += f"，每秒 {rate:.1f} 条，约还需 {(total - done) / rate / 60:.1f} 分钟"
        elif done >= total:
            line += f"，完成，用时 {elapsed:.0f} 秒"
        print(line, file=self.stream, flush=True)
