"""Match rounds and the pairs they propose: load a round's pool in a handful of queries,
store its proposals in one statement, expire old ones, and claim scheduled rounds exactly
once. (The round's messages go through storage/outbox.py, its priorities through
storage/people.py.)"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    Text,
    and_,
    cast,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_many
from storage.coordination import lock_key
from storage.models import Identity, MatchRound, Pair, Profile
from storage.pairs import OPEN_STATES, PAST_STATES
from storage.states import PairState, ProfileStatus


@dataclass(frozen=True)
class ProfileRow:
    person_id: int
    role: str
    offers: list[str]
    wants: list[str]
    goals: str | None
    department: str | None
    manager_id: int | None
    level: int | None
    timezone: str | None  # the profile's, else the platform's
    languages: list[str]
    capacity: int | None
    prefers: list[str]
    priority_since: datetime | None


@dataclass(frozen=True)
class PoolRows:
    profiles: list[ProfileRow]
    managers: dict[int, int]  # person → manager, for everyone in the program
    open_as_mentee: dict[int, int]
    open_as_mentor: dict[int, int]
    open_pairs: set[tuple[int, int]]  # (mentee, mentor) already proposed, active or paused
    past_pairs: set[tuple[int, int]]  # (mentee, mentor) that ended or completed
    track: dict[int, tuple[int, int]]  # mentor → (pairs that became active, of those lapsed)


async def load_pool(session: AsyncSession, program_id: int) -> PoolRows:
    zones = (
        select(Identity.person_id, func.max(Identity.timezone).label("tz"))
        .where(Identity.timezone.is_not(None))
        .group_by(Identity.person_id)
        .subquery()
    )
    # Core rows and the JSON lists as text, decoded in one parse: per-row ORM and
    # per-value JSON work cost more than the query at 25,000 profiles.
    conn = await session.connection()
    rows = (
        await conn.execute(
            select(
                Profile.person_id,
                Profile.role,
                cast(Profile.offers, Text),
                cast(Profile.wants, Text),
                Profile.goals,
                Profile.department,
                Profile.manager_id,
                Profile.level,
                func.coalesce(Profile.timezone, zones.c.tz),
                cast(Profile.languages, Text),
                Profile.capacity,
                cast(Profile.prefers, Text),
                Profile.match_priority_since,
            )
            .outerjoin(zones, zones.c.person_id == Profile.person_id)
            .where(
                Profile.program_id == program_id,
                Profile.status == ProfileStatus.ACTIVE,
                Profile.role.is_not(None),
            )
            .order_by(Profile.person_id)
        )
    ).all()
    lists = _json_values([r[k] for r in rows for k in (2, 3, 9, 11)])
    profiles = [
        ProfileRow(
            r[0],
            str(r[1]),
            lists[4 * k] or [],
            lists[4 * k + 1] or [],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            lists[4 * k + 2] or [],
            r[10],
            lists[4 * k + 3] or [],
            r[12],
        )
        for k, r in enumerate(rows)
    ]
    managers = {
        person: manager
        for person, manager in (
            await conn.execute(
                select(Profile.person_id, Profile.manager_id).where(
                    Profile.program_id == program_id, Profile.manager_id.is_not(None)
                )
            )
        ).all()
        if manager is not None
    }
    pairs = (
        await conn.execute(
            select(
                Pair.mentee_id,
                Pair.mentor_id,
                Pair.state,
                Pair.activated_at.is_not(None),
                or_(
                    Pair.lapse_step > 0,
                    and_(Pair.state.in_(PAST_STATES), Pair.last_meeting_at.is_(None)),
                ),
            ).where(Pair.program_id == program_id)
        )
    ).all()
    open_as_mentee: dict[int, int] = {}
    open_as_mentor: dict[int, int] = {}
    open_pairs: set[tuple[int, int]] = set()
    past_pairs: set[tuple[int, int]] = set()
    track: dict[int, tuple[int, int]] = {}
    for mentee, mentor, state, activated, lapsed in pairs:
        if state in OPEN_STATES:
            open_as_mentee[mentee] = open_as_mentee.get(mentee, 0) + 1
            open_as_mentor[mentor] = open_as_mentor.get(mentor, 0) + 1
            open_pairs.add((mentee, mentor))
        elif state in PAST_STATES:
            past_pairs.add((mentee, mentor))
        if activated:
            done, bad = track.get(mentor, (0, 0))
            track[mentor] = (done + 1, bad + (1 if lapsed else 0))
    return PoolRows(
        profiles, managers, open_as_mentee, open_as_mentor, open_pairs, past_pairs, track
    )


def _json_values(texts: Sequence[Any]) -> list[Any]:
    """Many JSON column values (stored text, or None) decoded in one json.loads."""
    return list(json.loads("[" + ",".join(t if t else "null" for t in texts) + "]"))


async def insert_proposals(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert proposed pairs in bulk; their ids, in the order given.

    One bulk insert and one query for the ids (a round proposes each mentee–mentor pair
    at most once, at one `proposed_at`) is much faster than RETURNING row by row.
    """
    if not rows:
        return []
    table = Pair.__table__
    assert isinstance(table, Table)
    await insert_many(session, table, rows)
    first = rows[0]
    found = await session.execute(
        select(Pair.id, Pair.mentee_id, Pair.mentor_id).where(
            Pair.program_id == first["program_id"],
            Pair.state == PairState.PROPOSED,
            Pair.proposed_at == first["proposed_at"],
        )
    )
    ids = {(mentee, mentor): pair_id for pair_id, mentee, mentor in found.all()}
    return [ids[(row["mentee_id"], row["mentor_id"])] for row in rows]


async def claim_round(
    session: AsyncSession, program_id: int, slot: str, now: datetime, by: int | None
) -> int | None:
    """Record a round for `slot`; its id, or None if that slot already has one.

    On PostgreSQL also None while another transaction is recording that slot (another
    replica's sweep, still matching): its uncommitted row would otherwise hold this
    insert until it ends, past the statement timeout on a busy machine. Should that
    transaction roll back, a later sweep runs the slot."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        key = lock_key(f"round:{program_id}:{slot}")
        claim = await session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
        if not claim.scalar():
            return None
    stmt = (
        (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MatchRound)
        .values(
            program_id=program_id,
            slot=slot,
            started_at=now,
            started_by_id=by,
            proposed=0,
            unmatched=0,
            total_score=0.0,
        )
        .on_conflict_do_nothing(index_elements=["program_id", "slot"])
        .returning(MatchRound.id)
    )
    return (await session.execute(stmt)).scalar()


async def finish_round(
    session: AsyncSession, round_id: int, *, proposed: int, unmatched: int, total_score: float
) -> None:
    await session.execute(
        update(MatchRound)
        .where(MatchRound.id == round_id)
        .values(proposed=proposed, unmatched=unmatched, total_score=total_score)
    )


async def expired_proposals(session: AsyncSession, program_id: int, now: datetime) -> list[Pair]:
    rows = await session.scalars(
        select(Pair)
        .where(
            Pair.program_id == program_id,
            Pair.state == PairState.PROPOSED,
            Pair.proposal_expires_at <= now,
        )
        .order_by(Pair.id)
    )
    return list(rows)
