"""The follow-through part of the program's policy: meeting rhythm, agenda timing and
the lapse ladder, and the `meetings`, `term` and `lapse` sections of app.yaml it is built
from (bot/config.py composes them). The defaults are the product's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Annotated, Any

from pydantic import Field, field_validator

from conversations.config_fields import (
    DURATION_SCHEMA,
    Check,
    Duration,
    OneOf,
    Section,
    Whole,
    parse_duration,
    problem,
    written,
)
from storage.states import LapseAction

CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}
CADENCE_WORDS = {"weekly": "every week", "biweekly": "every two weeks", "monthly": "every month"}
# What each step of the lapse ladder does, in the order a ladder normally climbs.
LAPSE_ACTIONS = tuple(action.value for action in LapseAction)


@dataclass(frozen=True)
class LapseStep:
    """`after` is counted from the moment the pair became lapsed (cadence + grace)."""

    after: timedelta
    action: LapseAction


DEFAULT_LADDER = (
    LapseStep(timedelta(0), LapseAction.NUDGE_MENTEE),
    LapseStep(timedelta(days=4), LapseAction.NUDGE_BOTH),
    LapseStep(timedelta(days=8), LapseAction.NUDGE_MENTOR),
    LapseStep(timedelta(days=14), LapseAction.AT_RISK),
    LapseStep(timedelta(days=21), LapseAction.END_OR_REMATCH),
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


class MentorAgenda(Check):
    """`when_set` (None: as soon as the mentee sets it) or a lead time such as 12h."""

    def check(self, value: Any) -> timedelta | None:
        if value == "when_set" or value is None:
            return None
        found = value if isinstance(value, timedelta) else parse_duration(value)
        if found is None:
            raise problem(f"must be when_set or a lead time like 12h (got {value!r}).")
        return found

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"const": "when_set"}, DURATION_SCHEMA]}


class MeetingsSection(Section):
    """Meetings: their length, and when the mentee's agenda prompt, its one reminder and
    the "Did you meet?" check-in go out."""

    length: Annotated[timedelta, Duration("10m", "4h")] = written(
        "45m", description="How long a meeting lasts (10m to 4h)."
    )
    agenda_lead: Annotated[timedelta, Duration()] = written(
        "24h", description="How long before a meeting the mentee is asked for an agenda."
    )
    agenda_reminder: Annotated[timedelta, Duration()] = written(
        "2h", description="How long before a meeting the one reminder goes out (no agenda yet)."
    )
    mentor_agenda: Annotated[timedelta | None, MentorAgenda()] = written(
        "when_set",
        description="When the mentor gets the agenda: when_set, or a lead time such as 12h.",
    )
    checkin_after: Annotated[timedelta, Duration()] = written(
        "1h", description='How long after a meeting\'s end "Did you meet?" is asked.'
    )


class TermSection(Section):
    """How long a pairing runs before it is renewed or completes."""

    months: Annotated[int, Whole(1, 24)] = Field(6, description="The term, in months.")
    renewal_notice: Annotated[timedelta, Duration()] = written(
        "14d", description="How long before the term's end renewal is offered."
    )
    agreement_reminder: Annotated[timedelta, Duration()] | None = Field(
        None,
        description="One reminder to whoever has not agreed yet, this long after the match "
        "(none if unset).",
    )


class LadderStep(Section):
    after: Annotated[timedelta, Duration()] = Field(
        description="How long after the pair lapsed this step runs."
    )
    step: Annotated[str, OneOf(LAPSE_ACTIONS, noun="step")] = Field(
        description="What it does: " + ", ".join(LAPSE_ACTIONS) + "."
    )


class LapseSection(Section):
    """A pair that has not met for cadence + grace has lapsed; each ladder step runs this
    long after."""

    grace: Annotated[timedelta, Duration()] = written(
        "3d", description="How long past the cadence a pair may go unmet before it lapses."
    )
    ladder: tuple[LadderStep, ...] | None = Field(
        None, description="The steps, each later than the one before (default: the product's)."
    )

    @field_validator("ladder", mode="before")
    @classmethod
    def _a_list(cls, raw: Any) -> Any:
        if raw is not None and (not isinstance(raw, list) or not raw):
            raise problem(
                "must be a list like [{after: 0d, step: nudge_mentee}, "
                "{after: 4d, step: nudge_both}]."
            )
        return raw

    @field_validator("ladder")
    @classmethod
    def _climbing(cls, ladder: tuple[LadderStep, ...] | None) -> tuple[LadderStep, ...] | None:
        for number, (before, step) in enumerate(pairwise(ladder or ()), 2):
            if step.after <= before.after:
                raise problem("after must be later than the step before it.", step=number)
        return ladder


def follow_through(
    meetings: MeetingsSection, term: TermSection, lapse: LapseSection
) -> FollowThrough:
    """The runtime policy from the three validated sections."""
    ladder: tuple[LapseStep, ...] = DEFAULT_LADDER
    if lapse.ladder is not None:
        ladder = tuple(LapseStep(s.after, LapseAction(s.step)) for s in lapse.ladder)
    return FollowThrough(
        term_months=term.months,
        meeting_length=meetings.length,
        agenda_lead=meetings.agenda_lead,
        agenda_reminder=meetings.agenda_reminder,
        mentor_agenda_lead=meetings.mentor_agenda,
        checkin_after=meetings.checkin_after,
        lapse_grace=lapse.grace,
        lapse_ladder=ladder,
        renewal_lead=term.renewal_notice,
        agreement_reminder=term.agreement_reminder,
    )
