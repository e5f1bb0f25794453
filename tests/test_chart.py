"""The trend chart is a real PNG of the size chat clients show, whose bars and line follow
the figures; drawing it is the only thing that loads matplotlib."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, timedelta

from PIL import Image

from conversations.digest.chart import DUE, HELD, RATE, WeekBar, trend_png


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def decode(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.load()  # raises on a truncated or corrupt file
    return image.convert("RGB")


def near(image: Image.Image, colour: str, tolerance: int = 20) -> int:
    """How many pixels are within `tolerance` of `colour` on every channel."""
    r, g, b = rgb(colour)
    raw = image.tobytes()
    return sum(
        1
        for i in range(0, len(raw), 3)
        if abs(raw[i] - r) <= tolerance
        and abs(raw[i + 1] - g) <= tolerance
        and abs(raw[i + 2] - b) <= tolerance
    )


def weeks(due: int, held: int) -> list[WeekBar]:
    first = date(2030, 1, 7) - timedelta(weeks=12)
    rate = held / due if due else None
    return [WeekBar(due, held, rate, first + timedelta(weeks=i)) for i in range(12)]


def test_the_chart_is_a_png_of_the_size_slack_and_teams_show() -> None:
    image = decode(trend_png(weeks(10, 5)))
    assert image.size == (800, 400)
    assert decode(trend_png(weeks(10, 5), width=640, height=320)).size == (640, 320)


def test_bars_grow_with_the_meetings_held() -> None:
    none = decode(trend_png(weeks(10, 0)))
    half = decode(trend_png(weeks(10, 5)))
    full = decode(trend_png(weeks(10, 10)))
    assert near(none, HELD) < near(half, HELD) < near(full, HELD)
    assert near(full, DUE) > 1000  # the due bars are drawn beside the held ones


def test_the_rate_line_is_drawn_only_when_something_was_due() -> None:
    with_rate = decode(trend_png(weeks(10, 5)))
    # The legend's sample and the right axis's labels are orange too: the line adds to them.
    without = decode(trend_png(weeks(0, 0)))
    assert near(with_rate, RATE) > near(without, RATE) + 2000
    # The line sits at 50 % in the middle of the plot: orange pixels across that row.
    assert near(with_rate.crop((100, 150, 700, 230)), RATE, tolerance=30) > 500


def test_an_empty_program_still_draws_a_chart() -> None:
    image = decode(trend_png([WeekBar(0, 0, None)] * 12))
    assert image.size == (800, 400) and near(image, HELD) < 600  # the legend's sample only


def test_the_chart_fits_a_teams_channel_post() -> None:
    # base64 adds a third; the whole card must stay under 28 KB (adapters/teams/channel.py).
    assert len(trend_png(weeks(10, 7))) < 18_000


def test_importing_the_engine_and_the_cli_does_not_load_matplotlib() -> None:
    code = (
        "import sys, conversations.engine, conversations.digest, bot.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
