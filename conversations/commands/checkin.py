"""After a meeting: `met [with @person] [notes]`, `skip`, `commit TEXT`, and the check-in form.

"Did you meet?" → Yes runs `met`: the meeting counts as held (a lapsed pair that
meets again is recorded as recovered and its ladder resets), then one form asks
for a 1–5 rating, a private note only its writer can read, a commitment for next
time and the next date, pre-filled from the cadence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.dates import format_moment, start_of_day, today_in
from conversations.followthrough.logged import MOVED_INVITE, tell_partner
from conversations.followthrough.meetings import (
    ask_for_date,
    pair_invite,
    parse_when,
    set_meeting,
    withdraw_reminders,
)
from conversations.followthrough.met_day import DayAhead, leading_day
from conversations.followthrough.plan import refresh_due, suggest_next, suggestion_phrase
from conversations.grammar import ParsedLine
from conversations.messages import (
    Block,
    Button,
    Buttons,
    Context,
    File,
    Form,
    Input,
    Message,
    Option,
    Text,
    literal,
)
from conversations.pair_context import choose_pair, pair_input
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn
from conversations.wording import plural
from storage import meeting_ledger, people
from storage.commitments import open_commitments
from storage.lapses import close_lapse
from storage.meetings import (
    clear_agenda,
    feedback_of,
    held_between,
    last_held_meeting,
    scheduled_meeting,
)
from storage.models import Commitment, Meeting, MeetingFeedback, Pair, PrivateNote
from storage.states import LapseOutcome, MeetingStatus

# A meeting the partner logged this recently is the one a plain `met` is about.
RECENT = timedelta(days=3)
MAX_TEXT = 2000


async def mark_held(
    turn: Turn, pair: Pair, meeting: Meeting, at: datetime, scheduled: Meeting | None
) -> bool:
    """Record the meeting as held at `at` (or correct its day), through the ledger, and
    what that means for the pair: the last meeting, the silence clock restarted now
    (however late the log), an open lapse closed as recovered. `scheduled`: the pair's
    scheduled meeting, which stays the next one unless it is the one held. True when
    this ended a lapse (a recovery)."""
    first = meeting.status != MeetingStatus.HELD
    meeting_ledger.hold(meeting, at)
    if pair.last_meeting_at is None or at > pair.last_meeting_at:
        pair.last_meeting_at = at
    if first or pair.lapse_step > 0:
        pair.silent_since = turn.now
    remaining = None if scheduled is None or scheduled.id == meeting.id else scheduled
    if scheduled is not None and remaining is None:
        await withdraw_reminders(turn, pair, meeting, "the meeting was held")
    pair.next_meeting_at = remaining.scheduled_at if remaining is not None else None
    recovered = pair.lapse_step > 0
    if recovered:
        await close_lapse(turn.session, pair.id, LapseOutcome.RECOVERED, turn.now)
        await turn.audit(
            "lapse.recovered", pair=pair.id, cycle=pair.lapse_cycle, step=pair.lapse_step
        )
        pair.lapse_cycle += 1
    pair.lapse_step, pair.at_risk_since, pair.lapse_since = 0, None, None
    refresh_due(pair, remaining, turn.policy)
    if remaining is None:
        # Last: its read flushes the meeting and the pair once, with every change above.
        await clear_agenda(turn.session, pair.id, turn.now, meeting.id)
    return recovered


def _moment_on(turn: Turn, day: date, scheduled: Meeting | None) -> datetime:
    """When on `day` a meeting was held: now if today, else the scheduled meeting's local
    time of day (else midday) on that day; never later than now."""
    if day == today_in(turn.now, turn.timezone):
        return turn.now
    zone = ZoneInfo(turn.timezone)
    clock = scheduled.scheduled_at.astimezone(zone).time() if scheduled else time(12, 0)
    return min(datetime.combine(day, clock, zone).astimezone(UTC), turn.now)


async def _meeting_reported(
    turn: Turn, pair: Pair, scheduled: Meeting | None, day: date | None
) -> Meeting | None:
    """The meeting a `met` is about: the scheduled one (None while it is still ahead and
    no day was given: then ask), a meeting already logged that day (or, with no day, the
    one the partner logged recently), else a new unscheduled one held that day."""
    tz = turn.timezone
    if scheduled is not None and (
        day is None or day >= today_in(scheduled.created_at, tz)  # not an older meeting
    ):
        return None if day is None and turn.now < scheduled.scheduled_at else scheduled
    on = day or today_in(turn.now, tz)
    start = start_of_day(on, tz)
    same_day = await held_between(turn.session, pair.id, start, start + timedelta(days=1))
    if same_day is not None:
        return same_day
    if day is None:
        last = await last_held_meeting(turn.session, pair.id)
        if (
            last is not None
            and last.held_at is not None
            and turn.now - last.held_at <= RECENT
            and await feedback_of(turn.session, last.id, turn.person.id) is None
        ):
            return last
    at = _moment_on(turn, on, None)
    unscheduled = Meeting(
        pair_id=pair.id,
        scheduled_at=at,
        duration_minutes=int(turn.policy.follow.meeting_length.total_seconds() // 60),
        status=MeetingStatus.SCHEDULED,
        created_by_id=turn.person.id,
        created_at=turn.now,
        sequence=0,
        agenda_prompted_at=turn.now,
        agenda_reminded_at=turn.now,
        mentor_briefed_at=turn.now,
        checkin_sent_at=turn.now,
    )
    turn.session.add(unscheduled)
    await turn.session.flush()
    return unscheduled


async def _feedback(
    turn: Turn, meeting: Meeting, met: bool, *, none_yet: bool = False
) -> MeetingFeedback:
    """The speaker's feedback row on the meeting, created if missing; `none_yet` when the
    caller has just seen there is none."""
    row = None if none_yet else await feedback_of(turn.session, meeting.id, turn.person.id)
    if row is None:
        row = MeetingFeedback(
            meeting_id=meeting.id, person_id=turn.person.id, met=met, created_at=turn.now
        )
        turn.session.add(row)
    row.met = met
    return row


def checkin_form(pair: Pair, partner: str, suggestion: str, values: dict[str, str]) -> Form:
    return Form(
        form_id="checkin",
        title=f"After your meeting with {partner}",
        inputs=(
            pair_input(pair, partner),
            Input(
                "rating",
                "How useful was it? (1–5)",
                "select",
                values.get("rating", ""),
                options=tuple(Option(str(n), str(n)) for n in range(1, 6)),
            ),
            Input(
                "note",
                "Private note",
                "multiline",
                values.get("note", ""),
                hint="Only you can ever read this: not your partner, not HR.",
            ),
            Input(
                "commitment",
                "What will you do before next time?",
                value=values.get("commitment", ""),
            ),
            Input(
                "next",
                "Next meeting",
                value=values.get("next", suggestion),
                hint="Suggested from your cadence; in your time zone. Empty: decide later.",
                error=values.get("error", ""),
            ),
        ),
        submit_label="Save",
    )


async def met(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="met")
    partner = await turn.partner_name(pair)
    try:
        day, rest = leading_day(rest, turn.now, turn.timezone)
    except DayAhead as ahead:
        raise Refusal(
            f"{ahead.day:%a %d %b %Y} is still ahead, so there is no meeting to log yet. Log "
            "it once you have met (`/mentor met`, or `/mentor met on DATE` for an earlier "
            "day); to plan it, `/mentor schedule WHEN`."
        ) from None
    if day is not None and pair.activated_at is not None:
        if day < today_in(pair.activated_at, turn.timezone):
            raise Refusal(
                f"Your pairing with {partner} started on "
                f"{pair.activated_at.astimezone(ZoneInfo(turn.timezone)):%a %d %b %Y}, after "
                f"{day:%a %d %b %Y}; pick a day since then: `/mentor met on DATE`."
            )
    notes = " ".join(rest).strip()
    scheduled = await scheduled_meeting(turn.session, pair.id)
    meeting = await _meeting_reported(turn, pair, scheduled, day)
    if meeting is None:
        assert scheduled is not None
        return [await _ask_if_early(turn, pair, partner, scheduled, notes)]
    first = meeting.status != MeetingStatus.HELD
    if first:
        at = min(meeting.scheduled_at, turn.now) if day is None else _moment_on(turn, day, meeting)
    else:
        at = meeting.held_at or meeting.scheduled_at
        if day is not None and today_in(at, turn.timezone) != day:
            at = _moment_on(turn, day, meeting)
    # A scheduled meeting held away from its planned time: both calendars hold the plan,
    # so the invite is updated (same UID, SEQUENCE up) to when it took place.
    moves_invite = (
        first
        and scheduled is not None
        and meeting.id == scheduled.id
        and abs(at - meeting.scheduled_at) >= timedelta(minutes=meeting.duration_minutes)
    )
    recovered = await mark_held(turn, pair, meeting, at, scheduled)
    invite = await _held_invite(turn, pair, meeting) if moves_invite else None
    await _feedback(turn, meeting, True)
    if notes:
        turn.session.add(
            PrivateNote(
                owner_id=turn.person.id,
                pair_id=pair.id,
                meeting_id=meeting.id,
                text=notes[:MAX_TEXT],
                created_at=turn.now,
            ),
        )
    await turn.audit("meeting.met", pair=pair.id, meeting=meeting.id, first=first)
    if first:
        await tell_partner(turn, pair, meeting, invite)
    suggestion = suggestion_phrase(
        suggest_next(pair, turn.policy, turn.now, turn.timezone), turn.timezone
    )
    on = (
        f"{meeting.held_at.astimezone(ZoneInfo(turn.timezone)):%a %d %b}" if meeting.held_at else ""
    )
    if first:
        text = f"Great, your meeting with {partner} on {on} is logged; {partner} can confirm it."
    else:
        text = (
            f"Your meeting with {partner} on {on} was already logged: I've updated that one "
            "meeting (it counts once)."
        )
    if recovered:
        text += " Good to see you two meeting again!"
    if notes:
        text += " Your note is saved privately: only you can read it."
    if invite is not None:
        text += f" {MOVED_INVITE}"
    text += " A few quick questions, and the next date:"
    form = checkin_form(pair, partner, suggestion, {})
    return [Message.of(Text(text), *((invite,) if invite is not None else ()), form)]


async def _held_invite(turn: Turn, pair: Pair, meeting: Meeting) -> File:
    """The updated invite of a meeting just held away from its planned time."""
    meeting.sequence += 1
    found = await people.recipients(turn.session, [pair.mentee_id, pair.mentor_id], turn.program.id)
    names = {pid: r.name for pid, r in found.items()}
    return await pair_invite(turn, pair, meeting, names)


async def _ask_if_early(
    turn: Turn, pair: Pair, partner: str, scheduled: Meeting, notes: str
) -> Message:
    """`met` before the scheduled meeting starts: ask whether they met early, and when,
    rather than log it silently. A note typed along is kept (private, as always)."""
    if notes:
        turn.session.add(
            PrivateNote(
                owner_id=turn.person.id,
                pair_id=pair.id,
                meeting_id=None,
                text=notes[:MAX_TEXT],
                created_at=turn.now,
            ),
        )
    today = today_in(turn.now, turn.timezone)
    when = format_moment(scheduled.scheduled_at, turn.timezone)
    text = (
        f"Your meeting with {partner} is scheduled for {when}. Did you meet early? Nothing "
        "is logged until you say so; if you haven't met yet, there is nothing to do: I'll "
        "ask after the meeting. Another day: `/mentor met on DATE`."
    )
    if notes:
        text += " Your note is saved privately: only you can read it."
    buttons = [Button("Yes, today", value=f"met pair:{pair.id} on {today.isoformat()}")]
    yesterday = today - timedelta(days=1)
    if yesterday >= today_in(scheduled.created_at, turn.timezone):
        buttons.append(
            Button("Yes, yesterday", value=f"met pair:{pair.id} on {yesterday.isoformat()}")
        )
    return Message.of(Text(text), Buttons(tuple(buttons)))


async def skip(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, _ = await choose_pair(turn, line.args, verb="skip")
    meeting = await scheduled_meeting(turn.session, pair.id)
    if meeting is None:
        raise Refusal("There is no scheduled meeting to skip. `/mentor schedule WHEN` sets one.")
    meeting_ledger.skip(meeting)
    await _feedback(turn, meeting, False)
    pair.next_meeting_at = None
    refresh_due(pair, None, turn.policy)
    await turn.audit("meeting.skip", pair=pair.id, meeting=meeting.id)
    return [
        await ask_for_date(turn, pair, "No problem, skipped this time. When can you meet next?")
    ]


async def submit(turn: Turn, fields: dict[str, str]) -> list[Message]:
    pair, _ = await choose_pair(turn, (f"pair:{fields.get('pair', '')}",), verb="met")
    saved: list[str] = []
    last = await last_held_meeting(turn.session, pair.id)
    rating = fields.get("rating", "").strip()
    if rating:
        if rating not in {"1", "2", "3", "4", "5"}:
            raise Refusal("The rating is a number from 1 to 5.")
        if last is not None:
            (await _feedback(turn, last, True)).rating = int(rating)
            saved.append(f"rating {rating}/5")
    note = fields.get("note", "").strip()
    if note:
        turn.session.add(
            PrivateNote(
                owner_id=turn.person.id,
                pair_id=pair.id,
                meeting_id=last.id if last else None,
                text=note[:MAX_TEXT],
                created_at=turn.now,
            ),
        )
        saved.append("your private note")
    commitment = fields.get("commitment", "").strip()
    if commitment:
        turn.session.add(
            Commitment(
                pair_id=pair.id,
                person_id=turn.person.id,
                text=commitment[:MAX_TEXT],
                created_at=turn.now,
            ),
        )
        saved.append("your commitment")
    summary = f"Saved {', '.join(saved)}." if saved else "Nothing to save there."
    phrase = fields.get("next", "").strip()
    if not phrase:
        text = f"{summary} Pick the next date when you know it: `/mentor schedule WHEN`."
        return [Message.of(Text(text))]
    try:
        moment = parse_when(turn, phrase)
    except Refusal as refusal:
        error = refusal.message.text
        text = f"{summary} {error}"
        values = {"next": phrase, "error": error}
        partner = await turn.partner_name(pair)
        form = checkin_form(pair, partner, phrase, values)
        only_date = Form(form.form_id, form.title, (form.inputs[0], form.inputs[-1]), "Save")
        return [Message.of(Text(text), only_date)]
    try:
        scheduled = await set_meeting(turn, pair, moment)
    except Refusal as refusal:  # e.g. after the term's end: what was saved stays saved, and said
        scheduled = [refusal.message]
    return [Message.of(Text(summary)), *scheduled]


def _which_commitment(typed: str, texts: list[str]) -> str:
    """`commit done N` with a number that is not one: say which numbers exist."""
    asked = f"There is no commitment {typed[:10]}: y" if typed.isdigit() else "Y"
    listed = "\n".join(f"{i}. {t}" for i, t in enumerate(texts, 1))
    if len(texts) == 1:
        return (
            f"{asked}ou have 1 open commitment:\n{listed}\n"
            "Tick it off with `/mentor commit done 1`."
        )
    return (
        f"{asked}ou have {plural(len(texts), 'open commitment')}, numbered 1 to {len(texts)}:\n"
        f"{listed}\nTick one off with `/mentor commit done NUMBER`."
    )


async def commit(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="commit")
    mine = [
        c
        for c in (await open_commitments(turn.session, [pair.id])).get(pair.id, [])
        if c.person_id == turn.person.id
    ]
    if rest and rest[0].lower() == "done":
        if len(rest) != 2 or not rest[1].isdigit() or not 1 <= int(rest[1]) <= len(mine):
            raise Refusal(
                _which_commitment(rest[1] if len(rest) == 2 else "", [c.text for c in mine])
                if mine
                else "You have no open commitments to tick off."
            )
        done = mine[int(rest[1]) - 1]
        done.done_at = turn.now
        text = f"Done: {literal(done.text)}. Well done!"
        return [Message.of(Text(text))]
    text_in = " ".join(rest).strip()
    if text_in:
        if len(text_in) > MAX_TEXT:
            raise Refusal(f"A commitment can be at most {MAX_TEXT} characters.")
        item = Commitment(
            pair_id=pair.id, person_id=turn.person.id, text=text_in, created_at=turn.now
        )
        turn.session.add(item)
        mine.append(item)
        head = "Noted. It will be on your next agenda prompt."
    else:
        head = "Your open commitments:" if mine else "You have no open commitments."
    body = "\n".join(f"{i}. {literal(c.text)}" for i, c in enumerate(mine, 1))
    text = f"{head}\n{body}".strip()
    blocks: list[Block] = [Text(text)]
    if mine:
        blocks.append(Context("Tick one off with `/mentor commit done NUMBER`."))
    return [Message.of(*blocks)]


MET = CommandSpec(
    name="met",
    usage="met [with @person] [on DATE] [notes]",
    summary="Log a meeting; notes are private to you.",
    details=(
        "It logs your scheduled meeting (before it starts, I ask whether you met early); "
        "a date first is the day (`met yesterday`, `met on friday`). Logging it again, by "
        "either of you, updates that one meeting; your partner can confirm or dispute it. "
        "Then rate it, note what you'll do before next time and pick the next date."
    ),
    examples=("met", "met yesterday", "met on 2 Dec with @sam talked about my promotion case"),
    handler=met,
    forms={"checkin": submit},
    group="Meeting",
)
SKIP = CommandSpec(
    name="skip",
    usage="skip [with @person]",
    summary="Skip the scheduled meeting this time and pick another date.",
    handler=skip,
    group="Meeting",
)
COMMIT = CommandSpec(
    name="commit",
    usage="commit TEXT [with @person]",
    summary="Something you'll do before next time; `commit done N` ticks it off.",
    examples=("commit draft the project proposal", "commit", "commit done 1"),
    handler=commit,
    group="Meeting",
)
