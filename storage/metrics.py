"""The digest's figures as SQL aggregates, computed as of any moment from timestamps.

Every function counts in the database (COUNT, AVG, window functions for medians)
and returns a handful of numbers, so a program of 100,000 people costs a few
index and table scans, never a row-by-row loop in Python. "As of T" reads the
timestamps (joined_at, left_at, activated_at, ended_at, scheduled_at, began_at,
closed_at): the same call with T a week earlier gives last week's figures. Two
things have no history and are read as they are now: a profile's role and a
pair's or lapse's current pause state / ladder step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Lapse, Meeting, MeetingFeedback, Pair, Person, Profile

RECOGNITION_WINDOW = timedelta(days=28)
RECOGNITION_MIN_MEETINGS = 2


def _epoch(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 of a stored UTC datetime, in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


async def _median(session: AsyncSession, values: Select[Any]) -> float | None:
    """The median of a one-column select, with window functions (SQLite 3.25+, PostgreSQL)."""
    inner = values.subquery()
    value = inner.c[0]
    ranked = select(
        value.label("v"),
        func.row_number().over(order_by=value).label("rn"),
        func.count().over().label("n"),
    ).subquery()
    middle = select(ranked.c.v).where(
        or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    )
    found = [float(v) for v in await session.scalars(middle) if v is not None]
    return sum(found) / len(found) if found else None


def _participating(program_id: int, at: datetime) -> ColumnElement[bool]:
    return and_(
        Profile.program_id == program_id,
        Profile.role.is_not(None),
        Profile.joined_at.is_not(None),
        Profile.joined_at <= at,
        or_(Profile.left_at.is_(None), Profile.left_at > at),
    )


def _open_pair(at: datetime) -> ColumnElement[bool]:
    return and_(
        Pair.activated_at.is_not(None),
        Pair.activated_at <= at,
        or_(Pair.ended_at.is_(None), Pair.ended_at > at),
    )


@dataclass(frozen=True)
class Participants:
    by_role: dict[str, int]
    waiting: int
    new: int
    objective_count: int
    mentees_total: int


async def participants(
    session: AsyncSession,
    program_id: int,
    at: datetime,
    since: datetime,
    objective_departments: Sequence[str] = (),
) -> Participants:
    """People taking part at `at` by role; mentees with no pair; joined since `since`;
    and how many mentees come from the objective's departments."""
    rows = await session.execute(
        select(Profile.role, func.count()).where(_participating(program_id, at)).group_by(
            Profile.role
        )
    )
    by_role = {str(role): int(n) for role, n in rows.all()}
    is_mentee = Profile.role.in_(("mentee", "both"))
    has_pair = exists().where(
        Pair.mentee_id == Profile.person_id,
        Pair.program_id == program_id,
        Pair.proposed_at <= at,
        or_(Pair.ended_at.is_(None), Pair.ended_at > at),
    )
    waiting = await session.scalar(
        select(func.count()).where(_participating(program_id, at), is_mentee, ~has_pair)
    )
    new = await session.scalar(
        select(func.count()).where(_participating(program_id, at), Profile.joined_at > since)
    )
    objective = 0
    if objective_departments:
        wanted = [d.lower() for d in objective_departments]
        objective = int(
            await session.scalar(
                select(func.count()).where(
                    _participating(program_id, at),
                    is_mentee,
                    func.lower(Profile.department).in_(wanted),
                )
            )
            or 0
        )
    return Participants(
        by_role=by_role,
        waiting=int(waiting or 0),
        new=int(new or 0),
        objective_count=objective,
        mentees_total=by_role.get("mentee", 0) + by_role.get("both", 0),
    )


async def pairs_by_state(session: AsyncSession, program_id: int, at: datetime) -> dict[str, int]:
    """Pairs in each state as of `at`: ended ones by how they ended, open ones as active
    (or paused, if they are paused now), proposals not yet answered as proposed."""
    state = case(
        (and_(Pair.ended_at.is_not(None), Pair.ended_at <= at), Pair.state),
        (_open_pair(at), case((Pair.state == "paused", "paused"), else_="active")),
        else_="proposed",
    )
    rows = await session.execute(
        select(state, func.count())
        .where(
            Pair.program_id == program_id,
            Pair.proposed_at <= at,
            or_(
                Pair.activated_at.is_not(None),
                Pair.ended_at.is_(None),
                Pair.ended_at > at,
            ),
        )
        .group_by(state)
    )
    return {str(s): int(n) for s, n in rows.all()}


