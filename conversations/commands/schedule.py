"""`schedule WHEN [with @person]`: set, move (`reschedule`) or `cancel` the next meeting."""

from __future__ import annotations

from conversations.followthrough.meetings import (
    ask_for_date,
    cancel_meeting,
    parse_when,
    schedule_form,
    set_meeting,
)
from conversations.grammar import ParsedLine
from conversations.messages import Message, Text
from conversations.pair_context import choose_pair
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn


async def schedule(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="schedule")
    if rest and rest[0].lower() in ("cancel", "off", "delete"):
        if len(rest) > 1:
            raise Refusal("To call the meeting off, type `/mentor schedule cancel [with @person]`.")
        return await cancel_meeting(turn, pair)
    if not rest:
        return [await ask_for_date(turn, pair, "When shall we meet?")]
    return await set_meeting(turn, pair, parse_when(turn, " ".join(rest)))


async def submit(turn: Turn, fields: dict[str, str]) -> list[Message]:
    pair, _ = await choose_pair(turn, (f"pair:{fields.get('pair', '')}",), verb="schedule")
    phrase = fields.get("when", "").strip()
    try:
        moment = parse_when(turn, phrase)
    except Refusal as refusal:
        partner = await turn.partner_name(pair)
        text = refusal.message.text
        return [Message.of(Text(text), schedule_form(pair, partner, phrase, text))]
    return await set_meeting(turn, pair, moment)


COMMAND = CommandSpec(
    name="schedule",
    usage="schedule WHEN [with @person]",
    summary="Set or move your next meeting; `schedule cancel` calls it off.",
    details=(
        "WHEN is read in your time zone: tomorrow 3pm, next Tue 10:00, friday at 9:30, "
        "3 Dec 14:00 or 2026-12-03 15:00. Both of you get a confirmation and a calendar invite."
    ),
    examples=("schedule tomorrow 3pm", "schedule next tue 10:00 with @sam", "schedule cancel"),
    handler=schedule,
    aliases=("reschedule",),
    forms={"schedule": submit},
    group="Meeting",
)
