"""A pair's life after the agreement: pause and resume it, renew the term, end it with a
short review. The person-level `pause`/`resume` hand over here when a pair is named.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.commands.renewal import renew
from conversations.dates import (
    DATE_FORMS,
    DateError,
    parse_date,
    start_of_day,
    today_in,
)
from conversations.followthrough.plan import refresh_due
from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Form, Input, Message, Option, Text
from conversations.pair_context import choose_pair, pair_input, take_target
from conversations.partners import partner_of
from conversations.router import CommandSpec
from conversations.turn import Turn, enqueue_for_person
from conversations.wording import sentence
from storage.lapses import close_lapse
from storage.meetings import scheduled_meeting
from storage.models import Pair
from storage.pairs import save_review
from storage.states import LapseOutcome, MeetingStatus, PairState

MAX_PAUSE_DAYS = 183
OPEN = (PairState.ACTIVE, PairState.PAUSED)


def names_a_pair(args: tuple[str, ...]) -> bool:
    mention, pair_id, _ = take_target(args)
    return mention is not None or pair_id is not None


def _pause_form(pair: Pair, partner: str, error: str = "") -> Form:
    return Form(
        form_id="pair-pause",
        title=f"Pause meetings with {partner}",
        inputs=(
            pair_input(pair, partner),
            Input("until", "Until", "date", hint=f"e.g. {DATE_FORMS}", optional=False, error=error),
        ),
        submit_label="Pause",
    )


async def _notify(turn: Turn, pair: Pair, key: str, kind: str, text: str, *buttons: Button) -> None:
    other = partner_of(pair, turn.person.id)
    blocks = (Text(text), Buttons(buttons)) if buttons else (Text(text),)
    await enqueue_for_person(
        turn.session, other, f"{key}:{other}", kind, Message.of(*blocks), turn.now
    )


async def _pause_until(turn: Turn, pair: Pair, phrase: str) -> list[Message]:
    partner = await turn.partner_name(pair)
    try:
        day = parse_date(phrase, turn.now, turn.timezone)
    except DateError as err:
        text = f"{sentence(err)} Use e.g. {DATE_FORMS}."
        return [Message.of(Text(text), _pause_form(pair, partner, text))]
    today = today_in(turn.now, turn.timezone)
    if not today < day <= today + timedelta(days=MAX_PAUSE_DAYS):
        text = f"Pick a date after today and within {MAX_PAUSE_DAYS} days."
        return [Message.of(Text(text), _pause_form(pair, partner, text))]
    until = start_of_day(day, turn.timezone)
    pair.state, pair.paused_until = PairState.PAUSED, until
    meeting = await scheduled_meeting(turn.session, pair.id)
    if meeting is not None and meeting.scheduled_at < until:
        meeting.status = MeetingStatus.CANCELLED
        pair.next_meeting_at = None
    await leave_ladder(turn, pair)
    refresh_due(pair, None, turn.policy)
    await turn.audit("pair.pause", pair=pair.id, until=until.isoformat())
    me = await turn.display_name(turn.person.id)
    await _notify(
        turn,
        pair,
        f"pair-paused:{pair.id}:{turn.now.isoformat()}",
        "pair-paused",
        f"{me} paused your mentoring meetings until {day:%a %d %b %Y}. I'll check back then.",
    )
    text = (
        f"Paused your meetings with {partner} until {day:%a %d %b %Y}: no reminders until then. "
        f"`/mentor resume with {await turn.mention_of(partner_of(pair, turn.person.id))}` "
        "ends it earlier."
    )
    return [
        Message.of(Text(text), Buttons((Button("Resume now", value=f"resume pair:{pair.id}"),)))
    ]


async def leave_ladder(turn: Turn, pair: Pair) -> None:
    """A paused pair leaves the lapse ladder: its open lapse episode is closed as
    `paused` (not lapsed now, not recovered), and after the pause silence counts afresh
    from the day it ends (a new episode starts at the first rung)."""
    if await close_lapse(turn.session, pair.id, LapseOutcome.PAUSED, turn.now):
        pair.lapse_cycle += 1
    pair.lapse_step, pair.at_risk_since, pair.lapse_since = 0, None, None


async def pause_pair(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="pause", states=OPEN)
    if rest and rest[0].lower() in ("until", "till", "to"):
        rest = rest[1:]
    elif rest and rest[0].lower() == "for":
        rest = ["in", *rest[1:]]
    if not rest:
        partner = await turn.partner_name(pair)
        text = f"Until when shall I pause your meetings with {partner}?"
        return [Message.of(Text(text), _pause_form(pair, partner))]
    return await _pause_until(turn, pair, " ".join(rest))


async def submit_pause(turn: Turn, fields: dict[str, str]) -> list[Message]:
    pair, _ = await choose_pair(
        turn, (f"pair:{fields.get('pair', '')}",), verb="pause", states=OPEN
    )
    return await _pause_until(turn, pair, fields.get("until", "").strip())


async def resume_pair(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, _ = await choose_pair(turn, line.args, verb="resume", states=OPEN)
    partner = await turn.partner_name(pair)
    if pair.state != PairState.PAUSED:
        text = f"Your pairing with {partner} isn't paused."
        return [Message.of(Text(text))]
    pair.state, pair.paused_until, pair.silent_since = PairState.ACTIVE, None, turn.now
    refresh_due(pair, None, turn.policy)
    await turn.audit("pair.resume", pair=pair.id)
    me = await turn.display_name(turn.person.id)
    schedule = Button("Schedule", value=f"schedule pair:{pair.id}", style="primary")
    await _notify(
        turn,
        pair,
        f"pair-resumed:{pair.id}:{turn.now.isoformat()}",
        "pair-resumed",
        f"{me} resumed your mentoring meetings. Time to pick a date.",
        schedule,
    )
    text = f"Resumed your meetings with {partner}. Pick a date for the next one?"
    return [Message.of(Text(text), Buttons((schedule,)))]


def _end_form(pair: Pair, partner: str, rematch: bool, ending: bool) -> Form:
    yes_no = (Option("yes", "Yes"), Option("no", "No"))
    inputs = [
        pair_input(pair, partner),
        Input(
            "rating",
            "How was the mentoring overall? (1–5)",
            "select",
            options=tuple(Option(str(n), str(n)) for n in range(1, 6)),
        ),
        Input(
            "goals",
            "Did you reach your goals?",
            "select",
            options=(Option("yes", "Yes"), Option("partly", "Partly"), Option("no", "No")),
        ),
        Input("keep_in_touch", "Keep in touch informally?", "select", options=yes_no),
    ]
    if ending:
        inputs.append(
            Input(
                "rematch",
                "Find me a new match?",
                "select",
                "yes" if rematch else "no",
                options=yes_no,
            )
        )
    return Form(
        form_id="end",
        title=f"{'Ending' if ending else 'Looking back on'} your mentoring with {partner}",
        inputs=tuple(inputs),
        submit_label="End the pairing" if ending else "Save",
    )


async def end(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="end", states=(*OPEN, PairState.COMPLETED))
    partner = await turn.partner_name(pair)
    ending = pair.state != PairState.COMPLETED
    rematch = any(w.lower() == "rematch" for w in rest)
    text = (
        f"Ending your mentoring with {partner}. A short review first (all optional); it helps "
        "the program, and your partner doesn't see it."
        if ending
        else f"How was your mentoring with {partner}? All optional; your partner doesn't see it."
    )
    return [Message.of(Text(text), _end_form(pair, partner, rematch, ending))]


async def submit_end(turn: Turn, fields: dict[str, str]) -> list[Message]:
    pair, _ = await choose_pair(
        turn,
        (f"pair:{fields.get('pair', '')}",),
        verb="end",
        states=(*OPEN, PairState.COMPLETED),
    )
    partner = await turn.partner_name(pair)
    rating = fields.get("rating", "").strip()
    goals = fields.get("goals", "").strip()
    keep = fields.get("keep_in_touch", "").strip()
    await save_review(
        turn.session,
        pair_id=pair.id,
        person_id=turn.person.id,
        rating=int(rating) if rating in {"1", "2", "3", "4", "5"} else None,
        goals_achieved=goals if goals in ("yes", "partly", "no") else None,
        keep_in_touch={"yes": True, "no": False}.get(keep),
        now=turn.now,
    )
    if pair.state == PairState.COMPLETED:
        text = "Thank you for the feedback!"
        return [Message.of(Text(text))]
    rematch = fields.get("rematch", "") == "yes"
    pair.state, pair.ended_at = PairState.ENDED, turn.now
    pair.end_reason = "rematch" if rematch else "ended"
    pair.next_meeting_at, pair.due_at = None, None
    meeting = await scheduled_meeting(turn.session, pair.id)
    if meeting is not None:
        meeting.status = MeetingStatus.CANCELLED
    outcome = LapseOutcome.REMATCH if rematch else LapseOutcome.ENDED
    await close_lapse(turn.session, pair.id, outcome, turn.now)
    await turn.audit("pair.end", pair=pair.id, rematch=rematch)
    me = await turn.display_name(turn.person.id)
    await _notify(
        turn,
        pair,
        f"pair-ended:{pair.id}",
        "pair-ended",
        f"{me} ended your mentoring pairing. Thank you for the time you gave it! "
        "A short look back helps the program.",
        Button("Give feedback", value=f"end pair:{pair.id}"),
    )
    text = f"Your mentoring with {partner} has ended. Thank you!"
    if rematch:
        text += " You're back in the pool for the next matching round."
    return [Message.of(Text(text))]


END = CommandSpec(
    name="end",
    usage="end [with @person]",
    summary="End a mentoring pairing, with a short review.",
    details="Add `rematch` to be matched with someone new.",
    examples=("end", "end with @sam rematch"),
    handler=end,
    forms={"end": submit_end, "pair-pause": submit_pause},
    group="Meeting",
)
RENEW = CommandSpec(
    name="renew",
    usage="renew [with @person] [no]",
    summary="Renew your mentoring for another term (both must say yes), or decline.",
    details=(
        "Open in the renewal window before the term ends; `renew no` declines, and the "
        "pairing then completes at the term's end with a short review."
    ),
    examples=("renew", "renew no"),
    handler=renew,
    group="Meeting",
)
