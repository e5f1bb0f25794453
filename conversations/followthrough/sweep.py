"""The follow-through sweep: every step `plan` says is due for a pair, done as of `now`.

The due pairs are read as plain rows, changed in memory and written back in a few bulk
statements, and every message goes into one bulk insert into the outbox: a sweep's
round trips do not grow with the number of pairs due. Each step kind has its own small
handler (`_HANDLERS`); a step the handler finds moot (the meeting already passed) is
still marked done so the plan moves on.
"""

from __future__ import annotations

from collections.abc import Callable

from conversations.dates import format_moment
from conversations.followthrough.messages import (
    agenda_prompt,
    agenda_reminder_message,
    agreement_reminder_message,
    checkin_message,
    lapse_message,
    mentor_agenda,
    questions_for,
    renewal_message,
    resume_message,
    term_complete_message,
)
from conversations.followthrough.plan import Step, lapse_start, meeting_key, next_due, plan
from conversations.messages import Message, literal, to_dict
from conversations.partners import partner_of
from conversations.sweeps import DueItem, SweepContext
from conversations.wording import plural
from storage.commitments import open_commitments
from storage.lapses import OpenLapse, due_lapses
from storage.meetings import DueMeeting, agenda_items, due_meetings, mentee_notes
from storage.models import Commitment
from storage.outbox import Outgoing, enqueue_many
from storage.pairs import DuePair, due_pairs, save_sweep
from storage.people import Recipient, recipients
from storage.states import LapseAction, LapseOutcome, PairState


