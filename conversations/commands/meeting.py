"""`meeting confirm|dispute N`: the partner's one-click answer to a logged meeting
(conversations/followthrough/logged.py says what it means for the figures)."""

from __future__ import annotations

from conversations.followthrough.logged import day_of, send
from conversations.grammar import ParsedLine
from conversations.messages import Message, Text
from conversations.partners import partner_of
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn
from storage.meetings import feedback_of, feedback_on
from storage.models import Meeting, MeetingFeedback, Pair
from storage.states import MeetingStatus

USAGE = "`/mentor meeting confirm NUMBER` or `/mentor meeting dispute NUMBER`"


async def answer(turn: Turn, line: ParsedLine) -> list[Message]:
    args = [a.lower() for a in line.args]
    if len(args) != 2 or args[0] not in ("confirm", "dispute") or not args[1].isdigit():
        raise Refusal(f"Which meeting, and what about it? {USAGE}.")
    meeting = await turn.session.get(Meeting, int(args[1]))
    pair = await turn.session.get(Pair, meeting.pair_id) if meeting is not None else None
    if meeting is None or pair is None or turn.person.id not in (pair.mentee_id, pair.mentor_id):
        raise Refusal("I can't find that meeting among yours, so nothing was changed.")
    partner = await turn.partner_name(pair)
    day = day_of(meeting, turn.timezone)
    if meeting.status != MeetingStatus.HELD:
        raise Refusal(
            f"Your meeting with {partner} on {day} is not logged as held (it is "
            f"{meeting.status}), so there is nothing to confirm or dispute."
        )
    met = args[0] == "confirm"
    row = await feedback_of(turn.session, meeting.id, turn.person.id)
    if row is None:
        row = MeetingFeedback(
            meeting_id=meeting.id, person_id=turn.person.id, met=met, created_at=turn.now
        )
        turn.session.add(row)
    changed = row.met != met
    row.met = met
    await turn.audit(f"meeting.{args[0]}", pair=pair.id, meeting=meeting.id)
    if met:
        text = f"Thanks: your meeting with {partner} on {day} is confirmed by you both."
        return [Message.of(Text(text))]
    other = partner_of(pair, turn.person.id)
    said = await feedback_on(turn.session, meeting.id)
    if changed or said.get(other):
        me = turn.person.display_name
        await send(
            turn,
            other,
            f"meeting-disputed:{meeting.id}:{other}",
            "meeting-disputed",
            lambda tz: Message.of(
                Text(
                    f"{me} says your meeting on {day_of(meeting, tz)} didn't take place, so it "
                    "doesn't count as held. If it did, talk it over: they can still confirm "
                    f"it (`/mentor meeting confirm {meeting.id}`)."
                )
            ),
        )
    text = (
        f"Noted: your meeting with {partner} on {day} doesn't count as held, and {partner} "
        "is told. Changed your mind? `/mentor meeting confirm "
        f"{meeting.id}`. When you do meet, log it with `/mentor met`."
    )
    return [Message.of(Text(text))]


MEETING = CommandSpec(
    name="meeting",
    usage="meeting confirm|dispute NUMBER",
    summary="Confirm or dispute a meeting your partner logged (the buttons do this).",
    details=(
        "A logged meeting counts as held unless one of you disputes it; the digest also "
        "shows how many were confirmed by both."
    ),
    examples=("meeting confirm 12", "meeting dispute 12"),
    handler=answer,
    group="Meeting",
)