async def pair_flow(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> tuple[int, int]:
    """Pairs that became active, and pairs that ended or completed, in (since, until]."""
    started = await session.scalar(
        select(func.count()).where(
            Pair.program_id == program_id, Pair.activated_at > since, Pair.activated_at <= until
        )
    )
    ended = await session.scalar(
        select(func.count()).where(
            Pair.program_id == program_id,
            Pair.activated_at.is_not(None),
            Pair.ended_at > since,
            Pair.ended_at <= until,
        )
    )
    return int(started or 0), int(ended or 0)


@dataclass(frozen=True)
class MeetingWindow:
    due: int
    held: int


async def meetings(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> MeetingWindow:
    """Meetings due in (since, until]: those scheduled in it (not cancelled), plus one for
    every pair that was lapsed during it with nothing scheduled; held: those of the first
    kind that were held."""
    in_window = and_(
        Meeting.scheduled_at > since,
        Meeting.scheduled_at <= until,
        Meeting.status != "cancelled",
    )
    rows = await session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Meeting.status == "held", 1), else_=0)), 0),
        )
        .select_from(Meeting)
        .join(Pair, Pair.id == Meeting.pair_id)
        .where(Pair.program_id == program_id, in_window)
    )
    scheduled, held = rows.one()
    met_in_window = exists().where(Meeting.pair_id == Lapse.pair_id, in_window)
    lapsed = await session.scalar(
        select(func.count(func.distinct(Lapse.pair_id))).where(
            Lapse.program_id == program_id,
            Lapse.began_at <= until,
            or_(Lapse.closed_at.is_(None), Lapse.closed_at > since),
            ~met_in_window,
        )
    )
    return MeetingWindow(due=int(scheduled or 0) + int(lapsed or 0), held=int(held or 0))


def _last_held(at: datetime) -> Any:
    return (
        select(func.max(Meeting.scheduled_at))
        .where(Meeting.pair_id == Pair.id, Meeting.status == "held", Meeting.scheduled_at <= at)
        .correlate(Pair)
        .scalar_subquery()
    )


async def median_days_since_meeting(
    session: AsyncSession, program_id: int, at: datetime
) -> float | None:
    """Over pairs open at `at`: the median time since their last held meeting (or since they
    started, if they have not met yet), in days."""
    last = func.coalesce(_last_held(at), Pair.activated_at)
    median = await _median(
        session,
        select(_epoch(session, last)).where(Pair.program_id == program_id, _open_pair(at)),
    )
    if median is None:
        return None
    return round(at.timestamp() / 86400.0 - median / 86400.0, 1)


async def median_days_to_first_meeting(
    session: AsyncSession, program_id: int, at: datetime
) -> tuple[float | None, int]:
    """Median days from a pair's start to its first held meeting, over pairs that had one
    by `at`; and how many open pairs have not met yet."""
    first = (
        select(func.min(Meeting.scheduled_at))
        .where(Meeting.pair_id == Pair.id, Meeting.status == "held", Meeting.scheduled_at <= at)
        .correlate(Pair)
        .scalar_subquery()
    )
    gap = _epoch(session, first) - _epoch(session, Pair.activated_at)
    median = await _median(
        session,
        select(gap).where(
            Pair.program_id == program_id,
            Pair.activated_at.is_not(None),
            Pair.activated_at <= at,
            first.is_not(None),
        ),
    )
    never = await session.scalar(
        select(func.count()).where(
            Pair.program_id == program_id,
            _open_pair(at),
            ~exists().where(
                Meeting.pair_id == Pair.id, Meeting.status == "held", Meeting.scheduled_at <= at
            ),
        )
    )
    days = None if median is None else round(max(median, 0.0) / 86400.0, 1)
    return days, int(never or 0)


@dataclass(frozen=True)
class Lapses:
    by_step: dict[int, int]
    at_risk: int
    begun: int
    recovered: int


def _open_lapse(at: datetime) -> ColumnElement[bool]:
    return and_(Lapse.began_at <= at, or_(Lapse.closed_at.is_(None), Lapse.closed_at > at))


