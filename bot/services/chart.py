"""The digest chart: this week against last week, readable at a glance on a phone.

Chinese labels need a CJK font; `mplfonts` (a PyPI dependency) ships Noto Sans CJK, so this
works on a fresh machine without system fonts."""

from __future__ import annotations

import io
from functools import lru_cache

from bot.services.digest import Digest


@lru_cache(maxsize=1)
def _font() -> str | None:
    from pathlib import Path

    from matplotlib import font_manager

    try:
        import mplfonts

        path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    except ImportError:
        return None
    if not path.is_file():
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def digest_png(d: Digest) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = _font()
    if name:
        plt.rcParams["font.family"] = name
    w, p = d.this_week, d.previous_week
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4), dpi=110)
    counts = ["走访次数", "新问题", "当场解决", "上报", "办结", "超期"]
    now = [
        w.visits,
        w.problems_new,
        w.problems_solved_on_spot,
        w.problems_escalated,
        w.problems_resolved,
        w.problems_overdue,
    ]
    before = [
        p.visits,
        p.problems_new,
        p.problems_solved_on_spot,
        p.problems_escalated,
        p.problems_resolved,
        p.problems_overdue,
    ]
    _bars(left, counts, before, now, "数量")
    rates = ["覆盖率", "办结率", "按期率", "满意率", "就地化解", "不出村"]
    now_r = [
        w.coverage,
        w.resolution_rate,
        w.on_time_rate,
        w.satisfaction_rate,
        w.on_spot_rate,
        w.resolved_in_village_rate,
    ]
    before_r = [
        p.coverage,
        p.resolution_rate,
        p.on_time_rate,
        p.satisfaction_rate,
        p.on_spot_rate,
        p.resolved_in_village_rate,
    ]
    _bars(right, rates, [v * 100 for v in before_r], [v * 100 for v in now_r], "%")
    right.set_ylim(0, 110)
    fig.suptitle(f"{d.village or '全乡镇'} 民情周报 {w.week}（浅色为上周）")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _bars(ax, labels, before, now, unit):
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], before, width=0.4, color="#b8c7e0", label="上周")
    bars = ax.bar([x + 0.2 for x in xs], now, width=0.4, color="#c0392b", label="本周")
    for bar, value in zip(bars, now, strict=True):
        ax.annotate(
            f"{value:.0f}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel(unit)
    ax.legend(fontsize=8)
