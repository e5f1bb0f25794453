"""Follow-through planning: what is pending for a pair and when. Pure; time is passed in.

From a pair, its scheduled meeting and the policy, `plan` lists every step still to do
(agenda prompt, reminder, the mentor's copy of the agenda, check-in, the next lapse
step, resume, renewal, term end) with its time. The earliest becomes `pair.due_at`, so
the sweep (followthrough/sweep.py) reads only pairs with work due. Every message goes
through the outbox under a key naming the pair or meeting, the cycle and the step
(`meeting_key`), so no sweep, replica or retry sends one twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from conversations.dates import start_of_day
from conversations.followthrough.policy import cadence_interval
from conversations.policy import Policy
from storage.models import Meeting, Pair
from storage.states import PairState


class PairView(Protocol):
    """What planning and the messages read of a pair: an ORM `Pair` in a command, a plain
    `DuePair` row in the sweep."""

    @property
    def id(self) -> int: ...
    @property
    def mentee_id(self) -> int: ...
    @property
    def mentor_id(self) -> int: ...
    @property
    def state(self) -> PairState: ...
    @property
    def cadence(self) -> str | None: ...
    @property
    def goals(self) -> str | None: ...
    @property
    def term_end(self) -> date | None: ...
    @property
    def activated_at(self) -> datetime | None: ...
    @property
    def paused_until(self) -> datetime | None: ...
    @property
    def silent_since(self) -> datetime | None: ...
    @property
    def last_meeting_at(self) -> datetime | None: ...
    @property
    def lapse_step(self) -> int: ...
    @property
    def lapse_since(self) -> datetime | None: ...
    @property
    def renewal_asked_at(self) -> datetime | None: ...
    @property
    def agreement_confirmed_at(self) -> datetime | None: ...
    @property
    def agreement_reminded_at(self) -> datetime | None: ...


class MeetingView(Protocol):
    """What planning and the messages read of a meeting (ORM `Meeting` or `DueMeeting`)."""

    @property
    def id(self) -> int: ...
    @property
    def scheduled_at(self) -> datetime: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def agenda_prompted_at(self) -> datetime | None: ...
    @property
    def agenda_reminded_at(self) -> datetime | None: ...
    @property
    def mentor_briefed_at(self) -> datetime | None: ...
    @property
    def checkin_sent_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: str
    index: int = 0  # the ladder step, for `lapse`


def lapse_start(pair: PairView, policy: Policy) -> datetime | None:
    """When silence turns into a lapse: cadence + grace after the last meeting (or start)."""
    since = pair.silent_since or pair.last_meeting_at or pair.activated_at
    if since is None:
        return None
    return since + cadence_interval(pair.cadence, policy.cadence) + policy.follow.lapse_grace


def next_rung(pair: PairView, began: datetime, policy: Policy) -> Step | None:
    """The lapse ladder's next rung, one at a time: an episode starts at the first rung
    (however late the silence is noticed) and climbs at the configured intervals from the
    moment it was detected (`lapse_since`), never several rungs at once."""
    ladder, index = policy.follow.lapse_ladder, pair.lapse_step
    if index >= len(ladder):
        return None
    if index == 0:
        return Step(began + ladder[0].after, "lapse", 0)
    since = pair.lapse_since
    if since is None:  # an episode from before lapse_since was kept: its old timetable
        return Step(began + ladder[index].after, "lapse", index)
    return Step(since + ladder[index].after - ladder[0].after, "lapse", index)


def term_ends_at(pair: PairView, policy: Policy) -> datetime | None:
    """The moment the pair's term completes: the start of its last day, program time."""
    if pair.term_end is None:
        return None
    return start_of_day(pair.term_end, policy.default_timezone)


