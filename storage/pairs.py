"""Pairs: a person's pairs, the sweep's due pairs and their write-back, reviews.

Proposals (pairs a round proposes) and match rounds are in storage/proposals.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import lapses, meetings
from storage.bulk import update_many
from storage.ids import columns_of
from storage.models import Pair, PairReview, Person
from storage.states import PairState

OPEN_STATES = (PairState.PROPOSED, PairState.ACTIVE, PairState.PAUSED)
PAST_STATES = (PairState.COMPLETED, PairState.ENDED)

# Built once: `status` runs this on every call, and building it costs more than running it.
# The state test reads `state || ''` so no planner can use the state index for it: SQLite,
# which keeps no statistics unless asked, took that index and read every active pair of
# the program (thousands) on each command, instead of the person's few through the
# mentee and mentor indexes.
_PAIRS_OF = (
    select(Pair)
    .where(
        Pair.program_id == bindparam("program_id"),
        or_(Pair.mentee_id == bindparam("person_id"), Pair.mentor_id == bindparam("person_id")),
        (Pair.state + "").in_(bindparam("states", expanding=True)),
    )
    .order_by(Pair.id)
)


async def pairs_of(
    session: AsyncSession,
    person_id: int,
    program_id: int,
    states: Sequence[PairState] = OPEN_STATES,
) -> list[Pair]:
    rows = await session.scalars(
        _PAIRS_OF, {"program_id": program_id, "person_id": person_id, "states": list(states)}
    )
    return list(rows)


# The same pairs, each with the other person's display name (one read instead of two, for
# the commands that name the partner in their answer).
_PAIRS_WITH_PARTNER = _PAIRS_OF.add_columns(Person.display_name).outerjoin(
    Person,
    Person.id
    == case((Pair.mentee_id == bindparam("person_id"), Pair.mentor_id), else_=Pair.mentee_id),
)


async def pairs_with_partner_names(
    session: AsyncSession,
    person_id: int,
    program_id: int,
    states: Sequence[PairState] = OPEN_STATES,
) -> list[tuple[Pair, str | None]]:
    """`pairs_of`, each with the partner's display name."""
    rows = await session.execute(
        _PAIRS_WITH_PARTNER,
        {"program_id": program_id, "person_id": person_id, "states": list(states)},
    )
    return [(pair, name) for pair, name in rows.all()]


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
        state=PairState.ACTIVE,
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


async def pair_between(
    session: AsyncSession, program_id: int, mentee_id: int, mentor_id: int, states: Sequence[str]
) -> Pair | None:
    return await session.scalar(
        select(Pair)
        .where(
            Pair.program_id == program_id,
            Pair.mentee_id == mentee_id,
            Pair.mentor_id == mentor_id,
            Pair.state.in_(list(states)),
        )
        .limit(1)
    )


@dataclass(slots=True)
class DuePair:
    """The columns of a pair the sweep reads and writes, as a plain row: no ORM identity
    map, change tracking or expunging for the thousands of pairs one sweep may touch."""

    id: int
    program_id: int
    mentee_id: int
    mentor_id: int
    state: PairState
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
    lapse_since: datetime | None


async def due_pairs(
    session: AsyncSession, program_id: int, now: datetime, limit: int = 5000
) -> list[DuePair]:
    """Pairs whose next piece of work is due; locked so replicas sweeping together split them."""
    stmt = (
        select(*columns_of(Pair, DuePair))
        .where(Pair.due_at <= now, Pair.program_id == program_id)
        .order_by(Pair.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [DuePair(*row) for row in await session.execute(stmt)]


# What the sweep writes on a due pair.
SWEEP_COLUMNS = (
    "state",
    "lapse_since",
    "paused_until",
    "silent_since",
    "due_at",
    "lapse_step",
    "at_risk_since",
    "renewal_asked_at",
    "agreement_reminded_at",
    "ended_at",
    "end_reason",
    "next_meeting_at",
)


async def save_sweep(
    session: AsyncSession,
    pairs: Sequence[DuePair],
    due_meetings: Sequence[meetings.DueMeeting],
    open_lapses: Sequence[lapses.OpenLapse],
) -> None:
    """Write back what a sweep changed on its pairs, meetings and lapses, in bulk."""
    await update_many(session, Pair, pairs, SWEEP_COLUMNS)
    await meetings.save_due(session, due_meetings)
    await lapses.save_due(session, open_lapses)


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
