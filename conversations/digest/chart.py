"""A small trend chart as a PNG, drawn here with zlib alone (no plotting dependency).

The digest's chart shows, for each of the last weeks, meetings due (light bar) and
meetings held (dark bar inside it), with the follow-through rate as a line and the
tallest bar's value on the axis. Pixels are drawn into an RGB buffer and written as
a standard 8-bit truecolour PNG, so every chat client can show it.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
AXIS: RGB = (120, 120, 120)
DUE: RGB = (200, 214, 235)
HELD: RGB = (46, 94, 170)
RATE: RGB = (224, 122, 31)
GRID: RGB = (232, 232, 232)

# A 3×5 bitmap font for the axis labels: digits, % and a dash.
_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "%": ("101", "001", "010", "100", "101"),
    "-": ("000", "000", "111", "000", "000"),
}


@dataclass(frozen=True)
class WeekBar:
    due: int
    held: int
    rate: float | None  # 0..1, None when nothing was due


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: RGB) -> None:
        left, right = max(0, min(x0, x1)), min(self.width - 1, max(x0, x1))
        if left > right:
            return
        run = bytes(colour) * (right - left + 1)
        for y in range(max(0, min(y0, y1)), min(self.height, max(y0, y1) + 1)):
            start = (y * self.width + left) * 3
            self.pixels[start : start + len(run)] = run

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: RGB, thick: int = 1) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for s in range(steps + 1):
            x = round(x0 + (x1 - x0) * s / steps)
            y = round(y0 + (y1 - y0) * s / steps)
            self.rect(x, y, x + thick - 1, y + thick - 1, colour)

    def label(self, x: int, y: int, text: str, colour: RGB, scale: int = 2) -> None:
        for n, char in enumerate(text):
            glyph = _GLYPHS.get(char)
            if glyph is None:
                continue
            for row, bits in enumerate(glyph):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        gx, gy = x + (n * 4 + col) * scale, y + row * scale
                        self.rect(gx, gy, gx + scale - 1, gy + scale - 1, colour)

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def trend_png(weeks: Sequence[WeekBar], width: int = 480, height: int = 200) -> bytes:
    """Bars of meetings due and held per week (oldest left), the rate line, axis labels."""
    canvas = Canvas(width, height)
    tallest = max([w.due for w in weeks] + [w.held for w in weeks] + [1])
    left = 12 + 8 * len(str(tallest))  # room for the axis label (8 px a digit)
    right, top, bottom = width - 36, 12, height - 14
    for quarter in range(5):
        y = bottom - (bottom - top) * quarter // 4
        canvas.line(left, y, right, y, GRID)
    canvas.line(left, top, left, bottom, AXIS)
    canvas.line(left, bottom, right, bottom, AXIS)
    canvas.label(4, top, str(tallest), AXIS)
    canvas.label(4, bottom - 10, "0", AXIS)
    canvas.label(right + 4, top, "100%", RATE, scale=1)
    canvas.label(right + 4, bottom - 5, "0%", RATE, scale=1)
    if not weeks:
        return canvas.png()
    slot = (right - left) / len(weeks)
    bar = max(2, int(slot * 0.6))
    points: list[tuple[int, int]] = []
    for i, week in enumerate(weeks):
        x0 = left + int(i * slot + (slot - bar) / 2) + 1
        scale = (bottom - top) / tallest
        if week.due:
            canvas.rect(x0, bottom - 1, x0 + bar, bottom - int(week.due * scale), DUE)
        if week.held:
            inner = max(1, bar // 5)
            canvas.rect(
                x0 + inner, bottom - 1, x0 + bar - inner, bottom - int(week.held * scale), HELD
            )
        if week.rate is not None:
            rate = max(0.0, min(1.0, week.rate))
            points.append((x0 + bar // 2, bottom - int(rate * (bottom - top))))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        canvas.line(x0, y0, x1, y1, RATE, thick=2)
    for x, y in points:
        canvas.rect(x - 2, y - 2, x + 2, y + 2, RATE)
    return canvas.png()
