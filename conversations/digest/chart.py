"""The digest's trend chart as a PNG, drawn with matplotlib.

For each of the last weeks it shows meetings due (light bar) and held (dark bar
beside it) on the left axis, and the follow-through rate (held / due) as a line on
its own right axis from 0 to 100 %. Week labels sit under the bars and a legend
names the three series. The default size, 800 × 400 px at 100 dpi, is what Slack and
Teams show inline without scaling the text away.

matplotlib is imported inside `trend_png` only (with the Agg backend, which needs no
display): importing the engine, the CLI or the adapters must stay fast, and most
processes never draw a chart. The PNG is reduced to a small palette so a channel
post with the chart inline stays under Teams' message size limit.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

DUE = "#c8d6eb"
HELD = "#2e5eaa"
RATE = "#e07a1f"
DPI = 100
# Colours kept in the palette: enough for anti-aliased text and lines to stay smooth.
PALETTE_COLOURS = 64


@dataclass(frozen=True)
class WeekBar:
    due: int
    held: int
    rate: float | None  # 0..1, None when nothing was due
    start: date | datetime | None = None  # the week's first day, for its label


def _label(week: WeekBar, index: int, count: int) -> str:
    if week.start is None:
        return f"-{count - index}w" if index < count - 1 else "this wk"
    return f"{week.start:%d %b}".lstrip("0")


def trend_png(weeks: Sequence[WeekBar], width: int = 800, height: int = 400) -> bytes:
    """A PNG of `width` × `height` pixels: bars of meetings due and held per week (oldest
    left), the follow-through rate line on a right axis, week labels and a legend."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter
    from PIL import Image

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    bars = figure.add_subplot()
    rates = bars.twinx()
    count = len(weeks)
    xs = list(range(count))
    half = 0.38
    due = bars.bar(
        [x - half / 2 for x in xs], [w.due for w in weeks], half, color=DUE, label="Meetings due"
    )
    held = bars.bar(
        [x + half / 2 for x in xs], [w.held for w in weeks], half, color=HELD, label="Meetings held"
    )
    # A week with nothing due has no rate: NaN leaves a gap rather than a made-up point.
    percents = [float("nan") if w.rate is None else 100 * max(0.0, min(1.0, w.rate)) for w in weeks]
    (line,) = rates.plot(
        xs,
        percents,
        color=RATE,
        marker="o",
        linewidth=2.5,
        label="Follow-through rate",
    )
    tallest = max([w.due for w in weeks] + [w.held for w in weeks] + [1])
    bars.set_ylim(0, tallest * 1.15)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.set_ylabel("Meetings per week")
    rates.set_ylim(0, 105)
    rates.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    rates.set_ylabel("Follow-through rate", color=RATE)
    rates.tick_params(axis="y", colors=RATE)
    bars.set_xticks(xs, [_label(w, i, count) for i, w in enumerate(weeks)], fontsize=9)
    bars.set_xlabel("Week starting", fontsize=9)
    bars.set_xlim(-0.6, max(count, 1) - 0.4)
    bars.set_title("Meetings due and held per week, with the follow-through rate", fontsize=11)
    bars.grid(axis="y", color="#e8e8e8")
    bars.set_axisbelow(True)
    for axis in (bars, rates):
        axis.spines["top"].set_visible(False)
    bars.legend(
        handles=[due, held, line],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        ncol=3,
        frameon=False,
        fontsize=9,
    )
    figure.tight_layout()
    raw = io.BytesIO()
    figure.savefig(raw, format="png", dpi=DPI)
    raw.seek(0)
    with Image.open(raw) as drawn:
        small = drawn.convert("RGB").quantize(PALETTE_COLOURS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()
