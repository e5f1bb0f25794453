"""`mentorbot manifest teams`: a Teams app package with a valid manifest and valid PNG icons
(decoded here with a small independent PNG reader)."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from adapters.teams.manifest import MENU, ManifestError, build_manifest
from bot.cli import main
from conversations.engine import build_router

APP_ID = "00000000-0000-0000-0000-00000000b07a"
ROOT = Path(__file__).resolve().parent.parent


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG; checks signature and CRCs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append(kind)
        if kind == b"IDAT":
            idat += body
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, colour, interlace) == (8, 6, 0)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    raw, stride, rows = zlib.decompress(idat), width * 4, []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - 4] if i >= 4 else 0
            up, corner = previous[i], previous[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                best = min(
                    (abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner)
                )
                line[i] = (line[i] + best[2]) & 255
            else:
                assert kind == 0
        rows.append(bytes(line))
        previous = line
    pixels = [tuple(row[i : i + 4]) for row in rows for i in range(0, stride, 4)]
    return width, height, pixels  # type: ignore[return-value]


def test_the_package_holds_a_valid_manifest_and_icons(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    code = main(
        [
            "--config",
            str(ROOT / "app.yaml"),
            "manifest",
            "teams",
            "--app-id",
            APP_ID.upper(),
            "--url",
            "https://mentor.example.org/",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = read_png(package.read("color.png"))
        outline = read_png(package.read("outline.png"))
    assert manifest["manifestVersion"] == "1.17" and manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal", "team"]
    [commands] = bot["commandLists"]
    titles = [c["title"] for c in commands["commands"]]
    assert titles == list(MENU) and set(titles) <= {s.name for s in build_router().specs} | {"help"}
    assert all(
        len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in commands["commands"]
    )
    assert manifest["validDomains"] == ["mentor.example.org"]
    assert manifest["developer"]["privacyUrl"] == "https://mentor.example.org/privacy"
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    width, height, pixels = color
    assert (width, height) == (192, 192) and all(p[3] == 255 for p in pixels)
    assert len({p[:3] for p in pixels}) > 2  # a picture, not a blank square
    width, height, pixels = outline
    assert (width, height) == (32, 32)
    assert all(p[:3] == (255, 255, 255) for p in pixels)  # white …
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)  # … on clear


def test_bad_options_are_refused_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ManifestError, match="GUID"):
        build_manifest("my-bot")
    with pytest.raises(ManifestError, match="https"):
        build_manifest(APP_ID, url="http://mentor.example.org")
    assert main(["--config", str(ROOT / "app.yaml"), "manifest", "teams", "--app-id", "x"]) == 2
    assert "GUID" in capsys.readouterr().err
