"""Calendar invites as RFC 5545 text: a pure function from a meeting to an `.ics` file.

Times are written in UTC (`…Z`) so every calendar shows them in its owner's zone;
lines end in CRLF and are folded at 75 octets; text values are escaped. A
reschedule keeps the UID and raises SEQUENCE, and a cancellation is METHOD:CANCEL,
so calendars update the one event instead of adding another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PRODID = "-//mentorbot//follow-through//EN"


@dataclass(frozen=True)
class Invite:
    uid: str
    start: datetime
    duration: timedelta
    summary: str
    description: str = ""
    sequence: int = 0
    cancelled: bool = False


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a character."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        width = len(ch.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def to_ics(invite: Invite, stamp: datetime) -> str:
    """The VCALENDAR text for `invite`; `stamp` (DTSTAMP) is when it was made."""
    method = "CANCEL" if invite.cancelled else "REQUEST"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{invite.uid}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(invite.start)}",
        f"DTEND:{_utc(invite.start + invite.duration)}",
        f"SEQUENCE:{invite.sequence}",
        f"STATUS:{'CANCELLED' if invite.cancelled else 'CONFIRMED'}",
        f"SUMMARY:{escape_text(invite.summary)}",
    ]
    if invite.description:
        lines.append(f"DESCRIPTION:{escape_text(invite.description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def unfold(text: str) -> list[str]:
    """Content lines of an .ics text with folding undone (for readers and tests)."""
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def read_fields(text: str) -> dict[str, str]:
    """NAME → raw value of the first occurrence of each property (parameters dropped)."""
    fields: dict[str, str] = {}
    for line in unfold(text):
        name, _, value = line.partition(":")
        fields.setdefault(name.split(";", 1)[0], value)
    return fields
