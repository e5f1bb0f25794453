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

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Lapse, Meeting, MeetingFeedback, Pair, Person, Profile

WEEK = timedelta(days=7)
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


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def participants(
    session: AsyncSession,
    program_id: int,
    at: datetime,
    since: datetime,
    objective_departments: Sequence[str] = (),
) -> Participants:
    """People taking part at `at` by role; mentees with no pair; joined since `since`;
    and how many mentees come from the objective's departments. One statement."""
    paired = (
        select(Pair.mentee_id)
        .where(
            Pair.program_id == program_id,
            Pair.proposed_at <= at,
            or_(Pair.ended_at.is_(None), Pair.ended_at > at),
        )
        .distinct()
        .subquery()
    )
    is_mentee = Profile.role.in_(("mentee", "both"))
    wanted = [d.lower() for d in objective_departments] or [""]
    rows = await session.execute(
        select(
            Profile.role,
            func.count(),
            _count_if(and_(is_mentee, paired.c.mentee_id.is_(None))),
            _count_if(Profile.joined_at > since),
            _count_if(and_(is_mentee, func.lower(Profile.department).in_(wanted))),
        )
        .outerjoin(paired, paired.c.mentee_id == Profile.person_id)
        .where(_participating(program_id, at))
        .group_by(Profile.role)
    )
    by_role: dict[str, int] = {}
    waiting = new = objective = 0
    for role, n, alone, joined, matching in rows.all():
        by_role[str(role)] = int(n)
        waiting, new, objective = waiting + int(alone), new + int(joined), objective + int(matching)
    return Participants(
        by_role=by_role,
        waiting=waiting,
        new=new,
        objective_count=objective if objective_departments else 0,
        mentees_total=by_role.get("mentee", 0) + by_role.get("both", 0),
    )


@dataclass(frozen=True)
class PairCounts:
    by_state: dict[str, int]
    started: int
    ended: int


async def pairs(
    session: AsyncSession, program_id: int, since: datetime, at: datetime
) -> PairCounts:
    """Pairs in each state as of `at` (ended ones by how they ended, open ones as active, or
    paused if they are paused now, unanswered proposals as proposed), and the pairs that
    became active and that ended in (since, at]. One statement."""
    state = case(
        (and_(Pair.ended_at.is_not(None), Pair.ended_at <= at), Pair.state),
        (_open_pair(at), case((Pair.state == "paused", "paused"), else_="active")),
        else_="proposed",
    )
    rows = await session.execute(
        select(
            state,
            func.count(),
            _count_if(and_(Pair.activated_at > since, Pair.activated_at <= at)),
            _count_if(
                and_(Pair.activated_at.is_not(None), Pair.ended_at > since, Pair.ended_at <= at)
            ),
        )
        .where(
            Pair.program_id == program_id,
            Pair.proposed_at <= at,
            # a proposal declined or expired before it began is not a pair
            or_(Pair.activated_at.is_not(None), Pair.ended_at.is_(None), Pair.ended_at > at),
        )
        .group_by(state)
    )
    by_state: dict[str, int] = {}
    started = ended = 0
    for name, n, began, finished in rows.all():
        by_state[str(name)] = int(n)
        started, ended = started + int(began), ended + int(finished)
    return PairCounts(by_state, started, ended)


async def pairs_by_state(session: AsyncSession, program_id: int, at: datetime) -> dict[str, int]:
    return (await pairs(session, program_id, at, at)).by_state


@dataclass(frozen=True)
class MeetingWindow:
    due: int
    held: int