def plan(pair: PairView, meeting: MeetingView | None, policy: Policy) -> list[Step]:
    """Every step still pending for the pair, earliest first. Pure; time is not read."""
    follow = policy.follow
    steps: list[Step] = []
    if pair.state == PairState.PAUSED:
        return [Step(pair.paused_until, "resume")] if pair.paused_until else []
    if pair.state != PairState.ACTIVE:
        return []
    if (
        follow.agreement_reminder is not None
        and pair.agreement_confirmed_at is None
        and pair.agreement_reminded_at is None
        and pair.activated_at is not None
    ):
        steps.append(Step(pair.activated_at + follow.agreement_reminder, "agreement-reminder"))
    if meeting is not None:
        start = meeting.scheduled_at
        if meeting.agenda_prompted_at is None:
            steps.append(Step(start - follow.agenda_lead, "agenda-prompt"))
        if meeting.agenda_reminded_at is None:
            steps.append(Step(start - follow.agenda_reminder, "agenda-reminder"))
        if follow.mentor_agenda_lead is not None and meeting.mentor_briefed_at is None:
            steps.append(Step(start - follow.mentor_agenda_lead, "mentor-agenda"))
        if meeting.checkin_sent_at is None:
            end = start + timedelta(minutes=meeting.duration_minutes)
            steps.append(Step(end + follow.checkin_after, "checkin"))
    waiting_for_meeting = meeting is not None and meeting.checkin_sent_at is None
    began = lapse_start(pair, policy)
    if began is not None and not waiting_for_meeting:
        rung = next_rung(pair, began, policy)
        if rung is not None:
            at = rung.at
            if meeting is not None and meeting.checkin_sent_at is not None:
                at = max(at, meeting.checkin_sent_at + follow.lapse_grace)
            steps.append(Step(at, "lapse", rung.index))
    term_end = term_ends_at(pair, policy)
    if term_end is not None:
        if pair.renewal_asked_at is None:
            steps.append(Step(term_end - follow.renewal_lead, "renewal"))
        steps.append(Step(term_end, "term-end"))
    return sorted(steps, key=lambda s: s.at)


def next_due(pair: PairView, meeting: MeetingView | None, policy: Policy) -> datetime | None:
    """When the pair's earliest pending step falls (None: nothing planned)."""
    steps = plan(pair, meeting, policy)
    return steps[0].at if steps else None


def meeting_key(kind: str, meeting_id: int, sequence: int, person: int | None = None) -> str:
    """The outbox key of one step for one version (`sequence`) of a meeting."""
    base = f"{kind}:{meeting_id}:{sequence}"
    return base if person is None else f"{base}:{person}"


def meeting_keys(meeting_id: int, sequence: int, pair: PairView) -> list[str]:
    """Every key the sweep may queue for this version of the meeting: when the meeting
    moves or is called off, those still waiting are withdrawn."""
    return [
        meeting_key("agenda", meeting_id, sequence),
        meeting_key("agenda-reminder", meeting_id, sequence),
        meeting_key("mentor-agenda", meeting_id, sequence),
        *(
            meeting_key("checkin", meeting_id, sequence, p)
            for p in (pair.mentee_id, pair.mentor_id)
        ),
    ]


def refresh_due(pair: Pair, meeting: Meeting | None, policy: Policy) -> None:
    """Keep `pair.due_at` (what the sweep's index reads) in step after any change."""
    pair.due_at = next_due(pair, meeting, policy)


def suggest_next(pair: Pair, policy: Policy, now: datetime, tz: str) -> datetime:
    """The next meeting the cadence suggests: one interval after the last (or now), at the
    same local time as the last meeting, else 10:00; always in the future."""
    interval = cadence_interval(pair.cadence, policy.cadence)
    last = pair.last_meeting_at
    base = (last or now) + interval
    local = base.astimezone(ZoneInfo(tz))
    hour, minute = (local.hour, local.minute) if last else (10, 0)
    moment = start_of_day(local.date(), tz).replace(hour=hour, minute=minute)
    while moment <= now:
        moment += interval
    if moment.weekday() >= 5:  # not on a weekend
        moment += timedelta(days=7 - moment.weekday())
    return moment


def suggestion_phrase(moment: datetime, tz: str) -> str:
    """How the suggestion is pre-filled: a form the date parser reads back exactly."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M}"
