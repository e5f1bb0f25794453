"""`agenda [add TEXT | clear] [with @person]`: what the next meeting is about.

The mentee runs the meeting and sets the agenda; the mentor receives it as soon
as it is set (or, when app.yaml sets `mentor_agenda_lead`, that long before).
"""

from __future__ import annotations

from conversations.dates import format_moment
from conversations.followthrough.meetings import zone_of
from conversations.followthrough.messages import mentor_agenda
from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Form, Input, Message, Text
from conversations.pair_context import choose_pair, pair_input
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn, enqueue_for_person
from conversations.wording import plural
from storage.meetings import agenda_items, clear_agenda, scheduled_meeting
from storage.models import AgendaItem, Pair

MAX_ITEM = 500


def agenda_form(pair: Pair, partner: str, items: list[str]) -> Form:
    return Form(
        form_id="agenda",
        title=f"Agenda with {partner}",
        inputs=(
            pair_input(pair, partner),
            Input(
                "items",
                "Points to cover, one a line",
                "multiline",
                "\n".join(items),
                hint="Saving replaces the agenda with these lines.",
            ),
        ),
        submit_label="Save agenda",
    )


async def _show(turn: Turn, pair: Pair, intro: str = "") -> list[Message]:
    items = (await agenda_items(turn.session, [pair.id])).get(pair.id, [])
    partner = await turn.partner_name(pair)
    if items:
        body = "\n".join(f"{i}. {t}" for i, t in enumerate(items, 1))
        text = f"{intro}Agenda with {partner}:\n{body}".strip()
    else:
        text = f"{intro}No agenda with {partner} yet. Add a point: `/mentor agenda add TEXT`."
    buttons = Buttons(
        (
            Button("Edit the agenda", value=f"agenda edit pair:{pair.id}"),
            Button("Clear it", value=f"agenda clear pair:{pair.id}"),
        )
    )
    return [Message.of(Text(text), buttons)]


async def _share(turn: Turn, pair: Pair, last_item_id: int) -> None:
    """The mentee set or changed the agenda: the mentor gets it now, unless timed in app.yaml."""
    if turn.person.id != pair.mentee_id or turn.policy.follow.mentor_agenda_lead is not None:
        return
    meeting = await scheduled_meeting(turn.session, pair.id)
    if meeting is None:
        return
    items = (await agenda_items(turn.session, [pair.id])).get(pair.id, [])
    meeting.mentor_briefed_at = turn.now
    mentor_tz = await zone_of(turn, pair.mentor_id)
    mentee = await turn.display_name(pair.mentee_id)
    await enqueue_for_person(
        turn.session,
        pair.mentor_id,
        f"agenda-set:{meeting.id}:{last_item_id}",
        "mentor-agenda",
        mentor_agenda(pair, meeting, mentee, mentor_tz, items),
        turn.now,
    )


async def _add(turn: Turn, pair: Pair, texts: list[str]) -> int:
    last = 0
    for text in texts:
        item = AgendaItem(pair_id=pair.id, author_id=turn.person.id, text=text, created_at=turn.now)
        turn.session.add(item)
        await turn.session.flush()
        last = item.id
    return last


async def agenda(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="agenda")
    word = rest[0].lower() if rest else ""
    if not word:
        return await _show(turn, pair)
    if word in ("edit", "form"):
        items = (await agenda_items(turn.session, [pair.id])).get(pair.id, [])
        partner = await turn.partner_name(pair)
        meeting = await scheduled_meeting(turn.session, pair.id)
        when = f" on {format_moment(meeting.scheduled_at, turn.timezone)}" if meeting else ""
        text = f"What do you want to cover with {partner}{when}?"
        return [Message.of(Text(text), agenda_form(pair, partner, items))]
    if word == "clear":
        count = await clear_agenda(turn.session, pair.id, turn.now)
        return await _show(turn, pair, f"Cleared {plural(count, 'point')}. ")
    if word == "add":
        text = " ".join(rest[1:]).strip()
        if not text:
            raise Refusal(
                "What should I add? `/mentor agenda add TEXT`, "
                "e.g. `agenda add feedback on my talk`."
            )
        if len(text) > MAX_ITEM:
            raise Refusal(f"An agenda point can be at most {MAX_ITEM} characters; split it up.")
        last = await _add(turn, pair, [text])
        await _share(turn, pair, last)
        return await _show(turn, pair, "Added. ")
    raise Refusal(
        f"I understood `agenda` but not “{' '.join(rest)[:40]}”. Use `/mentor agenda`, "
        "`/mentor agenda add TEXT` or `/mentor agenda clear`."
    )


async def submit(turn: Turn, fields: dict[str, str]) -> list[Message]:
    pair, _ = await choose_pair(turn, (f"pair:{fields.get('pair', '')}",), verb="agenda")
    lines = [ln.strip(" •-\t") for ln in fields.get("items", "").splitlines()]
    lines = [ln[:MAX_ITEM] for ln in lines if ln]
    await clear_agenda(turn.session, pair.id, turn.now)
    last = await _add(turn, pair, lines)
    if lines:
        await _share(turn, pair, last)
    return await _show(turn, pair, "Saved. ")


COMMAND = CommandSpec(
    name="agenda",
    usage="agenda [add TEXT | clear] [with @person]",
    summary="See or set what your next meeting is about (the mentee runs it).",
    details="Your mentor gets the agenda once you set it.",
    examples=("agenda", "agenda add feedback on my conference talk", "agenda clear"),
    handler=agenda,
    forms={"agenda": submit},
    group="Meeting",
)
