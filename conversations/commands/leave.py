"""`leave`: out of matching and reminders; the profile is kept for a return."""

from __future__ import annotations

from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Context, Message, Text
from conversations.router import CommandSpec
from conversations.turn import Turn
from conversations.wording import program_phrase
from storage.states import ProfileStatus


async def leave(turn: Turn, line: ParsedLine) -> list[Message]:
    profile = turn.profile
    if profile is None or profile.status in (ProfileStatus.DRAFT, ProfileStatus.LEFT):
        text = "You're not in the program. Join any time with `/mentor join mentee|mentor|both`."
        return [Message.of(Text(text))]
    profile.status = ProfileStatus.LEFT
    profile.paused_until = None
    profile.left_at = turn.now
    profile.updated_at = turn.now
    await turn.audit("leave")
    text = (
        f"You've left {program_phrase(turn.program.name)}: no more matching and no reminders. "
        "Your profile is kept, so `/mentor join` brings you back as you were. "
        "`/mentor privacy` explains what is stored."
    )
    return [
        Message.of(
            Text(text),
            Buttons((Button("Undo: rejoin", value=f"join {profile.role}"),)),
            Context("Thank you for taking part."),
        )
    ]


COMMAND = CommandSpec(
    name="leave",
    usage="leave",
    summary="Leave the program: no matching, no reminders (your profile is kept).",
    handler=leave,
    group="Taking a break",
)
