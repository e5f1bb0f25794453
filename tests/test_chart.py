"""The trend chart is a real PNG whose bars follow the figures."""

from __future__ import annotations

import struct
import zlib

from conversations.digest.chart import DUE, HELD, WeekBar, trend_png


def decode(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw RGB rows (filter bytes dropped) of our 8-bit RGB PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x02"  # 8-bit truecolour
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert len(raw) == stride * height
    return width, height, b"".join(raw[r * stride + 1 : (r + 1) * stride] for r in range(height))


def colour_count(pixels: bytes, colour: tuple[int, int, int]) -> int:
    wanted = bytes(colour)
    return sum(1 for i in range(0, len(pixels), 3) if pixels[i : i + 3] == wanted)


def test_bars_grow_with_the_meetings_held() -> None:
    none = decode(trend_png([WeekBar(10, 0, 0.0)] * 12))
    half = decode(trend_png([WeekBar(10, 5, 0.5)] * 12))
    full = decode(trend_png([WeekBar(10, 10, 1.0)] * 12))
    assert none[:2] == (480, 200)
    assert colour_count(none[2], HELD) == 0 < colour_count(half[2], HELD)
    assert colour_count(half[2], HELD) < colour_count(full[2], HELD)
    assert colour_count(none[2], DUE) > colour_count(full[2], DUE)


def test_an_empty_program_still_draws_a_chart() -> None:
    width, height, pixels = decode(trend_png([WeekBar(0, 0, None)] * 12))
    assert (width, height) == (480, 200) and colour_count(pixels, HELD) == 0
