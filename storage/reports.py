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

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Lapse, Meeting, MeetingFeedback, Pair, Person, Profile, Program
from storage.states import LapseOutcome, MeetingStatus, PairState

WEEK = timedelta(days=7)
NOT_CANCELLED = (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.SKIPPED)
RECOGNITION_WINDOW = timedelta(days=28)
RECOGNITION_MIN_MEETINGS = 2


def _epoch(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 of a stored UTC datetime, in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_part("epoch", column)  # double precision; EXTRACT gives numeric
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


def _open_pair(at: datetime) -> ColumnElement[bool]:
    return and_(
        Pair.activated_at.is_not(None),
        Pair.activated_at <= at,
        or_(Pair.ended_at.is_(None), Pair.ended_at > at),
    )


async def _only_program(session: AsyncSession, program_id: int) -> bool:
    """True when no other program exists (the usual deployment: one program per bot).
    Then every meeting and rating is this program's, and the figures that count only
    meetings or ratings skip joining pairs to filter by program: at 100,000 participants
    that join costs more than the counting itself."""
    other = await session.scalar(select(Program.id).where(Program.id != program_id).limit(1))
    return other is None


@dataclass(frozen=True)
class Participants:
    by_role: dict[str, int]
    waiting: int
    new: int
    objective_count: int
    mentees_total: int


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.count().filter(condition)


def _taking_part(at: datetime) -> ColumnElement[bool]:
    return and_(Profile.joined_at <= at, or_(Profile.left_at.is_(None), Profile.left_at > at))


def _pair_open_for_mentee(at: datetime) -> ColumnElement[bool]:
    """A mentee with such a pair is not waiting: proposed by `at` and not ended by then."""
    return and_(Pair.proposed_at <= at, or_(Pair.ended_at.is_(None), Pair.ended_at > at))


async def participants(
    session: AsyncSession,
    program_id: int,
    ats: Sequence[datetime],
    objective_departments: Sequence[str] = (),
) -> list[Participants]:
    """For each moment `at`: people taking part by role, mentees with no pair, people who
    joined in the week before, and mentees from the objective's departments.

    Two statements for all the moments: one pass over profiles (counts by role), one over
    pairs joined to their mentee's profile (mentees with a pair). Waiting mentees are the
    mentees taking part less those with a pair, so no per-mentee grouping is needed.
    """
    is_mentee = Profile.role.in_(("mentee", "both"))
    wanted = [d.lower() for d in objective_departments] or [""]
    from_objective = and_(is_mentee, func.lower(Profile.department).in_(wanted))
    columns: list[Any] = []
    for at in ats:
        taking_part = _taking_part(at)
        columns += [
            _count_if(taking_part),
            _count_if(and_(taking_part, Profile.joined_at > at - WEEK)),
            _count_if(and_(taking_part, from_objective)),
        ]
    rows = (
        await session.execute(
            select(Profile.role, *columns)
            .where(
                Profile.program_id == program_id,
                Profile.role.is_not(None),
                Profile.joined_at.is_not(None),
            )
            .group_by(Profile.role)
        )
    ).all()
    paired = (
        await session.execute(
            select(
                *(
                    func.count(func.distinct(Pair.mentee_id)).filter(
                        and_(_taking_part(at), _pair_open_for_mentee(at))
                    )
                    for at in ats
                )
            )
            .select_from(Pair)
            .join(
                Profile,
                and_(Profile.person_id == Pair.mentee_id, Profile.program_id == Pair.program_id),
            )
            .where(Pair.program_id == program_id, is_mentee)
        )
    ).one()
    out = []
    for i in range(len(ats)):
        by_role: dict[str, int] = {}
        new = objective = 0
        for row in rows:
            n, joined, matching = (int(v) for v in row[1 + 3 * i : 4 + 3 * i])
            if n:
                by_role[str(row[0])] = n
            new, objective = new + joined, objective + matching
        mentees = by_role.get("mentee", 0) + by_role.get("both", 0)
        out.append(
            Participants(
                by_role=by_role,
                waiting=mentees - int(paired[i]),
                new=new,
                objective_count=objective if objective_departments else 0,
                mentees_total=mentees,
            )
        )
    return out


@dataclass(frozen=True)
class PairCounts:
    by_state: dict[PairState, int]
    started: int
    ended: int


async def pairs(
    session: AsyncSession, program_id: int, ats: Sequence[datetime]
) -> list[PairCounts]:
    """For each moment `at`: pairs in each state as of `at` (ended ones by how they ended,
    open ones as active, or paused if they are paused now, unanswered proposals as
    proposed), and the pairs that became active and that ended in the week before it.

    One statement per moment, grouped by the state then: the work is per row and per
    moment either way, and a single statement for both moments measured slower (twice
    the conditions per row; grouping by two computed states misleads the planner).
    """
    out = []
    for at in ats:
        since = at - WEEK
        state = case(
            (and_(Pair.ended_at.is_not(None), Pair.ended_at <= at), Pair.state),
            (
                _open_pair(at),
                case((Pair.state == PairState.PAUSED, PairState.PAUSED), else_=PairState.ACTIVE),
            ),
            else_=PairState.PROPOSED,
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
        by_state: dict[PairState, int] = {}
        started = ended = 0
        for name, n, began, finished in rows.all():
            by_state[PairState(name)] = int(n)
            started, ended = started + int(began), ended + int(finished)
        out.append(PairCounts(by_state, started, ended))
    return out


async def pairs_by_state(
    session: AsyncSession, program_id: int, at: datetime
) -> dict[PairState, int]:
    return (await pairs(session, program_id, [at]))[0].by_state


@dataclass(frozen=True)
class MeetingWindow:
    due: int
    held: int
    confirmed: int = 0  # of the held: both people said it took place


def _disputed() -> ColumnElement[bool]:
    """Someone in the pair said this meeting didn't take place."""
    return (
        select(MeetingFeedback.id)
        .where(MeetingFeedback.meeting_id == Meeting.id, MeetingFeedback.met.is_(False))
        .exists()
    )


def _counts_as_held() -> ColumnElement[bool]:
    """Held: logged and not disputed (what every held figure HR sees counts)."""
    return and_(Meeting.status == MeetingStatus.HELD, ~_disputed())


def _confirmed_by_both() -> ColumnElement[bool]:
    said_yes = (
        select(func.count(MeetingFeedback.id))
        .where(MeetingFeedback.meeting_id == Meeting.id, MeetingFeedback.met.is_(True))
        .scalar_subquery()
    )
    return and_(_counts_as_held(), said_yes >= 2)


# When a meeting took place, or is due: a meeting held early or logged late counts in the
# week it was held, not the week it had been planned for.
MEETING_TIME = func.coalesce(Meeting.held_at, Meeting.scheduled_at)


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
        *((MEETING_TIME > since, k) for k, (since, _) in enumerate(bounds)),
        else_=-1,
    )
    in_span = (
        select(
            bucket,
            func.count(),
            _count_if(_counts_as_held()),
            _count_if(_confirmed_by_both()),
        )
        .select_from(Meeting)
        .where(
            MEETING_TIME > bounds[-1][0],
            MEETING_TIME <= until,
            Meeting.status.in_(NOT_CANCELLED),
        )
        .group_by(bucket)
    )
    if not await _only_program(session, program_id):
        in_span = in_span.join(Pair, Pair.id == Meeting.pair_id).where(
            Pair.program_id == program_id
        )
    rows = await session.execute(in_span)
    scheduled = {int(k): (int(n), int(h), int(c)) for k, n, h, c in rows.all()}
    # Lapsed pairs with nothing scheduled in a week: the lapses overlapping the span, each
    # with a flag per week saying whether its pair had a meeting then. One statement,
    # driven from the few lapsed pairs into their meetings (index-only on
    # ix_meetings_pair_scheduled), not by scanning every meeting of the span.
    lapsed_pairs = (
        select(Lapse.pair_id.label("pair_id"))
        .where(
            Lapse.program_id == program_id,
            Lapse.began_at <= until,
            or_(Lapse.closed_at.is_(None), Lapse.closed_at > bounds[-1][0]),
        )
        .distinct()
        .subquery()
    )
    met = (
        select(
            Meeting.pair_id.label("pair_id"),
            *(
                func.max(
                    case((and_(Meeting.scheduled_at > since, Meeting.scheduled_at <= end), 1))
                ).label(f"m{k}")
                for k, (since, end) in enumerate(bounds)
            ),
        )
        .join(lapsed_pairs, lapsed_pairs.c.pair_id == Meeting.pair_id)
        .where(
            Meeting.scheduled_at > bounds[-1][0],
            Meeting.scheduled_at <= until,
            Meeting.status.in_(NOT_CANCELLED),
        )
        .group_by(Meeting.pair_id)
        .subquery()
    )
    counts = (
        await session.execute(
            select(
                *(
                    func.count(
                        func.distinct(
                            case(
                                (
                                    and_(
                                        Lapse.began_at <= end,
                                        or_(Lapse.closed_at.is_(None), Lapse.closed_at > since),
                                        met.c[f"m{k}"].is_(None),
                                    ),
                                    Lapse.pair_id,
                                )
                            )
                        )
                    )
                    for k, (since, end) in enumerate(bounds)
                )
            )
            .select_from(Lapse)
            .outerjoin(met, met.c.pair_id == Lapse.pair_id)
            .where(
                Lapse.program_id == program_id,
                Lapse.began_at <= until,
                or_(Lapse.closed_at.is_(None), Lapse.closed_at > bounds[-1][0]),
            )
        )
    ).one()
    return [
        MeetingWindow(
            due=scheduled.get(k, (0, 0, 0))[0] + int(counts[k]),
            held=scheduled.get(k, (0, 0, 0))[1],
            confirmed=scheduled.get(k, (0, 0, 0))[2],
        )
        for k in reversed(range(weeks))
    ]


async def meetings(
    session: AsyncSession, program_id: int, since: datetime, until: datetime
) -> MeetingWindow:
    """Meetings due and held in the week (until - 7 days, until]."""
    del since  # always the week before `until`; kept for a readable call site
    return (await meeting_weeks(session, program_id, until, 1))[0]


@dataclass(frozen=True)
class Timing:
    median_days_since_last: float | None
    median_days_to_first: float | None
    not_met_yet: int


def _held_by_pair(ats: Sequence[datetime]) -> Any:
    """Each pair's first held meeting, and its last one up to each moment: one ordered
    pass over the held-meetings index (ix_meetings_pair_held), not a lookup per pair.
    The first meeting is the same for every moment: it counts as of `at` when it is not
    later than `at`."""
    return (
        select(
            Meeting.pair_id.label("pair_id"),
            func.min(Meeting.scheduled_at).label("first"),
            *(
                func.max(Meeting.scheduled_at).filter(Meeting.scheduled_at <= at).label(f"last{i}")
                for i, at in enumerate(ats)
            ),
        )
        .where(Meeting.status == MeetingStatus.HELD, Meeting.scheduled_at <= max(ats))
        .group_by(Meeting.pair_id)
        .subquery()
    )


def _days_since(at: datetime, median_epoch: float | None) -> float | None:
    if median_epoch is None:
        return None
    return round(at.timestamp() / 86400.0 - float(median_epoch) / 86400.0, 1)


def _days(median_seconds: float | None) -> float | None:
    return None if median_seconds is None else round(max(float(median_seconds), 0.0) / 86400.0, 1)


async def timing(session: AsyncSession, program_id: int, ats: Sequence[datetime]) -> list[Timing]:
    """For each moment `at`: over pairs open then, the median days since their last held
    meeting (or since they started); over pairs that had met by then, the median days from
    start to first meeting; and how many open pairs had not met yet.

    On PostgreSQL one statement (percentile_cont) covers every moment; SQLite, which has
    no percentile aggregate, ranks with window functions, a few statements per moment.
    """
    held = _held_by_pair(ats)
    base = (
        select()
        .select_from(Pair)
        .outerjoin(held, held.c.pair_id == Pair.id)
        .where(Pair.program_id == program_id)
    )
    gap = _epoch(session, held.c.first) - _epoch(session, Pair.activated_at)
    if session.get_bind().dialect.name == "postgresql":
        columns: list[Any] = []
        for i, at in enumerate(ats):
            last = held.c[f"last{i}"]
            since = _epoch(session, func.coalesce(last, Pair.activated_at))
            columns += [
                func.percentile_cont(0.5).within_group(since).filter(_open_pair(at)),
                func.percentile_cont(0.5)
                .within_group(gap)
                .filter(and_(held.c.first <= at, Pair.activated_at.is_not(None))),
                func.count().filter(and_(_open_pair(at), last.is_(None))),
            ]
        row = (await session.execute(base.add_columns(*columns))).one()
        return [
            Timing(_days_since(at, row[3 * i]), _days(row[3 * i + 1]), int(row[3 * i + 2]))
            for i, at in enumerate(ats)
        ]
    out = []
    for i, at in enumerate(ats):
        last = held.c[f"last{i}"]
        since = _epoch(session, func.coalesce(last, Pair.activated_at))
        median_last = await _median(session, base.add_columns(since).where(_open_pair(at)))
        median_first = await _median(
            session, base.add_columns(gap).where(held.c.first <= at, Pair.activated_at.is_not(None))
        )
        never = await session.scalar(
            base.add_columns(func.count()).where(_open_pair(at), last.is_(None))
        )
        out.append(Timing(_days_since(at, median_last), _days(median_first), int(never or 0)))
    return out


@dataclass(frozen=True)
class Lapses:
    by_step: dict[int, int]
    at_risk: int
    begun: int
    recovered: int


def _open_lapse(at: datetime) -> ColumnElement[bool]:
    return and_(Lapse.began_at <= at, or_(Lapse.closed_at.is_(None), Lapse.closed_at > at))


async def lapses(session: AsyncSession, program_id: int, ats: Sequence[datetime]) -> list[Lapses]:
    """For each moment `at`: lapses open then by ladder step, those flagged at risk, lapses
    begun and pairs recovered in the week before it. One statement for all the moments."""
    columns: list[Any] = []
    for at in ats:
        since, is_open = at - WEEK, _open_lapse(at)
        columns += [
            _count_if(is_open),
            _count_if(and_(is_open, Lapse.at_risk_at.is_not(None), Lapse.at_risk_at <= at)),
            _count_if(and_(Lapse.began_at > since, Lapse.began_at <= at)),
            _count_if(
                and_(
                    Lapse.began_at <= at,
                    Lapse.outcome == LapseOutcome.RECOVERED,
                    Lapse.closed_at > since,
                    Lapse.closed_at <= at,
                )
            ),
        ]
    rows = (
        await session.execute(
            select(Lapse.step, *columns)
            .where(Lapse.program_id == program_id, Lapse.began_at <= max(ats))
            .group_by(Lapse.step)
        )
    ).all()
    out = []
    for i in range(len(ats)):
        by_step: dict[int, int] = {}
        at_risk = begun = recovered = 0
        for row in rows:
            n, risky, new, back = (int(v) for v in row[1 + 4 * i : 5 + 4 * i])
            if n:
                by_step[int(row[0])] = n
            at_risk, begun, recovered = at_risk + risky, begun + new, recovered + back
        out.append(Lapses(by_step, at_risk, begun, recovered))
    return out


async def ratings(
    session: AsyncSession, program_id: int, ats: Sequence[datetime]
) -> list[tuple[float | None, int]]:
    """For each moment: the average meeting rating given in the week before it across the
    program, and how many. One statement for all the moments."""
    columns: list[Any] = []
    for at in ats:
        given = case(
            (
                and_(MeetingFeedback.created_at > at - WEEK, MeetingFeedback.created_at <= at),
                MeetingFeedback.rating,
            )
        )
        columns += [func.avg(given), func.count(given)]
    in_window = (
        select(*columns)
        .select_from(MeetingFeedback)
        .where(
            MeetingFeedback.rating.is_not(None),
            MeetingFeedback.created_at > min(ats) - WEEK,
            MeetingFeedback.created_at <= max(ats),
        )
    )
    if not await _only_program(session, program_id):
        in_window = (
            in_window.join(Meeting, Meeting.id == MeetingFeedback.meeting_id)
            .join(Pair, Pair.id == Meeting.pair_id)
            .where(Pair.program_id == program_id)
        )
    row = (await session.execute(in_window)).one()
    return [
        (
            None if row[2 * i] is None else round(float(row[2 * i]), 2),
            int(row[2 * i + 1] or 0),
        )
        for i in range(len(ats))
    ]


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
    lapsed_mentors = (
        select(Pair.mentor_id)
        .select_from(Lapse)
        .join(Pair, Pair.id == Lapse.pair_id)
        .where(Lapse.program_id == program_id, _open_lapse(at))
    )
    forgotten = select(Person.id).where(Person.forgotten_at.is_not(None))
    # Count per mentor id first (no join to people for every meeting), then name the few.
    top = (
        select(Pair.mentor_id.label("mentor_id"), held.label("n"))
        .select_from(Meeting)
        .join(Pair, Pair.id == Meeting.pair_id)
        .where(
            Pair.program_id == program_id,
            _counts_as_held(),
            MEETING_TIME > since,
            MEETING_TIME <= at,
            Pair.mentor_id.not_in(lapsed_mentors),
            Pair.mentor_id.not_in(forgotten),
        )
        .group_by(Pair.mentor_id)
        .having(held >= RECOGNITION_MIN_MEETINGS)
        .order_by(held.desc(), Pair.mentor_id)
        .limit(limit * 4)
        .subquery()
    )
    rows = await session.execute(
        select(Person.display_name, top.c.n)
        .join(top, top.c.mentor_id == Person.id)
        .order_by(top.c.n.desc(), Person.display_name)
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
        .where(Meeting.status == MeetingStatus.HELD)
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
