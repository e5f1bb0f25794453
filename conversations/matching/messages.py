"""What people are told about proposals: the introduction with its reasons and buttons,
the unmatched notice, and the answers to accept and decline."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.messages import Button, Buttons, Context, Header, Message, Text


def expiry_text(expires_at: datetime, zone: str) -> str:
    return expires_at.astimezone(ZoneInfo(zone)).strftime("%a %d %b")


def proposal_message(
    *,
    pair_id: int,
    other_name: str,
    as_mentee: bool,
    reasons: list[str],
    expires: str,
    requested: bool = False,
) -> Message:
    if requested:
        intro = f"{other_name} asked you to be their mentor."
    elif as_mentee:
        intro = f"I'd like to introduce you to {other_name} as your mentor."
    else:
        intro = f"I'd like to introduce you to {other_name} as your mentee."
    why = "; ".join(reasons)
    text = (
        f"{intro}\nWhy: {why}.\nAccept or decline by {expires} "
        f"(`/mentor accept` or `/mentor decline [reason]`)."
    )
    return Message(
        text,
        (
            Header("A mentoring match for you"),
            Text(f"{intro}\n*Why:* {why}."),
            Buttons(
                (
                    Button("Accept", value=f"accept #{pair_id}", style="primary"),
                    Button("Decline", value=f"decline #{pair_id}", style="danger"),
                )
            ),
            Context(f"Please answer by {expires}; it is a suggestion, not an obligation."),
        ),
    )


def unmatched_message(reason: str) -> Message:
    text = (
        f"No match for you in this round: {reason}. You stay in the pool with priority for "
        "the next round. Adding to your profile (`/mentor profile`) can widen the choice."
    )
    return Message.of(Text(text), Buttons((Button("Edit my profile", value="profile"),)))


def simple(text: str, *buttons: Button) -> Message:
    blocks: tuple[Text | Buttons, ...] = (Text(text),)
    if buttons:
        blocks = (*blocks, Buttons(tuple(buttons)))
    return Message.of(*blocks)
