"""The Teams app icons, drawn in code and written as PNG with zlib and struct.

Teams wants a full-colour 192×192 icon and a 32×32 outline icon that is white
on a transparent background. Both show a mentor and a mentee side by side. Each
pixel is supersampled 4×4 for smooth edges; no imaging library is needed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Shape = Callable[[float, float], bool]
RGB = tuple[int, int, int]

ACCENT: RGB = (46, 111, 149)
WHITE: RGB = (255, 255, 255)


def _disc(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _shoulders(cx: float, base: float, rx: float, ry: float) -> Shape:
    """The top half of an ellipse standing on `base`: a person's shoulders."""
    return lambda x, y: y <= base and ((x - cx) / rx) ** 2 + ((y - base) / ry) ** 2 <= 1


_PEOPLE: tuple[Shape, ...] = (
    _disc(0.39, 0.33, 0.115),  # the mentor
    _shoulders(0.39, 0.76, 0.20, 0.27),
    _disc(0.67, 0.45, 0.085),  # the mentee
    _shoulders(0.67, 0.76, 0.145, 0.20),
)


def _coverage(x: int, y: int, size: int, shapes: tuple[Shape, ...], samples: int = 4) -> float:
    """How much of pixel (x, y) the shapes cover, 0–1. A pixel whose four corners agree is
    taken as wholly in or out (the shapes are far larger than a pixel)."""
    corners = {
        any(shape((x + dx) / size, (y + dy) / size) for shape in shapes)
        for dx in (0, 1)
        for dy in (0, 1)
    }
    if len(corners) == 1:
        return 1.0 if corners.pop() else 0.0
    hits = 0
    for i in range(samples):
        for j in range(samples):
            u = (x + (i + 0.5) / samples) / size
            v = (y + (j + 0.5) / samples) / size
            hits += any(shape(u, v) for shape in shapes)
    return hits / (samples * samples)


def png(width: int, height: int, rgba: bytes) -> bytes:
    """An 8-bit RGBA PNG of the given pixels (row by row, 4 bytes a pixel)."""
    assert len(rgba) == width * height * 4

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + rgba[y * width * 4 : (y + 1) * width * 4] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def color_icon(size: int = 192, background: RGB = ACCENT) -> bytes:
    """White people on the accent colour, edge to edge (Teams rounds the corners)."""
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            a = _coverage(x, y, size, _PEOPLE)
            pixels.extend(round(b + (w - b) * a) for b, w in zip(background, WHITE, strict=True))
            pixels.append(255)
    return png(size, size, bytes(pixels))


def outline_icon(size: int = 32) -> bytes:
    """White people on transparency, as Teams requires of the outline icon."""
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            pixels.extend((*WHITE, round(255 * _coverage(x, y, size, _PEOPLE))))
    return png(size, size, bytes(pixels))
