"""Meetings, agendas, commitments, notes, lapses and the pair sweep, as the follow-through
engine reads and writes them.

The sweep reads only pairs whose `due_at` has come (an index range scan), and the
batch loaders below fetch what those pairs need in one statement each, so a sweep
costs what is due, not the size of the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, any_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_many
from storage.ids import among
from storage.models import (
    AgendaItem,
    Commitment,
    Identity,
    Lapse,
    Meeting,
    MeetingFeedback,
    OutboxMessage,
    Pair,
    PairReview,
    Person,
    PrivateNote,
    Profile,
)


async def create_active_pair(
    session: AsyncSession,
    *,
    program_id: int,
    mentee_id: int,
    mentor_id: int,
    now: datetime,
    reasons: Sequence[str] = (),
) -> Pair:
    """Insert an active pair (matching's activation does the same through its own path)."""
    pair = Pair(
        program_id=program_id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        state="active",
        reasons=list(reasons),
        proposed_at=now,
        activated_at=now,
        lapse_step=0,
        lapse_cycle=0,
    )
    session.add(pair)
    await session.flush()
    return pair


async def get_pair(session: AsyncSession, pair_id: int) -> Pair | None:
    return await session.get(Pair, pair_id)


@dataclass(slots=True)
class DuePair:
    """The columns of a pair the sweep reads and writes, as a plain row: no ORM identity
    map, change tracking or expunging for the thousands of pairs one sweep may touch."""

    id: int
    program_id: int
    mentee_id: int
    mentor_id: int
    state: str
    cadence: str | None
    goals: str | None
    term_end: date | None
    activated_at: datetime | None
    paused_until: datetime | None
    silent_since: datetime | None
    last_meeting_at: datetime | None
    lapse_step: int
    lapse_cycle: int
    at_risk_since: datetime | None
    renewal_asked_at: datetime | None
    mentee_agreed_at: datetime | None
    mentor_agreed_at: datetime | None
    agreement_confirmed_at: datetime | None
    agreement_reminded_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    next_meeting_at: datetime | None
    due_at: datetime | None


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


@dataclass(slots=True)
class OpenLapse:
    """A due pair's open lapse (or one the sweep starts), as a plain row."""

    pair_id: int
    program_id: int
    cycle: int
    began_at: datetime
    step: int = 0
    at_risk_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None


def _columns(model: Any, row: type[Any]) -> list[Any]:
    return [getattr(model, name) for name in row.__dataclass_fields__]


async def due_pairs(
    session: AsyncSession, program_id: int, now: datetime, limit: int = 5000
) -> list[DuePair]:
    """Pairs whose next piece of work is due; locked so replicas sweeping together split them."""
    stmt = (
        select(*_columns(Pair, DuePair))
        .where(Pair.due_at <= now, Pair.program_id == program_id)
        .order_by(Pair.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [DuePair(*row) for row in await session.execute(stmt)]


async def due_meetings(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, DueMeeting]:
    """Each due pair's current scheduled meeting (the newest, if several), as plain rows."""
    if not pair_ids:
        return {}
    rows = await session.execute(
        select(*_columns(Meeting, DueMeeting))
        .where(among(session, Meeting.pair_id, pair_ids), Meeting.status == "scheduled")
        .order_by(Meeting.pair_id, Meeting.id)
    )
    return {m.pair_id: m for m in (DueMeeting(*row) for row in rows)}


async def due_lapses(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, OpenLapse]:
    """Each due pair's open lapse, as plain rows."""
    if not pair_ids:
        return {}
    rows = await session.execute(
        select(*_columns(Lapse, OpenLapse)).where(
            among(session, Lapse.pair_id, pair_ids), Lapse.closed_at.is_(None)
        )
    )
    return {lapse.pair_id: lapse for lapse in (OpenLapse(*row) for row in rows)}


# The one-pair reads below run on most chat commands about a meeting; they are built once
# (building a statement costs about as much as running it on SQLite).
_SCHEDULED_MEETING = (
    select(Meeting)
    .where(Meeting.pair_id == bindparam("pair_id"), Meeting.status == "scheduled")
    .order_by(Meeting.id.desc())
    .limit(1)
)
_LAST_HELD_MEETING = (
    select(Meeting)
    .where(Meeting.pair_id == bindparam("pair_id"), Meeting.status == "held")
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


def add(session: AsyncSession, row: Any) -> None:
    session.add(row)


async def flush(session: AsyncSession) -> None:
    await session.flush()


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


async def open_commitments(
    session: AsyncSession, pair_ids: Sequence[int]
) -> dict[int, list[Commitment]]:
    if not pair_ids:
        return {}
    rows = await session.scalars(
        select(Commitment)
        .where(among(session, Commitment.pair_id, pair_ids), Commitment.done_at.is_(None))
        .order_by(Commitment.id)
    )
    result: dict[int, list[Commitment]] = {}
    for row in rows:
        result.setdefault(row.pair_id, []).append(row)
    return result


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


@dataclass(frozen=True)
class Recipient:
    """What a proactive message needs about its reader: name, zone and where to send it."""

    person_id: int
    name: str
    timezone: str | None
    platform: str | None
    away: bool = False  # paused or left the program: no reminders for now


async def recipients(
    session: AsyncSession, person_ids: Sequence[int], program_id: int
) -> dict[int, Recipient]:
    """Names, time zones (profile, else platform) and the most recently seen platform."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    # Three keyed look-ups rather than one join: given a few thousand ids, PostgreSQL's
    # planner prefers hashing the whole profiles table to probing its index per person.
    read_people, read_profiles, read_identities = _RECIPIENT_READS[session.get_bind().dialect.name]
    people = await session.execute(read_people, {"ids": ids})
    profiles = await session.execute(read_profiles, {"ids": ids, "program_id": program_id})
    settings = {person_id: (tz, status) for person_id, tz, status in profiles.all()}
    identities = await session.execute(read_identities, {"ids": ids})
    best: dict[int, tuple[str | None, str | None]] = {}
    for person_id, platform, tz in identities.all():
        best.setdefault(person_id, (platform, tz))  # the most recently seen comes first
    result = {}
    for person_id, name in people.all():
        found_platform, identity_tz = best.get(person_id, (None, None))
        profile_tz, status = settings.get(person_id, (None, None))
        result[person_id] = Recipient(
            person_id, name, profile_tz or identity_tz, found_platform, status in ("paused", "left")
        )
    return result


def _recipient_reads(dialect: str) -> tuple[Any, Any, Any]:
    """`recipients`' three reads, built once per dialect: a meeting's confirmation runs them
    for one person on every `schedule`, and building them cost more than running them."""

    def ids_in(column: Any) -> Any:  # as `among`, with the ids bound at execution
        if dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))

    people = select(Person.id, Person.display_name).where(ids_in(Person.id))
    profiles = select(Profile.person_id, Profile.timezone, Profile.status).where(
        ids_in(Profile.person_id), Profile.program_id == bindparam("program_id")
    )
    identities = (
        select(Identity.person_id, Identity.platform, Identity.timezone)
        .where(ids_in(Identity.person_id))
        .order_by(Identity.person_id, Identity.last_seen_at.desc().nulls_last(), Identity.id.desc())
    )
    return people, profiles, identities


_RECIPIENT_READS = {name: _recipient_reads(name) for name in ("sqlite", "postgresql")}


_OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class Outgoing:
    key: str
    kind: str
    person_id: int
    platform: str
    payload: dict[str, Any]


async def enqueue_many(session: AsyncSession, rows: Sequence[Outgoing], now: datetime) -> set[str]:
    """Queue many messages in one statement; returns the keys that were new.

    Same contract as outbox.enqueue (a duplicate key does nothing), for sweeps
    that queue hundreds of messages at once.
    """
    values = [
        {
            "idempotency_key": r.key,
            "kind": r.kind,
            "payload": r.payload,
            "person_id": r.person_id,
            "platform": r.platform,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for r in rows
    ]
    return set(
        await insert_many(
            session,
            _OUTBOX,
            values,
            skip_duplicate="idempotency_key",
            returning="idempotency_key",
        )
    )


async def open_lapses(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, Lapse]:
    if not pair_ids:
        return {}
    rows = await session.scalars(
        select(Lapse).where(among(session, Lapse.pair_id, pair_ids), Lapse.closed_at.is_(None))
    )
    return {row.pair_id: row for row in rows}


async def close_lapse(session: AsyncSession, pair_id: int, outcome: str, now: datetime) -> bool:
    """Close the pair's open lapse (recovered, ended, rematch); False if none was open."""
    lapse = (await open_lapses(session, [pair_id])).get(pair_id)
    if lapse is None:
        return False
    lapse.closed_at, lapse.outcome = now, outcome
    return True


async def lapse_counts(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """For the digest: lapses begun, pairs recovered and pairs flagged at risk in a window."""
    began = await session.scalar(
        select(func.count()).where(
            Lapse.program_id == program_id, Lapse.began_at >= since, Lapse.began_at < until
        )
    )
    recovered = await session.scalar(
        select(func.count()).where(
            Lapse.program_id == program_id,
            Lapse.outcome == "recovered",
            Lapse.closed_at >= since,
            Lapse.closed_at < until,
        )
    )
    at_risk = await session.scalar(
        select(func.count()).where(
            Lapse.program_id == program_id,
            Lapse.at_risk_at.is_not(None),
            or_(Lapse.closed_at.is_(None), Lapse.closed_at >= until),
            Lapse.at_risk_at < until,
        )
    )
    return {
        "lapsed": int(began or 0),
        "recovered": int(recovered or 0),
        "at_risk": int(at_risk or 0),
    }


async def save_review(
    session: AsyncSession,
    *,
    pair_id: int,
    person_id: int,
    rating: int | None,
    goals_achieved: str | None,
    keep_in_touch: bool | None,
    now: datetime,
) -> None:
    existing = await session.scalar(
        select(PairReview).where(PairReview.pair_id == pair_id, PairReview.person_id == person_id)
    )
    if existing is None:
        existing = PairReview(pair_id=pair_id, person_id=person_id, created_at=now)
        session.add(existing)
    existing.rating, existing.goals_achieved = rating, goals_achieved
    existing.keep_in_touch = keep_in_touch


_PAIR_COLUMNS = (
    ("state", "varchar"),
    ("paused_until", "timestamp"),
    ("silent_since", "timestamp"),
    ("due_at", "timestamp"),
    ("lapse_step", "int"),
    ("at_risk_since", "timestamp"),
    ("renewal_asked_at", "timestamp"),
    ("agreement_reminded_at", "timestamp"),
    ("ended_at", "timestamp"),
    ("end_reason", "text"),
    ("next_meeting_at", "timestamp"),
)
_MEETING_COLUMNS = (
    ("agenda_prompted_at", "timestamp"),
    ("agenda_reminded_at", "timestamp"),
    ("mentor_briefed_at", "timestamp"),
    ("checkin_sent_at", "timestamp"),
)


def _naive(value: Any) -> Any:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


async def _update_many(
    session: AsyncSession, model: Any, rows: Sequence[Any], columns: tuple[tuple[str, str], ...]
) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One statement, one round trip, one cached plan: arrays unnested into a join.
        names = ["id", *(name for name, _ in columns)]
        casts = ["int", *(kind for _, kind in columns)]
        arrays = ", ".join(f"CAST(:{n} AS {c}[])" for n, c in zip(names, casts, strict=True))
        sets = ", ".join(f"{n} = v.{n}" for n, _ in columns)
        # `t.id = ANY(:id)` as well as the join: it gives the planner an index condition
        # on the table, so it probes the primary key instead of hashing every row.
        sql = (
            f"UPDATE {model.__tablename__} AS t SET {sets} "
            f"FROM unnest({arrays}) AS v({', '.join(names)}) "
            "WHERE t.id = v.id AND t.id = ANY(CAST(:id AS int[]))"
        )
        params = {n: [_naive(getattr(r, n)) for r in rows] for n in names}
        await session.execute(text(sql), params)
        return
    await session.execute(
        update(model),
        [{"id": r.id, **{n: getattr(r, n) for n, _ in columns}} for r in rows],
    )


async def save_sweep(
    session: AsyncSession,
    pairs: Sequence[DuePair],
    meetings: Sequence[DueMeeting],
    lapses: Sequence[OpenLapse],
) -> None:
    """Write back what a sweep changed on its pairs, meetings and lapses, in bulk."""
    await _update_many(session, Pair, pairs, _PAIR_COLUMNS)
    await _update_many(session, Meeting, meetings, _MEETING_COLUMNS)
    if not lapses:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Lapse)
    stmt = stmt.on_conflict_do_update(
        index_elements=["pair_id", "cycle"],
        set_={
            "step": stmt.excluded.step,
            "at_risk_at": stmt.excluded.at_risk_at,
            "closed_at": stmt.excluded.closed_at,
            "outcome": stmt.excluded.outcome,
        },
    )
    await session.execute(
        stmt,
        [
            {
                "pair_id": lapse.pair_id,
                "program_id": lapse.program_id,
                "cycle": lapse.cycle,
                "began_at": lapse.began_at,
                "step": lapse.step,
                "at_risk_at": lapse.at_risk_at,
                "closed_at": lapse.closed_at,
                "outcome": lapse.outcome,
            }
            for lapse in lapses
        ],
    )
