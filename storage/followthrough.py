"""Meetings, agendas, commitments, notes, lapses and the pair sweep, as the follow-through
engine reads and writes them.

The sweep reads only pairs whose `due_at` has come (an index range scan), and the
batch loaders below fetch what those pairs need in one statement each, so a sweep
costs what is due, not the size of the program.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, any_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

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


def _among(session: AsyncSession, column: Any, ids: Sequence[int]) -> Any:
    """`column IN ids`; on PostgreSQL `= ANY(array)`: one parameter however many ids, so
    the statement is prepared once instead of once per batch size."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


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


async def due_pairs(
    session: AsyncSession, program_id: int, now: datetime, limit: int = 5000
) -> list[Pair]:
    """Pairs whose next piece of work is due; locked so replicas sweeping together split them."""
    stmt = (
        select(Pair)
        .where(Pair.due_at <= now, Pair.program_id == program_id)
        .order_by(Pair.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.scalars(stmt))


async def scheduled_meetings(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, Meeting]:
    """Each pair's current scheduled meeting (the newest, if several)."""
    if not pair_ids:
        return {}
    rows = await session.scalars(
        select(Meeting)
        .where(_among(session, Meeting.pair_id, pair_ids), Meeting.status == "scheduled")
        .order_by(Meeting.pair_id, Meeting.id)
    )
    return {m.pair_id: m for m in rows}


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
    """The pair's current scheduled meeting (the newest, if several)."""
    return await session.scalar(_SCHEDULED_MEETING, {"pair_id": pair_id})


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
        .where(_among(session, AgendaItem.pair_id, pair_ids), AgendaItem.cleared_at.is_(None))
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
        .where(_among(session, Commitment.pair_id, pair_ids), Commitment.done_at.is_(None))
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


async def mentee_notes(session: AsyncSession, pairs: Sequence[Pair]) -> dict[int, str]:
    """Each pair's newest private note written by its mentee, to show back to that mentee
    (and only to them: the note's owner is the mentee, the reader is the mentee)."""
    if not pairs:
        return {}
    owners = {p.id: p.mentee_id for p in pairs}
    rows = await session.execute(
        select(PrivateNote.pair_id, PrivateNote.owner_id, PrivateNote.text)
        .where(_among(session, PrivateNote.pair_id, list(owners)))
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
    read_people, read_identities = _RECIPIENT_READS[session.get_bind().dialect.name]
    people = await session.execute(read_people, {"ids": ids, "program_id": program_id})
    identities = await session.execute(read_identities, {"ids": ids})
    best: dict[int, tuple[str | None, str | None]] = {}
    for person_id, platform, tz in identities.all():
        best.setdefault(person_id, (platform, tz))  # the most recently seen comes first
    result = {}
    for person_id, name, profile_tz, status in people.all():
        found_platform, identity_tz = best.get(person_id, (None, None))
        result[person_id] = Recipient(
            person_id, name, profile_tz or identity_tz, found_platform, status in ("paused", "left")
        )
    return result


def _recipient_reads(dialect: str) -> tuple[Any, Any]:
    """`recipients`' two reads, built once per dialect: a meeting's confirmation runs them
    for one person on every `schedule`, and building them cost more than running them."""

    def among(column: Any) -> Any:  # as `_among`, with the ids bound at execution
        if dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))

    people = (
        select(Person.id, Person.display_name, Profile.timezone, Profile.status)
        .outerjoin(
            Profile,
            and_(Profile.person_id == Person.id, Profile.program_id == bindparam("program_id")),
        )
        .where(among(Person.id))
    )
    identities = (
        select(Identity.person_id, Identity.platform, Identity.timezone)
        .where(among(Identity.person_id))
        .order_by(Identity.person_id, Identity.last_seen_at.desc().nulls_last(), Identity.id.desc())
    )
    return people, identities


_RECIPIENT_READS = {name: _recipient_reads(name) for name in ("sqlite", "postgresql")}


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
    if not rows:
        return set()
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
    if session.get_bind().dialect.name == "postgresql":
        # Arrays unnested into one INSERT: one round trip, one prepared statement.
        result = await session.execute(
            text(
                "INSERT INTO outbox (idempotency_key, kind, payload, person_id, platform, status,"
                " attempts, next_attempt_at, created_at)"
                " SELECT k, kind, CAST(p AS json), pid, plat, 'pending', 0, :now, :now"
                " FROM unnest(CAST(:keys AS varchar[]), CAST(:kinds AS varchar[]),"
                " CAST(:payloads AS text[]), CAST(:pids AS int[]), CAST(:plats AS varchar[]))"
                " AS v(k, kind, p, pid, plat)"
                " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
            ),
            {
                "now": _naive(now),
                "keys": [r.key for r in rows],
                "kinds": [r.kind for r in rows],
                "payloads": [json.dumps(r.payload) for r in rows],
                "pids": [r.person_id for r in rows],
                "plats": [r.platform for r in rows],
            },
        )
        return set(result.scalars())
    # One cached statement for many rows (SQLAlchemy batches it into multi-row INSERTs).
    stmt = (
        sqlite.insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.idempotency_key)
    )
    new: set[str] = set(await session.scalars(stmt, values))
    return new


async def open_lapses(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, Lapse]:
    if not pair_ids:
        return {}
    rows = await session.scalars(
        select(Lapse).where(_among(session, Lapse.pair_id, pair_ids), Lapse.closed_at.is_(None))
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


def detach(session: AsyncSession, rows: Sequence[Any]) -> None:
    """Stop tracking rows the sweep will change in memory and write back with `save_sweep`."""
    for row in rows:
        session.expunge(row)


_PAIR_COLUMNS = (
    ("state", "varchar"),
    ("paused_until", "timestamp"),
    ("silent_since", "timestamp"),
    ("due_at", "timestamp"),
    ("lapse_step", "int"),
    ("at_risk_since", "timestamp"),
    ("renewal_asked_at", "timestamp"),
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
        sql = (
            f"UPDATE {model.__tablename__} AS t SET {sets} "
            f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.id = v.id"
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
    pairs: Sequence[Pair],
    meetings: Sequence[Meeting],
    lapses: Sequence[Lapse],
) -> None:
    """Write back what a sweep changed on detached pairs, meetings and lapses, in bulk."""
    await _update_many(session, Pair, pairs, _PAIR_COLUMNS)
    await _update_many(session, Meeting, meetings, _MEETING_COLUMNS)
    if not lapses:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Lapse)
    stmt = stmt.on_conflict_do_update(
        index_elements=["pair_id", "cycle"],
        set_={"step": stmt.excluded.step, "at_risk_at": stmt.excluded.at_risk_at},
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
