"""The follow-through engine: what is pending for a pair and when, and the sweeper that
does it as of `now`.

`plan` is pure: from a pair, its scheduled meeting and the policy it lists every
step still to do (agenda prompt, reminder, the mentor's copy of the agenda,
check-in, the next lapse step, resume, renewal, term end) with its time. The
earliest becomes `pair.due_at`, so the sweep reads only pairs with work due.
Every message goes through the outbox under a key naming the pair or meeting,
the cycle and the step, so no sweep, replica or retry sends one twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from conversations.dates import format_moment, start_of_day
from conversations.follow_policy import cadence_interval
from conversations.ics import Invite, to_ics
from conversations.messages import (
    Block,
    Button,
    Buttons,
    Context,
    File,
    Header,
    Message,
    Text,
    to_dict,
)
from conversations.policy import Policy
from conversations.sweeps import DueItem, SweepContext
from storage.commitments import open_commitments
from storage.lapses import OpenLapse, due_lapses
from storage.meetings import DueMeeting, agenda_items, due_meetings, mentee_notes
from storage.models import Commitment, Meeting, Pair
from storage.outbox import Outgoing, enqueue_many
from storage.pairs import DuePair, due_pairs, save_sweep
from storage.people import Recipient, recipients
from storage.states import LapseAction, LapseOutcome, PairState

COACHING_QUESTIONS = (
    "What went well since we last met, and what got in the way?",
    "Which decision are you facing that a second opinion would help with?",
    "What would you like to be able to do in six months that you can't today?",
    "Where did you feel stuck this month, and what did you try?",
    "What feedback have you received lately, and what do you make of it?",
    "Who do you admire at work, and what do they do differently?",
    "What is one thing you want to leave this meeting with?",
)


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
        # Every rung still ahead: a sweep that comes late acts once, for the highest one due.
        for index in range(pair.lapse_step, len(follow.lapse_ladder)):
            at = began + follow.lapse_ladder[index].after
            if meeting is not None and meeting.checkin_sent_at is not None:
                at = max(at, meeting.checkin_sent_at + follow.lapse_grace)
            steps.append(Step(at, "lapse", index))
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


def invite_file(
    meeting: Meeting, mentee: str, mentor: str, program: str, now: datetime, *, cancelled: bool
) -> File:
    invite = Invite(
        uid=f"meeting-{meeting.id}@mentorbot",
        start=meeting.scheduled_at,
        duration=timedelta(minutes=meeting.duration_minutes),
        summary=f"Mentoring: {mentee} and {mentor}",
        description=f"{program}. {mentee} runs the meeting with their agenda.",
        sequence=meeting.sequence,
        cancelled=cancelled,
    )
    return File("mentoring.ics", "text/calendar", to_ics(invite, now))


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def agenda_prompt(
    pair: PairView,
    meeting: MeetingView,
    partner: str,
    tz: str,
    agenda: list[str],
    commitments: list[Commitment],
    questions: tuple[str, ...],
    own_note: str | None = None,
) -> Message:
    """To the mentee before a meeting: they run it, so they set what it is about."""
    when = format_moment(meeting.scheduled_at, tz)
    mine = [c.text for c in commitments if c.person_id == pair.mentee_id]
    lines = [f"Your meeting with {partner} is on {when}. You run it: what do you want to cover?"]
    blocks: list[Block] = [Header(f"Meeting with {partner}"), Text(lines[0])]
    if pair.goals:
        lines.append(f"Your goals together: {pair.goals}")
        blocks.append(Text(f"*Your goals together*\n{pair.goals}"))
    if mine:
        lines.append("Your open commitments:\n" + _numbered(mine))
        blocks.append(Text("*Your open commitments*\n" + "\n".join(f"• {c}" for c in mine)))
    if agenda:
        lines.append("Agenda so far:\n" + _numbered(agenda))
        blocks.append(Text("*Agenda so far*\n" + "\n".join(f"• {a}" for a in agenda)))
    if own_note:
        lines.append(f"Your private note from last time (only you see it): {own_note}")
        blocks.append(Context(f"Your private note from last time (only you see it): {own_note}"))
    lines.append("Questions to think about:\n" + "\n".join(f"- {q}" for q in questions))
    blocks.append(Text("*Questions to think about*\n" + "\n".join(f"• {q}" for q in questions)))
    lines.append("Add a point with `/mentor agenda add TEXT`.")
    blocks.append(
        Buttons(
            (
                Button("Set the agenda", value=f"agenda edit pair:{pair.id}", style="primary"),
                Button("Reschedule", value=f"schedule pair:{pair.id}"),
            )
        )
    )
    blocks.append(Context("Your mentor sees the agenda once you set it."))
    return Message("\n".join(lines), tuple(blocks))


def questions_for(meeting: MeetingView) -> tuple[str, ...]:
    """Three questions, rotating from meeting to meeting."""
    start = (meeting.id * 3) % len(COACHING_QUESTIONS)
    return tuple(COACHING_QUESTIONS[(start + i) % len(COACHING_QUESTIONS)] for i in range(3))


def mentor_agenda(
    pair: PairView, meeting: MeetingView, mentee: str, tz: str, agenda: list[str]
) -> Message:
    when = format_moment(meeting.scheduled_at, tz)
    if agenda:
        text = f"{mentee}'s agenda for your meeting on {when}:\n" + _numbered(agenda)
        body = f"*{mentee}'s agenda* for your meeting on {when}\n" + "\n".join(
            f"• {a}" for a in agenda
        )
    else:
        text = f"{mentee} hasn't set an agenda yet for your meeting on {when}."
        body = text
    return Message(
        text,
        (Text(body), Buttons((Button("Reschedule", value=f"schedule pair:{pair.id}"),))),
    )


def checkin_message(pair: PairView, meeting: MeetingView, partner: str, tz: str) -> Message:
    when = format_moment(meeting.scheduled_at, tz)
    text = f"Did you meet {partner} ({when})?"
    return Message(
        text,
        (
            Text(text),
            Buttons(
                (
                    Button("Yes", value=f"met pair:{pair.id}", style="primary"),
                    Button("Reschedule", value=f"schedule pair:{pair.id}"),
                    Button("Skip this time", value=f"skip pair:{pair.id}"),
                )
            ),
        ),
    )


def lapse_message(pair: PairView, partner: str, tz: str, since: datetime, final: bool) -> Message:
    when = f"{since.astimezone(ZoneInfo(tz)):%a %d %b}"
    if final:
        text = (
            f"You and {partner} haven't met since {when}. Shall we end this pairing, or end it "
            "and find you someone new? Or pick a date after all."
        )
        buttons = (
            Button("Schedule a meeting", value=f"schedule pair:{pair.id}", style="primary"),
            Button("End", value=f"end pair:{pair.id}", style="danger"),
            Button("End and rematch me", value=f"end pair:{pair.id} rematch"),
        )
    else:
        text = (
            f"You and {partner} haven't met since {when}. A short meeting keeps things going: "
            "pick a date, or pause for a while."
        )
        buttons = (
            Button("Reschedule", value=f"schedule pair:{pair.id}", style="primary"),
            Button("Pause until a date", value=f"pause pair:{pair.id}"),
            Button("End", value=f"end pair:{pair.id}", style="danger"),
        )
    return Message(text, (Text(text), Buttons(buttons)))


class _Sweep:
    """One sweep of the due pairs: state changes in memory, messages collected, one insert."""

    def __init__(self, ctx: SweepContext) -> None:
        self.ctx = ctx
        self.outgoing: list[Outgoing] = []
        self.items: list[tuple[str, str, int, str]] = []
        self.people: dict[int, Recipient] = {}
        self.lapses: dict[int, OpenLapse] = {}
        self.notes: dict[int, str] = {}

    def tz(self, person_id: int) -> str:
        found = self.people.get(person_id)
        return (found.timezone if found else None) or self.ctx.policy.default_timezone

    def name(self, person_id: int) -> str:
        found = self.people.get(person_id)
        return found.name if found else "your partner"

    def away(self, person_id: int) -> bool:
        found = self.people.get(person_id)
        return found is not None and found.away

    def send(self, person_id: int, key: str, kind: str, msg: Message, summary: str) -> None:
        found = self.people.get(person_id)
        if found is None or found.platform is None or found.away:
            return
        self.outgoing.append(Outgoing(key, kind, person_id, found.platform, to_dict(msg)))
        self.items.append((key, kind, person_id, summary))

    async def run(self) -> list[DueItem]:
        ctx = self.ctx
        pairs = await due_pairs(ctx.session, ctx.program.id, ctx.now)
        if not pairs:
            return []
        ids = [p.id for p in pairs]
        meetings = await due_meetings(ctx.session, ids)
        agendas = await agenda_items(ctx.session, ids)
        commitments = await open_commitments(ctx.session, ids)
        self.lapses = await due_lapses(ctx.session, ids)
        self.notes = await mentee_notes(
            ctx.session,
            {
                p.id: p.mentee_id
                for p in pairs
                if (m := meetings.get(p.id)) and not m.agenda_prompted_at
            },
        )
        self.people = await recipients(
            ctx.session, [x for p in pairs for x in (p.mentee_id, p.mentor_id)], ctx.program.id
        )
        # Plain rows changed in memory, written back in a few bulk statements: a sweep's
        # round trips do not grow with the number of pairs due.
        for pair in pairs:
            meeting = meetings.get(pair.id)
            self.advance(pair, meeting, agendas.get(pair.id, []), commitments)
            pair.due_at = next_due(pair, meeting, ctx.policy)
        await save_sweep(ctx.session, pairs, list(meetings.values()), list(self.lapses.values()))
        new = await enqueue_many(ctx.session, self.outgoing, ctx.now)
        # An at-risk flag is recorded on the pair, not queued: it counts as done here.
        return [
            DueItem(k, kind, pid, text, k in new or kind == "lapse-at-risk")
            for k, kind, pid, text in self.items
        ]

    def advance(
        self,
        pair: DuePair,
        meeting: DueMeeting | None,
        agenda: list[str],
        commitments: dict[int, list[Commitment]],
    ) -> None:
        now, policy = self.ctx.now, self.ctx.policy
        due = [s for s in plan(pair, meeting, policy) if s.at <= now]
        if any(self.away(p) for p in (pair.mentee_id, pair.mentor_id)):
            # Someone is paused or left: no nudges, and silence is not counted against the
            # pair; the clock restarts from now (meeting messages to the other still go).
            if any(s.kind == "lapse" for s in due):
                pair.silent_since = now
            due = [s for s in due if s.kind != "lapse"]
        lapse_steps = [s for s in due if s.kind == "lapse"]
        for step in due:
            if step.kind == "resume":
                self.resume(pair)
            elif step.kind == "agenda-prompt" and meeting is not None:
                meeting.agenda_prompted_at = now
                if now < meeting.scheduled_at:
                    self.prompt(pair, meeting, agenda, commitments.get(pair.id, []))
                    if (
                        agenda
                        and policy.follow.mentor_agenda_lead is None
                        and meeting.mentor_briefed_at is None
                    ):
                        meeting.mentor_briefed_at = now
                        self.brief(pair, meeting, agenda)  # set before the meeting was
                    if meeting.scheduled_at - policy.follow.agenda_reminder <= now:
                        meeting.agenda_reminded_at = now  # the prompt already asks
            elif (
                step.kind == "agenda-reminder"
                and meeting is not None
                and meeting.agenda_reminded_at is None  # unless the prompt just went out
            ):
                meeting.agenda_reminded_at = now
                if now < meeting.scheduled_at and not agenda:
                    self.remind(pair, meeting)
            elif step.kind == "mentor-agenda" and meeting is not None:
                meeting.mentor_briefed_at = now
                if now < meeting.scheduled_at:
                    self.brief(pair, meeting, agenda)
            elif step.kind == "checkin" and meeting is not None:
                meeting.checkin_sent_at = now
                self.checkin(pair, meeting)
            elif step.kind == "lapse" and step is lapse_steps[-1]:
                self.lapse(pair, lapse_steps, self.lapses.get(pair.id))
            elif step.kind == "renewal":
                pair.renewal_asked_at = now
                self.renewal(pair)
            elif step.kind == "agreement-reminder":
                pair.agreement_reminded_at = now
                self.agreement_reminder(pair)
            elif step.kind == "term-end":
                self.complete(pair, self.lapses.get(pair.id))
                return

    def prompt(
        self,
        pair: DuePair,
        meeting: DueMeeting,
        agenda: list[str],
        commitments: list[Commitment],
    ) -> None:
        mentee, mentor = pair.mentee_id, pair.mentor_id
        msg = agenda_prompt(
            pair,
            meeting,
            self.name(mentor),
            self.tz(mentee),
            agenda,
            commitments,
            questions_for(meeting),
            self.notes.get(pair.id),
        )
        when = format_moment(meeting.scheduled_at, self.tz(mentee))
        self.send(
            mentee,
            meeting_key("agenda", meeting.id, meeting.sequence),
            "agenda-prompt",
            msg,
            f"agenda prompt to {self.name(mentee)} (meeting with {self.name(mentor)}, {when})",
        )

    def remind(self, pair: DuePair, meeting: DueMeeting) -> None:
        mentee, mentor = pair.mentee_id, pair.mentor_id
        when = format_moment(meeting.scheduled_at, self.tz(mentee))
        text = (
            f"Your meeting with {self.name(mentor)} is at {when} and has no agenda yet. "
            "Two or three points are enough."
        )
        msg = Message(
            text,
            (
                Text(text),
                Buttons(
                    (
                        Button(
                            "Set the agenda", value=f"agenda edit pair:{pair.id}", style="primary"
                        ),
                    )
                ),
            ),
        )
        self.send(
            mentee,
            meeting_key("agenda-reminder", meeting.id, meeting.sequence),
            "agenda-reminder",
            msg,
            f"agenda reminder to {self.name(mentee)} (no agenda yet for {when})",
        )

    def brief(self, pair: DuePair, meeting: DueMeeting, agenda: list[str]) -> None:
        mentor = pair.mentor_id
        msg = mentor_agenda(pair, meeting, self.name(pair.mentee_id), self.tz(mentor), agenda)
        self.send(
            mentor,
            meeting_key("mentor-agenda", meeting.id, meeting.sequence),
            "mentor-agenda",
            msg,
            f"agenda ({len(agenda)} point(s)) to mentor {self.name(mentor)}",
        )

    def checkin(self, pair: DuePair, meeting: DueMeeting) -> None:
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.name(pair.mentor_id if person == pair.mentee_id else pair.mentee_id)
            self.send(
                person,
                meeting_key("checkin", meeting.id, meeting.sequence, person),
                "checkin",
                checkin_message(pair, meeting, partner, self.tz(person)),
                f"“did you meet?” to {self.name(person)} (meeting with {partner})",
            )

    def lapse(self, pair: DuePair, due: list[Step], lapse: OpenLapse | None) -> None:
        now, ladder = self.ctx.now, self.ctx.policy.follow.lapse_ladder
        began = lapse_start(pair, self.ctx.policy)
        assert began is not None
        if lapse is None:
            lapse = OpenLapse(pair.id, pair.program_id, pair.lapse_cycle, began)
            self.lapses[pair.id] = lapse
        step = due[-1]
        action = ladder[step.index].action
        skipped = [ladder[s.index].action for s in due[:-1]]
        if LapseAction.AT_RISK in (action, *skipped) and pair.at_risk_since is None:
            pair.at_risk_since = now
            lapse.at_risk_at = now
        pair.lapse_step = step.index + 1
        lapse.step = pair.lapse_step
        since = pair.last_meeting_at or pair.activated_at or began
        targets = {
            LapseAction.NUDGE_MENTEE: (pair.mentee_id,),
            LapseAction.NUDGE_BOTH: (pair.mentee_id, pair.mentor_id),
            LapseAction.NUDGE_MENTOR: (pair.mentor_id,),
            LapseAction.END_OR_REMATCH: (pair.mentee_id, pair.mentor_id),
        }.get(action, ())
        base = f"lapse:{pair.id}:{pair.lapse_cycle}:{pair.lapse_step}"
        for person in targets:
            partner = self.name(pair.mentor_id if person == pair.mentee_id else pair.mentee_id)
            msg = lapse_message(
                pair, partner, self.tz(person), since, action == LapseAction.END_OR_REMATCH
            )
            role = "mentee" if person == pair.mentee_id else "mentor"
            self.send(
                person,
                base if len(targets) == 1 else f"{base}:{role}",
                f"lapse-{action.replace('_', '-')}",
                msg,
                f"lapse step {pair.lapse_step} ({action.replace('_', ' ')}) to "
                f"{self.name(person)}: no meeting with {partner} since {since:%d %b}",
            )
        if action == LapseAction.AT_RISK:
            self.items.append(
                (
                    base,
                    "lapse-at-risk",
                    pair.mentee_id,
                    f"pair {self.name(pair.mentee_id)}–{self.name(pair.mentor_id)} flagged at risk "
                    "for the digest (no message sent)",
                )
            )

    def resume(self, pair: DuePair) -> None:
        pair.state, pair.paused_until = PairState.ACTIVE, None
        pair.silent_since = self.ctx.now
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.name(pair.mentor_id if person == pair.mentee_id else pair.mentee_id)
            text = f"Your pause with {partner} is over. Time to pick a date for your next meeting."
            msg = Message(
                text,
                (
                    Text(text),
                    Buttons(
                        (Button("Schedule", value=f"schedule pair:{pair.id}", style="primary"),)
                    ),
                ),
            )
            self.send(
                person,
                f"pair-resumed:{pair.id}:{self.ctx.now:%Y%m%d%H%M}:{person}",
                "pair-resumed",
                msg,
                f"pause with {partner} over; {self.name(person)} asked for a date",
            )

    def agreement_reminder(self, pair: DuePair) -> None:
        waiting = [
            person
            for person, agreed in (
                (pair.mentee_id, pair.mentee_agreed_at),
                (pair.mentor_id, pair.mentor_agreed_at),
            )
            if agreed is None
        ]
        for person in waiting:
            partner = self.name(pair.mentor_id if person == pair.mentee_id else pair.mentee_id)
            text = (
                f"Your mentoring agreement with {partner} is still waiting for your OK. "
                "Agree to the terms, or change them: then you can pick your first date."
            )
            buttons = (
                Button("I agree", value=f"agreement agree pair:{pair.id}", style="primary"),
                Button("Change terms", value=f"agreement edit pair:{pair.id}"),
            )
            self.send(
                person,
                f"agreement-reminder:{pair.id}:{person}",
                "agreement-reminder",
                Message(text, (Text(text), Buttons(buttons))),
                f"agreement reminder to {self.name(person)} (not yet agreed with {partner})",
            )

    def renewal(self, pair: DuePair) -> None:
        assert pair.term_end is not None
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.name(pair.mentor_id if person == pair.mentee_id else pair.mentee_id)
            text = (
                f"Your mentoring term with {partner} ends on {pair.term_end:%a %d %b %Y}. "
                "Renew for another term? If not, nothing to do: it ends on that day."
            )
            msg = Message(
                text,
                (
                    Text(text),
                    Buttons((Button("Renew", value=f"renew pair:{pair.id}", style="primary"),)),
                ),
            )
            self.send(
                person,
                f"renewal:{pair.id}:{pair.term_end.isoformat()}:{person}",
                "renewal",
                msg,
                f"renewal question to {self.name(person)} (term ends {pair.term_end})",
            )

    def complete(self, pair: DuePair, lapse: OpenLapse | None) -> None:
        now = self.ctx.now
        pair.state, pair.ended_at, pair.end_reason = PairState.COMPLETED, now, "term completed"
        pair.next_meeting_at = None
        if lapse is not None:
            lapse.closed_at, lapse.outcome = now, LapseOutcome.ENDED
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.name(pair.mentor_id if person == pair.mentee_id else pair.mentee_id)
            text = f"Your mentoring term with {partner} is complete. Thank you for your time!"
            buttons = [Button("Give feedback", value=f"end pair:{pair.id}")]
            if person == pair.mentee_id:
                text += " Would you like to pass it on and mentor someone yourself?"
                buttons.insert(0, Button("Become a mentor", value="join both", style="primary"))
            self.send(
                person,
                f"term-complete:{pair.id}:{person}",
                "term-complete",
                Message(text, (Text(text), Buttons(tuple(buttons)))),
                f"term complete for {self.name(person)} (with {partner})",
            )


async def sweep_follow_through(ctx: SweepContext) -> list[DueItem]:
    """Agenda prompts, reminders, check-ins, lapse steps, resumes, renewals and term ends due."""
    return await _Sweep(ctx).run()
