"""Putting a meeting in the calendar, moving it and calling it off, for commands and forms.

The pair keeps one scheduled meeting; `next_meeting_at` and `due_at` follow it, so
the sweep's index always reflects the plan. Both people get a confirmation in
their own time zone with an .ics invite (same UID on a reschedule, SEQUENCE
raised; METHOD:CANCEL on a cancellation).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.dates import DATETIME_FORMS, DateError, format_moment, parse_datetime
from conversations.followthrough.ics import Party
from conversations.followthrough.messages import (
    invite_file,
    meeting_confirmation,
    meeting_sentence,
)
from conversations.followthrough.plan import (
    meeting_keys,
    refresh_due,
    suggest_next,
    suggestion_phrase,
    term_ends_at,
)
from conversations.messages import Button, Buttons, File, Form, Input, Message, Text, literal
from conversations.pair_context import pair_input
from conversations.partners import partner_of
from conversations.turn import Refusal, Turn, enqueue_for_person
from conversations.wording import sentence
from storage import outbox, people
from storage.meetings import scheduled_meeting
from storage.models import Meeting, Pair
from storage.states import MeetingStatus

MAX_AHEAD = timedelta(days=366)


async def zone_of(turn: Turn, person_id: int) -> str:
    """A person's time zone: their profile's, else their platform's, else the program's."""
    found = await people.recipients(turn.session, [person_id], turn.program.id)
    recipient = found.get(person_id)
    return (recipient.timezone if recipient else None) or turn.policy.default_timezone


def parse_when(turn: Turn, phrase: str) -> datetime:
    """The moment a person typed, in their zone; Refusal worded for them if unusable."""
    try:
        moment = parse_datetime(phrase, turn.now, turn.timezone)
    except DateError as err:
        raise Refusal(
            f"{sentence(err)} Write it like {DATETIME_FORMS} "
            f"(read in your time zone, {turn.timezone})."
        ) from None
    if moment <= turn.now:
        raise Refusal(
            f"{format_moment(moment, turn.timezone)} is in the past. Pick a time ahead, e.g. "
            "`tomorrow 3pm`."
        )
    if moment > turn.now + MAX_AHEAD:
        raise Refusal("That is more than a year ahead; pick a date within the next year.")
    return moment


def schedule_form(pair: Pair, partner: str, suggestion: str, error: str = "") -> Form:
    return Form(
        form_id="schedule",
        title=f"Next meeting with {partner}",
        inputs=(
            pair_input(pair, partner),
            Input(
                "when",
                "When",
                value=suggestion,
                placeholder="tomorrow 3pm",
                hint=f"e.g. {DATETIME_FORMS}; in your time zone",
                optional=False,
                error=error,
            ),
        ),
        submit_label="Schedule",
    )


async def ask_for_date(turn: Turn, pair: Pair, intro: str) -> Message:
    """A form pre-filled with the date the cadence suggests."""
    partner = await turn.partner_name(pair)
    suggestion = suggestion_phrase(
        suggest_next(pair, turn.policy, turn.now, turn.timezone), turn.timezone
    )
    text = f"{intro} I suggest {suggestion} (your time); change it if you like.".strip()
    return Message.of(Text(text), schedule_form(pair, partner, suggestion))


async def withdraw_reminders(turn: Turn, pair: Pair, meeting: Meeting, why: str) -> None:
    """Prompts, reminders and check-ins queued for this version of the meeting and not yet
    sent no longer hold: withdraw them (the next version gets its own)."""
    await outbox.supersede(turn.session, meeting_keys(meeting.id, meeting.sequence, pair), why)


async def set_meeting(turn: Turn, pair: Pair, moment: datetime) -> list[Message]:
    """Schedule (or move) the pair's meeting to `moment`; confirm to both with an invite.

    A moment after the pair's term has ended is refused, with the way out (renew)."""
    ends = term_ends_at(pair, turn.policy)
    if ends is not None and pair.term_end is not None and moment >= ends:
        partner = await turn.partner_name(pair)
        text = (
            f"Your mentoring term with {partner} ends on {pair.term_end:%a %d %b %Y}, before "
            f"{format_moment(moment, turn.timezone)}, so I haven't scheduled it. Renew for "
            "another term with `/mentor renew` and schedule it again, or pick an earlier date."
        )
        renew = Button("Renew", value=f"renew pair:{pair.id}", style="primary")
        raise Refusal(Message.of(Text(text), Buttons((renew,))))
    meeting = await scheduled_meeting(turn.session, pair.id)
    moved = meeting is not None and meeting.scheduled_at != moment
    if meeting is not None and not moved:
        partner = await turn.partner_name(pair)
        text = f"Your meeting with {partner} is already at {format_moment(moment, turn.timezone)}."
        return [Message.of(Text(text))]
    previous = meeting.scheduled_at if meeting is not None else None
    if meeting is None:
        meeting = Meeting(
            pair_id=pair.id,
            scheduled_at=moment,
            duration_minutes=int(turn.policy.follow.meeting_length.total_seconds() // 60),
            status=MeetingStatus.SCHEDULED,
            created_by_id=turn.person.id,
            created_at=turn.now,
            sequence=0,
        )
        turn.session.add(meeting)
        await turn.session.flush()
    else:
        await withdraw_reminders(turn, pair, meeting, "the meeting moved")
        meeting.scheduled_at = moment
        meeting.sequence += 1
        meeting.agenda_prompted_at = meeting.agenda_reminded_at = None
        meeting.mentor_briefed_at = meeting.checkin_sent_at = None
    pair.next_meeting_at = moment
    refresh_due(pair, meeting, turn.policy)
    await turn.audit(
        "meeting.reschedule" if moved else "meeting.schedule",
        pair=pair.id,
        meeting=meeting.id,
        at=moment.isoformat(),
    )
    return await _confirm(turn, pair, meeting, previous, cancelled=False)


async def cancel_meeting(turn: Turn, pair: Pair) -> list[Message]:
    meeting = await scheduled_meeting(turn.session, pair.id)
    partner = await turn.partner_name(pair)
    if meeting is None:
        text = f"There is no meeting with {partner} to cancel."
        return [Message.of(Text(text))]
    await withdraw_reminders(turn, pair, meeting, "the meeting was called off")
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    pair.next_meeting_at = None
    refresh_due(pair, None, turn.policy)
    await turn.audit("meeting.cancel", pair=pair.id, meeting=meeting.id)
    return await _confirm(turn, pair, meeting, None, cancelled=True)


async def pair_invite(
    turn: Turn, pair: Pair, meeting: Meeting, names: dict[int, str], *, cancelled: bool = False
) -> File:
    """The meeting's .ics for both people (`names`: person id → name, as far as known)."""
    emails = await people.emails(turn.session, [pair.mentee_id, pair.mentor_id])
    return invite_file(
        meeting,
        Party(names.get(pair.mentee_id, "mentee"), emails.get(pair.mentee_id)),
        Party(names.get(pair.mentor_id, "mentor"), emails.get(pair.mentor_id)),
        turn.program,
        turn.now,
        cancelled=cancelled,
    )


async def _confirm(
    turn: Turn, pair: Pair, meeting: Meeting, previous: datetime | None, *, cancelled: bool
) -> list[Message]:
    me, other = turn.person.id, partner_of(pair, turn.person.id)
    # One read gives the partner's name, zone and platform (for the queued confirmation).
    partner = (await people.recipients(turn.session, [other], turn.program.id)).get(other)
    names = {me: turn.person.display_name}
    if partner is not None:
        names[other] = partner.name
    other_tz = (partner.timezone if partner else None) or turn.policy.default_timezone
    invite = await pair_invite(turn, pair, meeting, names, cancelled=cancelled)
    my_name = literal(names[me]) if me in names else "your partner"
    their_name = literal(names[other]) if other in names else "your partner"
    moved = previous is not None
    mine = meeting_sentence(
        "You",
        their_name,
        format_moment(meeting.scheduled_at, turn.timezone),
        moved=moved,
        cancelled=cancelled,
        to_speaker=True,
    )
    theirs = meeting_sentence(
        my_name,
        "you",
        format_moment(meeting.scheduled_at, other_tz),
        moved=moved,
        cancelled=cancelled,
    )
    await enqueue_for_person(
        turn.session,
        other,
        f"meeting:{meeting.id}:{meeting.sequence}:{other}",
        "meeting-cancelled" if cancelled else "meeting-scheduled",
        meeting_confirmation(pair.id, theirs, invite, cancelled=cancelled),
        turn.now,
        platform=partner.platform if partner else None,
    )
    return [meeting_confirmation(pair.id, mine, invite, cancelled=cancelled)]