async def lapses(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> Lapses:
    """Lapses open at `until` by ladder step, those flagged at risk, lapses begun and
    pairs recovered in (since, until]."""
    rows = await session.execute(
        select(Lapse.step, func.count())
        .where(Lapse.program_id == program_id, _open_lapse(until))
        .group_by(Lapse.step)
    )
    by_step = {int(step): int(n) for step, n in rows.all()}
    at_risk = await session.scalar(
        select(func.count()).where(
            Lapse.program_id == program_id,
            _open_lapse(until),
            Lapse.at_risk_at.is_not(None),
            Lapse.at_risk_at <= until,
        )
    )
    begun = await session.scalar(
        select(func.count()).where(
            Lapse.program_id == program_id, Lapse.began_at > since, Lapse.began_at <= until
        )
    )
    recovered = await session.scalar(
        select(func.count()).where(
            Lapse.program_id == program_id,
            Lapse.outcome == "recovered",
            Lapse.closed_at > since,
            Lapse.closed_at <= until,
        )
    )
    return Lapses(by_step, int(at_risk or 0), int(begun or 0), int(recovered or 0))


async def ratings(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> tuple[float | None, int]:
    """The average meeting rating given in (since, until] across the program, and how many."""
    row = (
        await session.execute(
            select(func.avg(MeetingFeedback.rating), func.count(MeetingFeedback.rating))
            .select_from(MeetingFeedback)
            .join(Meeting, Meeting.id == MeetingFeedback.meeting_id)
            .join(Pair, Pair.id == Meeting.pair_id)
            .where(
                Pair.program_id == program_id,
                MeetingFeedback.rating.is_not(None),
                MeetingFeedback.created_at > since,
                MeetingFeedback.created_at <= until,
            )
        )
    ).one()
    average, count = row
    return (None if average is None else round(float(average), 2)), int(count or 0)


@dataclass(frozen=True)
class NamedPair:
    pair_id: int
    mentee: str
    mentor: str
    since: datetime | None


async def at_risk_pairs(
    session: AsyncSession, program_id: int, at: datetime, limit: int = 20
) -> list[NamedPair]:
    """Pairs whose open lapse reached the at-risk step: names and since when they have not
    met. Nothing else about the pair is read."""
    mentee, mentor = Person.__table__.alias("mentee"), Person.__table__.alias("mentor")
    rows = await session.execute(
        select(
            Pair.id,
            mentee.c.display_name,
            mentor.c.display_name,
            func.coalesce(Pair.last_meeting_at, Pair.activated_at),
        )
        .select_from(Lapse)
        .join(Pair, Pair.id == Lapse.pair_id)
        .join(mentee, mentee.c.id == Pair.mentee_id)
        .join(mentor, mentor.c.id == Pair.mentor_id)
        .where(
            Lapse.program_id == program_id,
            _open_lapse(at),
            Lapse.at_risk_at.is_not(None),
            Lapse.at_risk_at <= at,
        )
        .order_by(Lapse.at_risk_at, Pair.id)
        .limit(limit)
    )
    return [NamedPair(pid, a, b, since) for pid, a, b, since in rows.all()]


async def recognised_mentors(
    session: AsyncSession, program_id: int, at: datetime, limit: int = 5
) -> list[tuple[str, int]]:
    """Mentors whose pairs keep meeting: at least two meetings held in the last four weeks
    and no pair of theirs lapsed now. Names and meeting counts, most meetings first."""
    since = at - RECOGNITION_WINDOW
    held = func.count(Meeting.id)
    mentor_lapsed = (
        select(literal(1))
        .select_from(Lapse)
        .join(Pair, Pair.id == Lapse.pair_id)
        .where(Pair.mentor_id == Person.id, _open_lapse(at))
        .correlate(Person)
        .exists()
    )
    rows = await session.execute(
        select(Person.display_name, held)
        .select_from(Meeting)
        .join(Pair, Pair.id == Meeting.pair_id)
        .join(Person, Person.id == Pair.mentor_id)
        .where(
            Pair.program_id == program_id,
            Meeting.status == "held",
            Meeting.scheduled_at > since,
            Meeting.scheduled_at <= at,
            Person.forgotten_at.is_(None),
            ~mentor_lapsed,
        )
        .group_by(Person.id, Person.display_name)
        .having(held >= RECOGNITION_MIN_MEETINGS)
        .order_by(held.desc(), Person.display_name)
        .limit(limit)
    )
    return [(str(name), int(n)) for name, n in rows.all()]


@dataclass(frozen=True)
class PairRow:
    """One line of `admin export`: no notes, no ratings."""

    pair_id: int
    mentee: str
    mentor: str
    state: str
    proposed_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    meetings_held: int
    first_meeting_at: datetime | None
    last_meeting_at: datetime | None
    next_meeting_at: datetime | None


async def pair_rows(session: AsyncSession, program_id: int) -> list[PairRow]:
    mentee, mentor = Person.__table__.alias("mentee"), Person.__table__.alias("mentor")
    held = (
        select(
            Meeting.pair_id.label("pair_id"),
            func.count().label("n"),
            func.min(Meeting.scheduled_at).label("first"),
            func.max(Meeting.scheduled_at).label("last"),
        )
        .where(Meeting.status == "held")
        .group_by(Meeting.pair_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Pair.id,
            mentee.c.display_name,
            mentor.c.display_name,
            Pair.state,
            Pair.proposed_at,
            Pair.activated_at,
            Pair.ended_at,
            func.coalesce(held.c.n, 0),
            held.c.first,
            held.c.last,
            Pair.next_meeting_at,
        )
        .join(mentee, mentee.c.id == Pair.mentee_id)
        .join(mentor, mentor.c.id == Pair.mentor_id)
        .outerjoin(held, held.c.pair_id == Pair.id)
        .where(Pair.program_id == program_id)
        .order_by(Pair.id)
    )
    return [PairRow(*row) for row in rows.all()]

