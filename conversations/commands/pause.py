"""`pause [until DATE]` and `resume`: step out for a while without leaving."""

from __future__ import annotations

from datetime import date, timedelta

from conversations.commands import lifecycle
from conversations.commands.status import when
from conversations.dates import DATE_FORMS, DateError, parse_date, start_of_day, today_in
from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Context, Message, Text
from conversations.pair_context import choose_pair
from conversations.router import CommandSpec
from conversations.sweeps import DueItem, SweepContext
from conversations.turn import Refusal, Turn, enqueue_for_person
from conversations.wording import program_phrase, sentence
from storage import people
from storage.models import Pair
from storage.states import PairState, ProfileStatus

MAX_PAUSE_DAYS = 366


def _require_member(turn: Turn, verb: str) -> None:
    profile = turn.profile
    if profile is None or profile.status in (ProfileStatus.DRAFT, ProfileStatus.LEFT):
        raise Refusal(
            f"You're not in the program, so there is nothing to {verb}. "
            "Join with `/mentor join mentee|mentor|both`."
        )


async def _keep_meeting(turn: Turn, line: ParsedLine) -> list[Message]:
    """`pause keep pair:N`: the answer "keep meeting" to the per-pair question."""
    pair, _ = await choose_pair(
        turn, line.args[1:], verb="keep meeting", states=(PairState.ACTIVE,)
    )
    partner = await turn.partner_name(pair)
    await turn.audit("pause.keep_pair", pair=pair.id)
    text = (
        f"Your meetings with {partner} go on as planned, with their reminders. "
        f"`/mentor pause with @{partner}` pauses them later if you need to."
    )
    return [Message.of(Text(text))]


def _pair_question(pair: Pair, partner: str, day: date | None) -> Message:
    """Whether one active pair pauses too: the person's pause never decides it silently."""
    until = f" until {day:%a %d %b %Y}" if day else ""
    value = f"pause pair:{pair.id}" + (f" until {day.isoformat()}" if day else "")
    text = (
        f"Your pairing with {partner} is still active: shall it pause too{until}? "
        "If it pauses, they are told and meetings and reminders stop until then; "
        "otherwise you keep meeting as planned."
    )
    return Message.of(
        Text(text),
        Buttons(
            (
                Button("Pause this pairing too", value=value, style="primary"),
                Button("Keep meeting", value=f"pause keep pair:{pair.id}"),
            )
        ),
    )


async def pause(turn: Turn, line: ParsedLine) -> list[Message]:
    if line.args and line.args[0].lower() == "keep":
        return await _keep_meeting(turn, line)
    if lifecycle.names_a_pair(line.args):  # `pause with @sam until …`: one pairing only
        return await lifecycle.pause_pair(turn, line)
    _require_member(turn, "pause")
    words = list(line.args)
    if words and words[0].lower() in ("until", "till", "til", "to"):
        words = words[1:]
        if not words:
            raise Refusal(f"Until when? Use `/mentor pause until DATE`, e.g. {DATE_FORMS}.")
    elif words and words[0].lower() == "for":
        words = ["in", *words[1:]]
    profile = turn.profile
    assert profile is not None
    until, day = None, None
    if words:
        phrase = " ".join(words)
        try:
            day = parse_date(phrase, turn.now, turn.timezone)
        except DateError as err:
            raise Refusal(
                f"I understood `pause` but not the date. {sentence(err)} "
                f"Use `/mentor pause until DATE`, e.g. {DATE_FORMS}; or `/mentor pause` to pause "
                "until you resume."
            ) from None
        today = today_in(turn.now, turn.timezone)
        if day <= today:
            raise Refusal(
                f"{day:%a %d %b %Y} is not in the future. Pick a later date, e.g. "
                "`/mentor pause until next monday`."
            )
        if day > today + timedelta(days=MAX_PAUSE_DAYS):
            raise Refusal("A pause can last at most a year; `/mentor leave` if you need longer.")
        until = start_of_day(day, turn.timezone)
    profile.status = ProfileStatus.PAUSED
    profile.paused_until = until
    profile.updated_at = turn.now
    await turn.audit("pause", until=until.isoformat() if until else None)
    if until:
        text = (
            f"Paused until {when(turn, until)}: no new matches until then; "
            "I'll tell you when you're back."
        )
    else:
        text = "Paused: no new matches until you type `/mentor resume`."
    active = [p for p in await turn.open_pairs() if p.state == PairState.ACTIVE]
    replies = [
        Message.of(
            Text(text),
            Buttons((Button("Resume now", value="resume"),)),
            Context(
                "Your profile is kept. Your pairings go on unless you pause them too"
                + (": I ask about each below." if active else ".")
            ),
        )
    ]
    for pair in active:
        partner = await turn.partner_name(pair)
        replies.append(_pair_question(pair, partner, day))
    return replies


async def resume(turn: Turn, line: ParsedLine) -> list[Message]:
    if lifecycle.names_a_pair(line.args):
        return await lifecycle.resume_pair(turn, line)
    _require_member(turn, "resume")
    profile = turn.profile
    assert profile is not None
    if profile.status != ProfileStatus.PAUSED:
        text = (
            "You're not paused, so there is nothing to resume. "
            "`/mentor status` shows where you are."
        )
        return [Message.of(Text(text), Buttons((Button("My status", value="status"),)))]
    profile.status = ProfileStatus.ACTIVE
    profile.paused_until = None
    profile.updated_at = turn.now
    await turn.audit("resume")
    text = "Welcome back! You're active again: in the pool for matching."
    if any(p.state == PairState.PAUSED for p in await turn.open_pairs()):
        text += " Paused pairings stay paused until their date; `/mentor resume with @…` now."
    return [Message.of(Text(text), Buttons((Button("My status", value="status"),)))]


PAUSE = CommandSpec(
    name="pause",
    usage="pause [until DATE]",
    summary="Step out of matching for a while, or pause one pairing.",
    details=(
        f"DATE can be written {DATE_FORMS}. Without a date you stay paused until `resume`. "
        "Your own pause stops new matches; for each active pairing I ask whether it pauses "
        "too. With `with @person`, only that pairing pauses: your partner is told, and "
        "meetings, reminders and lapse tracking stop until its date."
    ),
    examples=(
        "pause",
        "pause until 2027-01-10",
        "pause for 2 weeks",
        "pause with @sam for 3 weeks",
    ),
    handler=pause,
    group="Taking a break",
)
RESUME = CommandSpec(
    name="resume",
    usage="resume",
    summary="End a pause now.",
    handler=resume,
    group="Taking a break",
)


async def sweep_pauses(ctx: SweepContext) -> list[DueItem]:
    """End pauses whose date has come, and tell each person they are back in."""
    items: list[DueItem] = []
    for profile in await people.profiles_paused_until(ctx.session, ctx.program.id, ctx.now):
        assert profile.paused_until is not None
        key = f"pause-ended:{profile.id}:{profile.paused_until.isoformat()}"
        profile.status = ProfileStatus.ACTIVE
        profile.paused_until = None
        profile.updated_at = ctx.now
        text = (
            "Your pause is over: you're active again in "
            f"{program_phrase(ctx.program.name)}, back in the pool for matching."
        )
        message = Message.of(Text(text), Buttons((Button("My status", value="status"),)))
        queued = await enqueue_for_person(
            ctx.session, profile.person_id, key, "pause-ended", message, ctx.now
        )
        items.append(DueItem(key, "pause-ended", profile.person_id, text, queued))
    return items
