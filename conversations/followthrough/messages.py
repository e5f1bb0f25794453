"""What follow-through tells people: the agenda prompt and reminder, the mentor's copy of
the agenda, "did you meet?", the lapse nudges, the end of a pause, the agreement
reminder, the renewal question, the end of a term, the agreement's terms, and the .ics
invite.

Pure: names, zones and times come in, a neutral `Message` goes out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.dates import format_moment
from conversations.followthrough.ics import Invite, Party, bot_organizer, to_ics
from conversations.followthrough.plan import MeetingView, PairView
from conversations.followthrough.policy import CADENCE_WORDS
from conversations.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Fields,
    File,
    Header,
    Message,
    Text,
    literal,
)
from storage.models import Commitment, Meeting, Pair, Program
from storage.states import MeetingStatus

COACHING_QUESTIONS = (
    "What went well since we last met, and what got in the way?",
    "Which decision are you facing that a second opinion would help with?",
    "What would you like to be able to do in six months that you can't today?",
    "Where did you feel stuck this month, and what did you try?",
    "What feedback have you received lately, and what do you make of it?",
    "Who do you admire at work, and what do they do differently?",
    "What is one thing you want to leave this meeting with?",
)


def invite_file(
    meeting: Meeting,
    mentee: Party,
    mentor: Party,
    program: Program,
    now: datetime,
    *,
    cancelled: bool,
) -> File:
    """The meeting's .ics: organised by the bot, both people invited (see ics.py). Once
    held, it shows when the meeting took place (a meeting held early frees its slot)."""
    invite = Invite(
        uid=meeting.uid,
        start=meeting.held_at
        if meeting.status == MeetingStatus.HELD and meeting.held_at
        else meeting.scheduled_at,
        duration=timedelta(minutes=meeting.duration_minutes),
        summary=f"Mentoring: {mentee.name} and {mentor.name}",
        description=f"{program.name}. {mentee.name} runs the meeting with their agenda.",
        sequence=meeting.sequence,
        cancelled=cancelled,
        organizer=bot_organizer(program.slug, program.name),
        attendees=(mentee, mentor),
    )
    return File("mentoring.ics", "text/calendar", to_ics(invite, now))


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {literal(item)}" for i, item in enumerate(items, 1))


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
    first = pair.last_meeting_at is None
    if first:  # the kit takes the place of the goals and the questions below
        kit = first_meeting_kit(pair, partner)
        lines.append("First meeting kit:\n" + "\n".join(f"- {item}" for item in kit))
        blocks.append(Text("*First meeting kit*\n" + "\n".join(f"• {item}" for item in kit)))
    elif pair.goals:
        lines.append(f"Your goals together: {literal(pair.goals)}")
        blocks.append(Text(f"*Your goals together*\n{literal(pair.goals)}"))
    if mine:
        lines.append("Your open commitments:\n" + _numbered(mine))
        bullets = "\n".join(f"• {literal(c)}" for c in mine)
        blocks.append(Text("*Your open commitments*\n" + bullets))
    if agenda:
        lines.append("Agenda so far:\n" + _numbered(agenda))
        blocks.append(Text("*Agenda so far*\n" + "\n".join(f"• {literal(a)}" for a in agenda)))
    if own_note:
        lines.append(f"Your private note from last time (only you see it): {literal(own_note)}")
        blocks.append(
            Context(f"Your private note from last time (only you see it): {literal(own_note)}")
        )
    if not first:
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


def first_meeting_kit(pair: PairView, partner: str) -> tuple[str, ...]:
    """What a pair's first meeting should cover, with the agreement's goals and cadence."""
    goals = (
        f"Your goals: {literal(pair.goals)}. Check each is one you can measure."
        if pair.goals
        else "Your goals: agree on two or three you can measure (`/mentor agreement edit`)."
    )
    cadence = CADENCE_WORDS.get(pair.cadence or "", "")
    next_time = (
        f"When to meet next: your agreement says {cadence}; "
        "pick the date before you leave (`/mentor schedule WHEN`)."
        if cadence
        else "When to meet next: pick the date before you leave (`/mentor schedule WHEN`)."
    )
    return (
        f"Introductions: your path so far, your work today, and what you hope to learn "
        f"from {partner}.",
        "Expectations: what each of you expects, how to reach each other between "
        "meetings, and that what you say stays between you.",
        goals,
        "Measuring progress: how you will both know a goal is reached.",
        next_time,
    )


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
            f"• {literal(a)}" for a in agenda
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
    return Message.of(
        Text(f"Did you meet {partner} ({when})?"),
        Buttons(
            (
                Button("Yes", value=f"met pair:{pair.id}", style="primary"),
                Button("Reschedule", value=f"schedule pair:{pair.id}"),
                Button("Skip this time", value=f"skip pair:{pair.id}"),
            )
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
    return Message.of(Text(text), Buttons(buttons))


def agenda_reminder_message(pair_id: int, partner: str, when: str) -> Message:
    return Message.of(
        Text(
            f"Your meeting with {partner} is at {when} and has no agenda yet. "
            "Two or three points are enough."
        ),
        Buttons((Button("Set the agenda", value=f"agenda edit pair:{pair_id}", style="primary"),)),
    )


def resume_message(pair_id: int, partner: str) -> Message:
    return Message.of(
        Text(f"Your pause with {partner} is over. Time to pick a date for your next meeting."),
        Buttons((Button("Schedule", value=f"schedule pair:{pair_id}", style="primary"),)),
    )


def agreement_reminder_message(pair_id: int, partner: str) -> Message:
    return Message.of(
        Text(
            f"Your mentoring agreement with {partner} is still waiting for your OK. "
            "Agree to the terms, or change them: then you can pick your first date."
        ),
        Buttons(
            (
                Button("I agree", value=f"agreement agree pair:{pair_id}", style="primary"),
                Button("Change terms", value=f"agreement edit pair:{pair_id}"),
            )
        ),
    )


def renewal_message(pair_id: int, partner: str, term_end: date) -> Message:
    return Message.of(
        Text(
            f"Your mentoring term with {partner} ends on {term_end:%a %d %b %Y}. "
            "Renew for another term? It is renewed when you both say yes; if either of you "
            "says no, it completes on that day with a short review."
        ),
        Buttons(
            (
                Button("Renew", value=f"renew pair:{pair_id}", style="primary"),
                Button("Don't renew", value=f"renew no pair:{pair_id}"),
            )
        ),
    )


def term_complete_message(pair_id: int, partner: str, *, mentee: bool) -> Message:
    """The mentee is also invited to mentor someone themselves."""
    text = f"Your mentoring term with {partner} is complete. Thank you for your time!"
    buttons = [Button("Give feedback", value=f"end pair:{pair_id}")]
    if mentee:
        text += " Would you like to pass it on and mentor someone yourself?"
        buttons.insert(0, Button("Become a mentor", value="join both", style="primary"))
    return Message.of(Text(text), Buttons(tuple(buttons)))


CONFIDENTIALITY = "What we say stays between us; HR sees only whether meetings happen."


def agreement_terms(pair: Pair) -> tuple[tuple[str, str], ...]:
    """The terms as label and value: goals, how often, until when, confidentiality."""
    return (
        ("Goals", literal(pair.goals) if pair.goals else "(none yet: add them with Change terms)"),
        ("We meet", CADENCE_WORDS.get(pair.cadence or "", pair.cadence or "")),
        ("Until", f"{pair.term_end:%a %d %b %Y}" if pair.term_end else "open-ended"),
        ("Confidentiality", CONFIDENTIALITY),
    )


def agreement_message(pair: Pair, partner: str, intro: str) -> Message:
    terms = agreement_terms(pair)
    text = "\n".join([intro, *(f"  {label}: {value}" for label, value in terms)])
    text += "\nAgree with `/mentor agreement agree`, or change the terms."
    return Message(
        text,
        (
            Header(f"Mentoring agreement with {partner}"),
            Text(intro),
            Fields(terms),
            Buttons(
                (
                    Button("I agree", value=f"agreement agree pair:{pair.id}", style="primary"),
                    Button("Change terms", value=f"agreement edit pair:{pair.id}"),
                )
            ),
            Context("Both of you confirm; a change is sent to the other person to confirm."),
        ),
    )


def meeting_sentence(
    who: str, partner: str, when: str, *, moved: bool, cancelled: bool, to_speaker: bool = False
) -> str:
    """ "You scheduled a meeting with Sam: …" to the speaker; "Alex moved the meeting with
    you to …" to the partner. The speaker of a cancellation is asked for a new date."""
    if cancelled:
        text = f"{who} cancelled the meeting with {partner} on {when}."
        if to_speaker:
            text += " Pick a new date when you can: `/mentor schedule WHEN`."
        return text
    if moved:
        return f"{who} moved the meeting with {partner} to {when}."
    return f"{who} scheduled a meeting with {partner}: {when}."


def meeting_confirmation(pair_id: int, sentence: str, invite: File, *, cancelled: bool) -> Message:
    """The confirmation of a scheduled, moved or cancelled meeting, with its .ics invite."""
    if cancelled:
        return Message.of(Text(sentence), invite, Context("Remove it from your calendar."))
    buttons = Buttons(
        (
            Button("Reschedule", value=f"schedule pair:{pair_id}"),
            Button("Cancel it", value=f"schedule cancel pair:{pair_id}", style="danger"),
        )
    )
    return Message.of(Text(sentence), invite, buttons, Context("Add the invite to your calendar."))