class _Sweep:
    """One sweep of the due pairs: state changes in memory, messages collected, one insert."""

    def __init__(self, ctx: SweepContext) -> None:
        self.ctx = ctx
        self.outgoing: list[Outgoing] = []
        self.items: list[tuple[str, str, int, str]] = []
        self.people: dict[int, Recipient] = {}
        self.lapses: dict[int, OpenLapse] = {}
        self.notes: dict[int, str] = {}
        self.agendas: dict[int, list[str]] = {}
        self.commitments: dict[int, list[Commitment]] = {}

    def tz(self, person_id: int) -> str:
        found = self.people.get(person_id)
        return (found.timezone if found else None) or self.ctx.policy.default_timezone

    def name(self, person_id: int) -> str:
        found = self.people.get(person_id)
        return literal(found.name) if found else "your partner"

    def partner_name(self, pair: DuePair, person_id: int) -> str:
        return self.name(partner_of(pair, person_id))

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
        self.agendas = await agenda_items(ctx.session, ids)
        self.commitments = await open_commitments(ctx.session, ids)
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
        for pair in pairs:
            meeting = meetings.get(pair.id)
            self.advance(pair, meeting)
            pair.due_at = next_due(pair, meeting, ctx.policy)
        await save_sweep(ctx.session, pairs, list(meetings.values()), list(self.lapses.values()))
        new = await enqueue_many(ctx.session, self.outgoing, ctx.now)
        # An at-risk flag is recorded on the pair, not queued: it counts as done here.
        return [
            DueItem(k, kind, pid, text, k in new or kind == "lapse-at-risk")
            for k, kind, pid, text in self.items
        ]

    def advance(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        """Do every step due for the pair, in plan order; the lapse ladder acts once, for
        the highest rung due; the term's end is the last thing a pair does."""
        now = self.ctx.now
        due = [s for s in plan(pair, meeting, self.ctx.policy) if s.at <= now]
        lapses = [s for s in due if s.kind == "lapse"]
        # A person's own pause never freezes a pair's ladder (issue 13): only a paused
        # pair leaves it, and then `plan` has no lapse steps for it.
        for step in due:
            if step.kind == "lapse":
                if step is lapses[-1]:
                    self.lapse(pair, lapses)
                continue
            handler = _HANDLERS.get(step.kind)
            if handler is not None:
                handler(self, pair, meeting)
            if step.kind == "term-end":
                return

    # One handler per step kind (see `plan`); each marks its step done on the row.

    def on_resume(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        pair.state, pair.paused_until = PairState.ACTIVE, None
        pair.silent_since = self.ctx.now
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.partner_name(pair, person)
            self.send(
                person,
                f"pair-resumed:{pair.id}:{self.ctx.now:%Y%m%d%H%M}:{person}",
                "pair-resumed",
                resume_message(pair.id, partner),
                f"pause with {partner} over; {self.name(person)} asked for a date",
            )

    def on_agenda_prompt(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        if meeting is None:
            return
        now, follow = self.ctx.now, self.ctx.policy.follow
        meeting.agenda_prompted_at = now
        if now >= meeting.scheduled_at:
            return
        agenda = self.agendas.get(pair.id, [])
        self.prompt(pair, meeting, agenda)
        if agenda and follow.mentor_agenda_lead is None and meeting.mentor_briefed_at is None:
            meeting.mentor_briefed_at = now
            self.brief(pair, meeting, agenda)  # set before the meeting was
        if meeting.scheduled_at - follow.agenda_reminder <= now:
            meeting.agenda_reminded_at = now  # the prompt already asks

    def on_agenda_reminder(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        if meeting is None or meeting.agenda_reminded_at is not None:
            return  # the prompt just went out, and asked already
        now = self.ctx.now
        meeting.agenda_reminded_at = now
        if now >= meeting.scheduled_at or self.agendas.get(pair.id):
            return
        mentee = pair.mentee_id
        when = format_moment(meeting.scheduled_at, self.tz(mentee))
        self.send(
            mentee,
            meeting_key("agenda-reminder", meeting.id, meeting.sequence),
            "agenda-reminder",
            agenda_reminder_message(pair.id, self.name(pair.mentor_id), when),
            f"agenda reminder to {self.name(mentee)} (no agenda yet for {when})",
        )

    def on_mentor_agenda(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        if meeting is None:
            return
        meeting.mentor_briefed_at = self.ctx.now
        if self.ctx.now < meeting.scheduled_at:
            self.brief(pair, meeting, self.agendas.get(pair.id, []))

    def on_checkin(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        if meeting is None:
            return
        meeting.checkin_sent_at = self.ctx.now
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.partner_name(pair, person)
            self.send(
                person,
                meeting_key("checkin", meeting.id, meeting.sequence, person),
                "checkin",
                checkin_message(pair, meeting, partner, self.tz(person)),
                f"“did you meet?” to {self.name(person)} (meeting with {partner})",
            )

    def on_renewal(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        assert pair.term_end is not None
        pair.renewal_asked_at = self.ctx.now
        for person in (pair.mentee_id, pair.mentor_id):
            self.send(
                person,
                f"renewal:{pair.id}:{pair.term_end.isoformat()}:{person}",
                "renewal",
                renewal_message(pair.id, self.partner_name(pair, person), pair.term_end),
                f"renewal question to {self.name(person)} (term ends {pair.term_end})",
            )

    def on_agreement_reminder(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        pair.agreement_reminded_at = self.ctx.now
        for person, agreed in (
            (pair.mentee_id, pair.mentee_agreed_at),
            (pair.mentor_id, pair.mentor_agreed_at),
        ):
            if agreed is not None:
                continue
            partner = self.partner_name(pair, person)
            self.send(
                person,
                f"agreement-reminder:{pair.id}:{person}",
                "agreement-reminder",
                agreement_reminder_message(pair.id, partner),
                f"agreement reminder to {self.name(person)} (not yet agreed with {partner})",
            )

    def on_term_end(self, pair: DuePair, meeting: DueMeeting | None) -> None:
        now = self.ctx.now
        pair.state, pair.ended_at, pair.end_reason = PairState.COMPLETED, now, "term completed"
        pair.next_meeting_at = None
        lapse = self.lapses.get(pair.id)
        if lapse is not None:
            lapse.closed_at, lapse.outcome = now, LapseOutcome.ENDED
        for person in (pair.mentee_id, pair.mentor_id):
            partner = self.partner_name(pair, person)
            self.send(
                person,
                f"term-complete:{pair.id}:{person}",
                "term-complete",
                term_complete_message(pair.id, partner, mentee=person == pair.mentee_id),
                f"term complete for {self.name(person)} (with {partner})",
            )

    def prompt(self, pair: DuePair, meeting: DueMeeting, agenda: list[str]) -> None:
        mentee, mentor = pair.mentee_id, pair.mentor_id
        msg = agenda_prompt(
            pair,
            meeting,
            self.name(mentor),
            self.tz(mentee),
            agenda,
            self.commitments.get(pair.id, []),
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

    def brief(self, pair: DuePair, meeting: DueMeeting, agenda: list[str]) -> None:
        mentor = pair.mentor_id
        msg = mentor_agenda(pair, meeting, self.name(pair.mentee_id), self.tz(mentor), agenda)
        self.send(
            mentor,
            meeting_key("mentor-agenda", meeting.id, meeting.sequence),
            "mentor-agenda",
            msg,
            f"agenda ({plural(len(agenda), 'point')}) to mentor {self.name(mentor)}",
        )

    def lapse(self, pair: DuePair, due: list[Step]) -> None:
        """The rung due acts (plan offers one at a time, so a late sweep never skips one;
        an at-risk flag among several still counts); the lapse row opens on the first."""
        now, ladder = self.ctx.now, self.ctx.policy.follow.lapse_ladder
        began = lapse_start(pair, self.ctx.policy)
        assert began is not None
        lapse = self.lapses.get(pair.id)
        if lapse is None:  # the episode begins now, on its first rung
            lapse = OpenLapse(pair.id, pair.program_id, pair.lapse_cycle, now)
            self.lapses[pair.id] = lapse
        if pair.lapse_step == 0 or pair.lapse_since is None:
            pair.lapse_since = now
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
            partner = self.partner_name(pair, person)
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


_Handler = Callable[[_Sweep, DuePair, DueMeeting | None], None]
# Every step kind `plan` yields except `lapse`, which acts once for all its rungs due.
_HANDLERS: dict[str, _Handler] = {
    "resume": _Sweep.on_resume,
    "agreement-reminder": _Sweep.on_agreement_reminder,
    "agenda-prompt": _Sweep.on_agenda_prompt,
    "agenda-reminder": _Sweep.on_agenda_reminder,
    "mentor-agenda": _Sweep.on_mentor_agenda,
    "checkin": _Sweep.on_checkin,
    "renewal": _Sweep.on_renewal,
    "term-end": _Sweep.on_term_end,
}


async def sweep_follow_through(ctx: SweepContext) -> list[DueItem]:
    """Agenda prompts, reminders, check-ins, lapse steps, resumes, renewals and term ends due."""
    return await _Sweep(ctx).run()
