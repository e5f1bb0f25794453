"""The HR weekly digest: figures as of a moment, last week's for comparison, a 12-week
trend, recognition and the at-risk list; rendered as a neutral message with a chart,
or as JSON with stable keys for BI tools.

`compute_digest` reads only aggregates (storage/reports.py) and, unless the program's
privacy is `aggregate`, the names of at-risk pairs and recognised mentors. It never
reads notes, agenda items, commitments or anyone's individual rating.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.chart import WeekBar, trend_png
from conversations.dates import format_moment
from conversations.digest_policy import ObjectiveTarget
from conversations.messages import Block, Context, Fields, File, Header, Message, Text
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


def _num(value: Figure, pct: bool = False) -> str:
    if value is None:
        return "–"
    if pct:
        return f"{value * 100:.0f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{value:.0f}"


def _delta(digest: Digest, key: str, pct: bool = False) -> str:
    change = digest.change.get(key)
    if change is None:
        return ""
    if pct:
        points = round(change * 100)
        return " (±0 pts)" if points == 0 else f" ({points:+d} pts)".replace("-", "−")
    shown = (
        f"{change:+.1f}"
        if isinstance(change, float) and not change.is_integer()
        else (f"{change:+.0f}")
    )
    if float(shown) == 0:  # no change, or one too small to show (−0.02 reads "±0")
        return " (±0)"
    return f" ({shown.replace('-', '−')})"


def _deltas(digest: Digest, *keys: tuple[str, str]) -> str:
    """Several figures' changes in one bracket, each named: " (+3 held, −1 due)"."""
    parts = [
        f"{shown} {label}" for key, label in keys if (shown := _delta(digest, key).strip(" ()"))
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _fields(d: Digest) -> list[tuple[str, str]]:
    f = d.figures
    steps = [
        f"step {n}: {f[key]}" for n in range(1, 20) if (key := f"lapses.step_{n}") in f and f[key]
    ]
    rows = [
        (
            "Participants",
            f"{f['participants.total']}{_delta(d, 'participants.total')}: "
            f"{f['participants.mentors']} mentors, {f['participants.mentees']} mentees, "
            f"{f['participants.both']} both; {f['participants.waiting']} waiting for a match"
            f"{_delta(d, 'participants.waiting')}; "
            f"{f['participants.new']} new this week{_delta(d, 'participants.new')}",
        ),
        (
            "Pairs",
            f"{f['pairs.active']} active{_delta(d, 'pairs.active')}, {f['pairs.paused']} paused, "
            f"{f['pairs.proposed']} proposed, {f['pairs.completed']} completed, "
            f"{f['pairs.ended']} ended; {f['pairs.started_this_week']} started and "
            f"{f['pairs.ended_this_week']} ended this week",
        ),
        (
            "Meetings (last 7 days)",
            f"{f['meetings.held']} held of {f['meetings.due']} due"
            f"{_deltas(d, ('meetings.held', 'held'), ('meetings.due', 'due'))}; follow-through "
            f"{_num(f['meetings.follow_through_rate'], pct=True)}"
            f"{_delta(d, 'meetings.follow_through_rate', pct=True)}",
        ),
        (
            "Since last meeting",
            f"median {_num(f['meetings.median_days_since_last'])} days"
            f"{_delta(d, 'meetings.median_days_since_last')}",
        ),
        (
            "Time to first meeting",
            f"median {_num(f['meetings.median_days_to_first'])} days"
            f"{_delta(d, 'meetings.median_days_to_first')}; "
            f"{f['meetings.pairs_not_met_yet']} pair(s) not met yet"
            f"{_delta(d, 'meetings.pairs_not_met_yet')}",
        ),
        (
            "Lapsed pairs",
            f"{f['lapses.open']}{_delta(d, 'lapses.open')}"
            + (f" ({', '.join(steps)})" if steps else "")
            + f"; {f['lapses.at_risk']} at risk{_delta(d, 'lapses.at_risk')}; "
            f"{f['lapses.recovered']} recovered this week"
            f"{_delta(d, 'lapses.recovered')}",
        ),
        (
            "Average rating",
            (
                f"{_num(f['ratings.average'])} / 5 from {f['ratings.count']} rating(s)"
                if f["ratings.average"] is not None
                else f"{f['ratings.count']} rating(s): too few to show an average"
            )
            + _delta(d, "ratings.average"),
        ),
    ]
    if d.objective is not None:
        rows.append(
            (
                "Objective",
                f"{d.objective.label}: {_num(f.get('objective.share'), pct=True)} of mentees "
                f"(target {d.objective.share * 100:.0f}%, "
                f"{_num(f.get('objective.progress'), pct=True)} of the way)"
                f"{_delta(d, 'objective.share', pct=True)}",
            )
        )
    return rows


def _people_lines(d: Digest) -> list[str]:
    lines: list[str] = []
    if d.privacy == "aggregate":
        lines.append(
            f"{d.figures['lapses.at_risk']} pair(s) at risk (names are not shown: the program's "
            "privacy setting is aggregate)."
        )
        return lines
    if d.recognition:
        lines.append(
            "Thank you, mentors whose pairs keep meeting: "
            + ", ".join(f"{name} ({n} meetings in 4 weeks)" for name, n in d.recognition)
            + "."
        )
    if d.at_risk:
        lines.append("Pairs at risk (no meeting for a while; someone could offer help):")
        for p in d.at_risk:
            since = f", no meeting since {p.since:%d %b}" if p.since else ""
            lines.append(f"• {p.mentee} & {p.mentor}{since}")
        more = int(d.figures["lapses.at_risk"] or 0) - len(d.at_risk)
        if more > 0:
            lines.append(f"… and {more} more (longest at risk listed first).")
    elif d.figures["lapses.at_risk"] == 0:
        lines.append("No pair is at risk.")
    return lines


def digest_message(digest: Digest, *, chart: bool = True) -> Message:
    """The digest for a channel or a chat: header, figures, names (if allowed), chart."""
    start = format_moment(digest.as_of - WEEK, digest.timezone)
    end = format_moment(digest.as_of, digest.timezone)
    title = f"Mentoring digest: {digest.program_name}"
    period = f"Week {start} – {end}"
    rows = _fields(digest)
    people = _people_lines(digest)
    text = "\n".join([title, period, *(f"{label}: {value}" for label, value in rows), *people])
    blocks: list[Block] = [Header(title), Context(period), Fields(tuple(rows))]
    if people:
        blocks.append(Text("\n".join(people)))
    if chart:
        png = trend_png([WeekBar(w.due, w.held, w.rate) for w in digest.trend])
        blocks.append(
            File(
                "digest-trend.png",
                "image/png",
                base64.b64encode(png).decode("ascii"),
                encoding="base64",
            )
        )
        blocks.append(
            Context(
                "Chart: meetings due (light) and held (dark) per week for 12 weeks; the line is "
                "the follow-through rate."
            )
        )
    blocks.append(Context("Counts only: no private notes, agendas or individual ratings."))
    return Message(text, tuple(blocks))
