"""The HR weekly digest's figures: as of a moment, last week's for comparison, a 12-week
trend, recognition and the at-risk list; and their JSON form with stable keys for BI
tools (the message people read is in digest/messages.py).

`compute_digest` reads only aggregates (storage/reports.py) and, unless the program's
privacy is `aggregate`, the names of at-risk pairs and recognised mentors. It never
reads notes, agenda items, commitments or anyone's individual rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.digest.policy import ObjectiveTarget
from conversations.policy import Policy
from storage import reports
from storage.models import Program
from storage.states import PairState

WEEK = timedelta(days=7)
TREND_WEEKS = 12
# Fewer ratings than this in a week and the average is not shown: it would expose them.
MIN_RATINGS = 3
Figure = float | int | None

# The flat keys of `figures`, `previous` and `change` in the JSON, in display order.
# Lapse steps add `lapses.step_N` for each step of the ladder; the objective adds
# `objective.share` and `objective.progress` when one is configured.
BASE_KEYS = (
    "participants.total",
    "participants.mentors",
    "participants.mentees",
    "participants.both",
    "participants.waiting",
    "participants.new",
    "pairs.proposed",
    "pairs.active",
    "pairs.paused",
    "pairs.completed",
    "pairs.ended",
    "pairs.started_this_week",
    "pairs.ended_this_week",
    "meetings.due",
    "meetings.held",
    "meetings.confirmed",
    "meetings.follow_through_rate",
    "meetings.median_days_since_last",
    "meetings.median_days_to_first",
    "meetings.pairs_not_met_yet",
    "lapses.open",
    "lapses.at_risk",
    "lapses.begun",
    "lapses.recovered",
    "ratings.average",
    "ratings.count",
)


@dataclass(frozen=True)
class TrendWeek:
    start: datetime
    due: int
    held: int

    @property
    def rate(self) -> float | None:
        return round(self.held / self.due, 3) if self.due else None


@dataclass(frozen=True)
class AtRiskPair:
    mentee: str
    mentor: str
    since: datetime | None


@dataclass(frozen=True)
class Digest:
    program_name: str
    program_slug: str
    as_of: datetime
    privacy: str
    timezone: str
    figures: dict[str, Figure]
    previous: dict[str, Figure]
    trend: tuple[TrendWeek, ...]
    recognition: tuple[tuple[str, int], ...]
    at_risk: tuple[AtRiskPair, ...]
    objective: ObjectiveTarget | None

    @property
    def change(self) -> dict[str, Figure]:
        """This week minus last week for every figure (None when either is unknown)."""
        out: dict[str, Figure] = {}
        for key, value in self.figures.items():
            before = self.previous.get(key)
            if value is None or before is None:
                out[key] = None
            else:
                out[key] = round(value - before, 3)
        return out


def _rate(held: int, due: int) -> float | None:
    return round(held / due, 3) if due else None


def _figures(
    policy: Policy,
    people: reports.Participants,
    pairs: reports.PairCounts,
    window: reports.MeetingWindow,
    timing: reports.Timing,
    lapses: reports.Lapses,
    rated: tuple[float | None, int],
) -> dict[str, Figure]:
    target = policy.objective_target
    average, count = rated
    states = pairs.by_state
    figures: dict[str, Figure] = {
        "participants.total": sum(people.by_role.values()),
        "participants.mentors": people.by_role.get("mentor", 0),
        "participants.mentees": people.by_role.get("mentee", 0),
        "participants.both": people.by_role.get("both", 0),
        "participants.waiting": people.waiting,
        "participants.new": people.new,
        "pairs.proposed": states.get(PairState.PROPOSED, 0),
        "pairs.active": states.get(PairState.ACTIVE, 0),
        "pairs.paused": states.get(PairState.PAUSED, 0),
        "pairs.completed": states.get(PairState.COMPLETED, 0),
        "pairs.ended": states.get(PairState.ENDED, 0),
        "pairs.started_this_week": pairs.started,
        "pairs.ended_this_week": pairs.ended,
        "meetings.due": window.due,
        "meetings.held": window.held,
        "meetings.confirmed": window.confirmed,
        "meetings.follow_through_rate": _rate(window.held, window.due),
        "meetings.median_days_since_last": timing.median_days_since_last,
        "meetings.median_days_to_first": timing.median_days_to_first,
        "meetings.pairs_not_met_yet": timing.not_met_yet,
        "lapses.open": sum(lapses.by_step.values()),
        "lapses.at_risk": lapses.at_risk,
        "lapses.begun": lapses.begun,
        "lapses.recovered": lapses.recovered,
        "ratings.average": average if count >= MIN_RATINGS else None,
        "ratings.count": count,
    }
    for step in range(1, len(policy.follow.lapse_ladder) + 1):
        figures[f"lapses.step_{step}"] = lapses.by_step.get(step, 0)
    if target is not None:
        share = people.objective_count / people.mentees_total if people.mentees_total else None
        figures["objective.share"] = None if share is None else round(share, 3)
        figures["objective.progress"] = None if share is None else round(share / target.share, 3)
    return figures


async def compute_digest(
    session: AsyncSession, program: Program, policy: Policy, now: datetime
) -> Digest:
    """The digest for the week ending at `now`, compared with the week before."""
    pid, target = program.id, policy.objective_target
    ats = (now, now - WEEK)  # this week, and last week for the comparison
    weeks = await reports.meeting_weeks(session, pid, now, TREND_WEEKS)
    people = await reports.participants(session, pid, ats, target.departments if target else ())
    timing = await reports.timing(session, pid, ats)
    rated = await reports.ratings(session, pid, ats)
    pairs = await reports.pairs(session, pid, ats)
    lapses = await reports.lapses(session, pid, ats)
    figures, previous = [
        _figures(policy, people[i], pairs[i], weeks[-1 - i], timing[i], lapses[i], rated[i])
        for i in range(len(ats))
    ]
    trend = [TrendWeek(now - (TREND_WEEKS - i) * WEEK, w.due, w.held) for i, w in enumerate(weeks)]
    named = policy.privacy != "aggregate"
    recognition = await reports.recognised_mentors(session, program.id, now) if named else []
    at_risk = (
        [
            AtRiskPair(p.mentee, p.mentor, p.since)
            for p in await reports.at_risk_pairs(session, program.id, now)
        ]
        if named
        else []
    )
    return Digest(
        program_name=program.name,
        program_slug=program.slug,
        as_of=now,
        privacy=policy.privacy,
        timezone=policy.digest.timezone or policy.default_timezone,
        figures=figures,
        previous=previous,
        trend=tuple(trend),
        recognition=tuple(recognition),
        at_risk=tuple(at_risk),
        objective=policy.objective_target,
    )


def to_json(digest: Digest) -> dict[str, Any]:
    """The documented, stable JSON form (see README, "Digest JSON")."""
    objective = digest.objective
    return {
        "version": 1,
        "program": {"slug": digest.program_slug, "name": digest.program_name},
        "as_of": digest.as_of.isoformat(),
        "window": {
            "start": (digest.as_of - WEEK).isoformat(),
            "end": digest.as_of.isoformat(),
        },
        "privacy": digest.privacy,
        "figures": digest.figures,
        "previous": digest.previous,
        "change": digest.change,
        "objective": None
        if objective is None
        else {
            "label": objective.label,
            "departments": list(objective.departments),
            "target_share": objective.share,
        },
        "trend": [
            {"week_start": w.start.isoformat(), "due": w.due, "held": w.held, "rate": w.rate}
            for w in digest.trend
        ],
        "recognition": [{"mentor": name, "meetings": n} for name, n in digest.recognition]
        if digest.privacy != "aggregate"
        else None,
        "at_risk_pairs": [
            {
                "mentee": p.mentee,
                "mentor": p.mentor,
                "no_meeting_since": p.since.isoformat() if p.since else None,
            }
            for p in digest.at_risk
        ]
        if digest.privacy != "aggregate"
        else None,
    }
