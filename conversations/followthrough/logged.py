"""A logged meeting, seen by the partner: told when it is logged, they confirm or dispute
it with one click (`meeting confirm|dispute N`).

The answer is their feedback on the meeting (`met` yes or no), the same record a `met`
or the check-in writes, so the figures HR sees follow from it: a held meeting counts
unless a partner disputed it, and is "confirmed by both" when both said it happened.
A dispute does not change the meeting's state (the ledger's rules stay the ledger's);
it withdraws the meeting from the held count, and the one who logged it is told.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from conversations.messages import Button, Buttons, File, Message, Text, literal
from conversations.partners import partner_of
from conversations.turn import Turn, enqueue_for_person
from storage.models import Meeting, Pair
from storage.people import recipients

# Said with the updated .ics of a scheduled meeting held away from its planned time.
MOVED_INVITE = "The calendar invite now shows when you met, so the planned time is free again."


def day_of(meeting: Meeting, tz: str) -> str:
    at = meeting.held_at or meeting.scheduled_at
    return f"{at.astimezone(ZoneInfo(tz)):%a %d %b %Y}"


def logged_notice(meeting: Meeting, who: str, tz: str, invite: File | None = None) -> Message:
    """To the partner: who logged which meeting, and the two answers; with the updated
    calendar invite when the meeting took place away from its planned time."""
    text = (
        f"{who} logged your meeting on {day_of(meeting, tz)}. Did it take place? One click: "
        "it counts for your program either way unless you say it didn't."
    )
    if invite is not None:
        text += f" {MOVED_INVITE}"
    return Message.of(
        Text(text),
        *((invite,) if invite is not None else ()),
        Buttons(
            (
                Button("Yes, we met", value=f"meeting confirm {meeting.id}", style="primary"),
                Button("No, we didn't", value=f"meeting dispute {meeting.id}", style="danger"),
            )
        ),
    )


async def send(
    turn: Turn, person_id: int, key: str, kind: str, build: Callable[[str], Message]
) -> None:
    """Queue a message for a person, built in their time zone, on their platform."""
    found = (await recipients(turn.session, [person_id], turn.program.id)).get(person_id)
    tz = (found.timezone if found else None) or turn.policy.default_timezone
    await enqueue_for_person(
        turn.session,
        person_id,
        key,
        kind,
        build(tz),
        turn.now,
        platform=found.platform if found else None,
    )


async def tell_partner(
    turn: Turn, pair: Pair, meeting: Meeting, invite: File | None = None
) -> None:
    """Queue the partner's notice of a meeting just logged (once per meeting)."""
    other = partner_of(pair, turn.person.id)
    me = literal(turn.person.display_name)
    await send(
        turn,
        other,
        f"meeting-logged:{meeting.id}:{other}",
        "meeting-logged",
        lambda tz: logged_notice(meeting, me, tz, invite),
    )
