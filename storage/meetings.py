"""Meetings of a pair and what hangs off them: the ledger, the open agenda, feedback
and private notes, and the sweep's markers on a due pair's scheduled meeting.

The sweep reads only pairs whose `due_at` has come (storage/pairs.py), and the batch
loaders here fetch what those pairs need in one statement each, so a sweep costs what
is due, not the size of the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import update_many
from storage.ids import among, columns_of
from storage.models import AgendaItem, Meeting, MeetingFeedback, Pair, PrivateNote
from storage.states import MeetingStatus


@dataclass(slots=True)
class DueMeeting:
    """A due pair's scheduled meeting and the sweep's markers on it, as a plain row."""

    id: int
    pair_id: int
    scheduled_at: datetime
    duration_minutes: int
    sequence: int
    agenda_prompted_at: datetime | None
    agenda_reminded_at: datetime | None
    mentor_briefed_at: datetime | None
    checkin_sent_at: datetime | None


async def due_meetings(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, DueMeeting]:
    """Each due pair's current scheduled meeting (the newest, if several), as plain rows."""
    if not pair_ids:
        return {}
    rows = await session.execute(
        select(*columns_of(Meeting, DueMeeting))
        .where(among(session, Meeting.pair_id, pair_ids), Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Meeting.pair_id, Meeting.id)
    )
    return {m.pair_id: m for m in (DueMeeting(*row) for row in rows)}


# The one-pair reads below run on most chat commands about a meeting; they are built once
# (building a statement costs about as much as running it on SQLite).
_SCHEDULED_MEETING = (
    select(Meeting)
    .where(Meeting.pair_id == bindparam("pair_id"), Meeting.status == MeetingStatus.SCHEDULED)
    .order_by(Meeting.id.desc())
    .limit(1)
)

_LAST_HELD_MEETING = (
    select(Meeting)
    .where(Meeting.pair_id == bindparam("pair_id"), Meeting.status == MeetingStatus.HELD)
    .order_by(Meeting.held_at.desc(), Meeting.id.desc())
    .limit(1)
)

_OPEN_AGENDA = select(AgendaItem).where(
    AgendaItem.pair_id == bindparam("pair_id"), AgendaItem.cleared_at.is_(None)
)

_FEEDBACK = select(MeetingFeedback).where(
    MeetingFeedback.meeting_id == bindparam("meeting_id"),
    MeetingFeedback.person_id == bindparam("person_id"),
)


async def scheduled_meeting(session: AsyncSession, pair_id: int) -> Meeting | None:
    """The pair's scheduled meeting, for a command about to read or change it.

    On PostgreSQL the pair's row is locked first and the pair and meeting are read
    afresh: the sweep holds the same lock while it reads and marks a pair's meeting, so
    a command (a reschedule, a check-in) and a sweep on one pair run one after the
    other, never interleaved: the command sees the sweep's markers (and resets them on
    a reschedule), or the sweep skips the pair this time. Pair before meeting, always:
    no deadlock. SQLite serialises writers, so there is nothing to do there."""
    if session.get_bind().dialect.name == "postgresql":
        # Pending changes are flushed first (autoflush), so refreshing loses none.
        await session.execute(
            select(Pair)
            .where(Pair.id == pair_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    return await session.scalar(
        _SCHEDULED_MEETING,
        {"pair_id": pair_id},
        execution_options={"populate_existing": True},
    )


async def last_held_meeting(session: AsyncSession, pair_id: int) -> Meeting | None:
    return await session.scalar(_LAST_HELD_MEETING, {"pair_id": pair_id})


async def upcoming_meetings(
    session: AsyncSession, pair_ids: Sequence[int], now: datetime, limit: int = 5
) -> list[Meeting]:
    """Scheduled meetings of these pairs from `now` on, soonest first (a person's overview)."""
    if not pair_ids:
        return []
    rows = await session.scalars(
        select(Meeting)
        .where(
            Meeting.pair_id.in_(list(pair_ids)),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.scheduled_at >= now,
        )
        .order_by(Meeting.scheduled_at, Meeting.id)
        .limit(limit)
    )
    return list(rows)


async def agenda_items(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, list[str]]:
    """The open agenda of each pair, oldest item first."""
    if not pair_ids:
        return {}
    rows = await session.execute(
        select(AgendaItem.pair_id, AgendaItem.text)
        .where(among(session, AgendaItem.pair_id, pair_ids), AgendaItem.cleared_at.is_(None))
        .order_by(AgendaItem.id)
    )
    result: dict[int, list[str]] = {}
    for pair_id, item in rows.all():
        result.setdefault(pair_id, []).append(item)
    return result


async def clear_agenda(
    session: AsyncSession, pair_id: int, now: datetime, meeting_id: int | None = None
) -> int:
    rows = list(await session.scalars(_OPEN_AGENDA, {"pair_id": pair_id}))
    for item in rows:
        item.cleared_at = now
        if meeting_id is not None:
            item.meeting_id = meeting_id
    return len(rows)


async def feedback_of(
    session: AsyncSession, meeting_id: int, person_id: int
) -> MeetingFeedback | None:
    return await session.scalar(_FEEDBACK, {"meeting_id": meeting_id, "person_id": person_id})


async def mentee_notes(session: AsyncSession, owners: dict[int, int]) -> dict[int, str]:
    """Each pair's newest private note written by its mentee (`owners`: pair id → mentee
    id), to show back to that mentee (and only to them: owner and reader are the mentee)."""
    if not owners:
        return {}
    rows = await session.execute(
        select(PrivateNote.pair_id, PrivateNote.owner_id, PrivateNote.text)
        .where(among(session, PrivateNote.pair_id, list(owners)))
        .order_by(PrivateNote.id)
    )
    return {
        pair_id: note
        for pair_id, owner, note in rows.all()
        if pair_id is not None and owners.get(pair_id) == owner
    }


# What the sweep writes on a due meeting.
SWEEP_COLUMNS = ("agenda_prompted_at", "agenda_reminded_at", "mentor_briefed_at", "checkin_sent_at")


async def save_due(session: AsyncSession, meetings: Sequence[DueMeeting]) -> None:
    """Write back the sweep's markers on its meetings, in bulk."""
    await update_many(session, Meeting, meetings, SWEEP_COLUMNS)


async def held_between(
    session: AsyncSession, pair_id: int, start: datetime, end: datetime
) -> Meeting | None:
    """The pair's held meeting in [start, end) (one day, for `met on DATE`), if any."""
    return await session.scalar(
        select(Meeting)
        .where(
            Meeting.pair_id == pair_id,
            Meeting.status == MeetingStatus.HELD,
            Meeting.held_at >= start,
            Meeting.held_at < end,
        )
        .order_by(Meeting.id)
        .limit(1)
    )


async def feedback_on(session: AsyncSession, meeting_id: int) -> dict[int, bool]:
    """Who said the meeting happened (True) or not (False): person id → met."""
    rows = await session.execute(
        select(MeetingFeedback.person_id, MeetingFeedback.met).where(
            MeetingFeedback.meeting_id == meeting_id
        )
    )
    return {person: met for person, met in rows.all()}
