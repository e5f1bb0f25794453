"""The follow-through part of the program's policy: meeting rhythm, agenda timing and
the lapse ladder. bot/config.py builds it from app.yaml; the defaults are the product's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}
CADENCE_WORDS = {"weekly": "every week", "biweekly": "every two weeks", "monthly": "every month"}
# What each step of the lapse ladder does, in the order a ladder normally climbs.
LAPSE_ACTIONS = ("nudge_mentee", "nudge_both", "nudge_mentor", "at_risk", "end_or_rematch")


@dataclass(frozen=True)
class LapseStep:
    """`after` is counted from the moment the pair became lapsed (cadence + grace)."""

    after: timedelta
    action: str


DEFAULT_LADDER = (
    LapseStep(timedelta(0), "nudge_mentee"),
    LapseStep(timedelta(days=4), "nudge_both"),
    LapseStep(timedelta(days=8), "nudge_mentor"),
    LapseStep(timedelta(days=14), "at_risk"),
    LapseStep(timedelta(days=21), "end_or_rematch"),
)


@dataclass(frozen=True)
class FollowThrough:
    term_months: int = 6
    meeting_length: timedelta = timedelta(minutes=45)
    agenda_lead: timedelta = timedelta(hours=24)
    agenda_reminder: timedelta = timedelta(hours=2)
    # None: the mentor gets the agenda as soon as the mentee sets it; else this long before.
    mentor_agenda_lead: timedelta | None = None
    checkin_after: timedelta = timedelta(hours=1)
    lapse_grace: timedelta = timedelta(days=3)
    lapse_ladder: tuple[LapseStep, ...] = DEFAULT_LADDER
    renewal_lead: timedelta = timedelta(days=14)
    # One reminder to whoever has not agreed yet, this long after the pair became active;
    # None: no reminder (the shipped app.yaml sets 3d).
    agreement_reminder: timedelta | None = None


def cadence_interval(cadence: str | None, default: str) -> timedelta:
    return timedelta(days=CADENCE_DAYS.get(cadence or default, CADENCE_DAYS[default]))
