"""What `status` says about an active pair: agreement, next meeting, agenda, commitments."""

from __future__ import annotations

from conversations.dates import format_moment
from conversations.turn import Turn
from conversations.wording import plural
from storage.commitments import open_commitments
from storage.meetings import agenda_items
from storage.models import Pair
from storage.states import PairState


async def follow_up(turn: Turn, pair: Pair) -> str:
    """`next meeting Tue 01 Dec 2026, 15:00 (Europe/Berlin); agenda: 2 points; …`."""
    if pair.state == PairState.PAUSED:
        until = (
            f" until {format_moment(pair.paused_until, turn.timezone)}" if pair.paused_until else ""
        )
        other = await turn.mention_of(
            pair.mentee_id if pair.mentor_id == turn.person.id else pair.mentor_id
        )
        return f"meetings paused{until}: `/mentor resume with {other}` to restart"
    parts: list[str] = []
    if pair.agreement_confirmed_at is None:
        parts.append("agreement to confirm: `/mentor agreement`")
    if pair.next_meeting_at is None:
        parts.append("no next meeting set: `/mentor schedule WHEN`")
    elif pair.next_meeting_at < turn.now:
        parts.append(
            f"meeting on {format_moment(pair.next_meeting_at, turn.timezone)}: "
            "did it happen? `/mentor met`"
        )
    else:
        parts.append(f"next meeting {format_moment(pair.next_meeting_at, turn.timezone)}")
    agenda = (await agenda_items(turn.session, [pair.id])).get(pair.id, [])
    if pair.next_meeting_at is not None:
        parts.append(f"agenda: {plural(len(agenda), 'point')}" if agenda else "no agenda yet")
    mine = [
        c
        for c in (await open_commitments(turn.session, [pair.id])).get(pair.id, [])
        if c.person_id == turn.person.id
    ]
    if mine:
        parts.append(f"your open commitments: {'; '.join(c.text for c in mine[:3])}")
    return "; ".join(parts)
