"""Attachments in the console: a file the bot hands over (an .ics invite, a data export,
the digest chart, a CSV) is written into the folder the console runs in.

The name is the file's own, made safe for any file system (no folder parts, no
leading dot); when that name is taken the next free `name-1.ext`, `name-2.ext`, … is
used, and the file is created exclusively, so nothing already there is overwritten,
even by a second console writing at the same moment.
"""

from __future__ import annotations

import re
from pathlib import Path

from conversations.messages import File

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_TRIES = 1000


def safe_name(filename: str) -> str:
    """The last path part of `filename`, with anything but letters, digits, dots, dashes
    and underscores replaced by a dash; `attachment` when nothing usable is left."""
    name = _UNSAFE.sub("-", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip("-.")
    return name[:120] or "attachment"


def save_attachment(file: File, folder: Path) -> Path:
    """Write `file` into `folder` under a name no other file there has; the path written."""
    name = safe_name(file.filename)
    stem, dot, suffix = name.partition(".")
    data = file.data()
    for n in range(MAX_TRIES):
        path = folder / (name if n == 0 else f"{stem}-{n}{dot}{suffix}")
        try:
            with path.open("xb") as out:
                out.write(data)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{folder / name} and {MAX_TRIES - 1} numbered copies exist already")
