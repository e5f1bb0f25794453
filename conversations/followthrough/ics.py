"""Calendar invites: a pure function from a meeting to an iTIP `.ics` file (RFC 5546),
written with the `icalendar` library (escaping, CRLF, folding at 75 octets).

METHOD:REQUEST carries ORGANIZER and every ATTENDEE (§3.2.2); a cancellation is
METHOD:CANCEL with the same UID, ORGANIZER and ATTENDEEs and STATUS:CANCELLED (§3.2.5).
The UID is a random UUID stored with the meeting, so it is unique across installs and
databases; a reschedule keeps it and raises SEQUENCE, so calendars update the one event.

The organizer is the bot, not a person: either partner may move or cancel the meeting,
and a calendar accepts an update only from the event's organizer. Its address is
`mailto:mentorbot@<program slug>.invalid` (`.invalid` is reserved, RFC 2606: no mail is
ever sent to it, and no person's address is shown as the sender). Attendees carry their
e-mail when the platform's directory gave one, else only their name (CN) with the
`invalid:nomail` address calendar clients use for a person without one.

`icalendar` is imported where an invite is written, not with this module: the engine
imports this module, and most commands (a status, say) never write an invite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icalendar import vCalAddress

PRODID = "-//mentorbot//follow-through//EN"
NO_MAIL = "invalid:nomail"


@dataclass(frozen=True)
class Party:
    """An organizer or attendee: a name, and an e-mail when one is known."""

    name: str
    email: str | None = None

    def address(self) -> vCalAddress:
        from icalendar import vCalAddress

        value = f"mailto:{self.email}" if self.email else NO_MAIL
        address = vCalAddress(value)
        address.params["CN"] = self.name
        return address


def bot_organizer(program_slug: str, program_name: str) -> Party:
    """The bot as the organizer of a program's invites (see the module docstring)."""
    host = re.sub(r"[^a-z0-9-]+", "-", program_slug.lower()).strip("-") or "program"
    return Party(program_name, f"mentorbot@{host}.invalid")


@dataclass(frozen=True)
class Invite:
    uid: str
    start: datetime
    duration: timedelta
    summary: str
    description: str = ""
    sequence: int = 0
    cancelled: bool = False
    organizer: Party = Party("mentorbot", "mentorbot@mentorbot.invalid")
    attendees: tuple[Party, ...] = field(default_factory=tuple)


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    from icalendar import vText

    return bytes(vText(value.replace("\r\n", "\n")).to_ical()).decode()


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a character."""
    from icalendar.parser import Contentline

    folded: bytes = Contentline(line).to_ical()  # type: ignore[no-untyped-call]
    return folded.decode()


def to_ics(invite: Invite, stamp: datetime) -> str:
    """The VCALENDAR text for `invite`; `stamp` (DTSTAMP) is when it was made."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if invite.cancelled else "REQUEST")
    event = Event()
    event.add("uid", invite.uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", invite.start.astimezone(UTC))
    event.add("dtend", (invite.start + invite.duration).astimezone(UTC))
    event.add("sequence", invite.sequence)
    event.add("status", "CANCELLED" if invite.cancelled else "CONFIRMED")
    event.add("summary", invite.summary)
    if invite.description:
        event.add("description", invite.description)
    event.add("organizer", invite.organizer.address())
    for attendee in invite.attendees:
        address = attendee.address()
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        event.add("attendee", address)
    calendar.add_component(event)
    return bytes(calendar.to_ical()).decode()


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