async def meeting_weeks(
    session: AsyncSession, program_id: int, until: datetime, weeks: int
) -> list[MeetingWindow]:
    """Meetings due and held in each of the `weeks` weeks ending at `until`, oldest first.

    Due in a week (since, until]: the meetings scheduled in it (not cancelled), plus one
    for every pair that was lapsed during it with nothing scheduled in it; held: those of
    the first kind that were held. Two statements, whatever the number of weeks.
    """
    bounds = [(until - (k + 1) * WEEK, until - k * WEEK) for k in range(weeks)]
    bucket = case(
        *((Meeting.scheduled_at > since, k) for k, (since, _) in enumerate(bounds)),
        else_=-1,
    )
    rows = await session.execute(
        select(bucket, func.count(), _count_if(Meeting.status == "held"))
        .select_from(Meeting)
        .join(Pair, Pair.id == Meeting.pair_id)
        .where(
            Pair.program_id == program_id,
            Meeting.scheduled_at > bounds[-1][0],
            Meeting.scheduled_at <= until,
            Meeting.status != "cancelled",
        )
        .group_by(bucket)
    )
    scheduled = {int(k): (int(n), int(h)) for k, n, h in rows.all()}
    per_week = []
    for k, (since, end) in enumerate(bounds):
        met = exists().where(
            Meeting.pair_id == Lapse.pair_id,
            Meeting.scheduled_at > since,
            Meeting.scheduled_at <= end,
            Meeting.status != "cancelled",
        )
        per_week.append(
            select(literal(k), func.count(func.distinct(Lapse.pair_id))).where(
                Lapse.program_id == program_id,
                Lapse.began_at <= end,
                or_(Lapse.closed_at.is_(None), Lapse.closed_at > since),
                ~met,
            )
        )
    lapsed = {int(k): int(n) for k, n in (await session.execute(union_all(*per_week))).all()}
    return [
        MeetingWindow(
            due=scheduled.get(k, (0, 0))[0] + lapsed.get(k, 0), held=scheduled.get(k, (0, 0))[1]
        )
        for k in reversed(range(weeks))
    ]


async def meetings(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> MeetingWindow:
    """Meetings due and held in the week (until - 7 days, until]."""
    del since  # always the week before `until`; kept for a readable call site
    return (await meeting_weeks(session, program_id, until, 1))[0]


def _held_by_pair(at: datetime) -> Any:
    """Each pair's first and last held meeting up to `at`: one grouped scan, not a lookup
    per pair."""
    return (
        select(
            Meeting.pair_id.label("pair_id"),
            func.min(Meeting.scheduled_at).label("first"),
            func.max(Meeting.scheduled_at).label("last"),
        )
        .where(Meeting.status == "held", Meeting.scheduled_at <= at)
        .group_by(Meeting.pair_id)
        .subquery()
    )


@dataclass(frozen=True)
class Timing:
    median_days_since_last: float | None
    median_days_to_first: float | None
    not_met_yet: int


async def timing(session: AsyncSession, program_id: int, at: datetime) -> Timing:
    """Over pairs open at `at`: the median days since their last held meeting (or since
    they started); over pairs that met by `at`: the median days from start to the first
    meeting; and how many open pairs have not met yet."""
    held = _held_by_pair(at)
    last = func.coalesce(held.c.last, Pair.activated_at)
    open_pairs = (
        select(_epoch(session, last))
        .select_from(Pair)
        .outerjoin(held, held.c.pair_id == Pair.id)
        .where(Pair.program_id == program_id, _open_pair(at))
    )
    median_last = await _median(session, open_pairs)
    gap = _epoch(session, held.c.first) - _epoch(session, Pair.activated_at)
    median_first = await _median(
        session,
        select(gap)
        .select_from(Pair)
        .join(held, held.c.pair_id == Pair.id)
        .where(Pair.program_id == program_id, Pair.activated_at.is_not(None)),
    )
    never = await session.scalar(
        select(func.count())
        .select_from(Pair)
        .outerjoin(held, held.c.pair_id == Pair.id)
        .where(Pair.program_id == program_id, _open_pair(at), held.c.pair_id.is_(None))
    )
    since_last = (
        None if median_last is None else round(at.timestamp() / 86400.0 - median_last / 86400.0, 1)
    )
    to_first = None if median_first is None else round(max(median_first, 0.0) / 86400.0, 1)
    return Timing(since_last, to_first, int(never or 0))


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
    pairs recovered in (since, until]. One statement."""
    is_open = _open_lapse(until)
    rows = await session.execute(
        select(
            Lapse.step,
            _count_if(is_open),
            _count_if(and_(is_open, Lapse.at_risk_at.is_not(None), Lapse.at_risk_at <= until)),
            _count_if(and_(Lapse.began_at > since, Lapse.began_at <= until)),
            _count_if(
                and_(
                    Lapse.outcome == "recovered",
                    Lapse.closed_at > since,
                    Lapse.closed_at <= until,
                )
            ),
        )
        .where(Lapse.program_id == program_id, Lapse.began_at <= until)
        .group_by(Lapse.step)
    )
    by_step: dict[int, int] = {}
    at_risk = begun = recovered = 0
    for step, n, risky, new, back in rows.all():
        if int(n):
            by_step[int(step)] = int(n)
        at_risk, begun, recovered = at_risk + int(risky), begun + int(new), recovered + int(back)
    return Lapses(by_step, at_risk, begun, recovered)


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
