"""`guide [mentee|mentor] [more]`: the short guide for a role (as sent on `join`), or the
full one. Without a role: the guide for the person's own role(s)."""

from __future__ import annotations

from conversations.grammar import ParsedLine
from conversations.guides import Guides, default_guides
from conversations.messages import Block, Button, Buttons, Header, Message, Text
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn
from storage.states import ProfileStatus

TITLES = {"mentee": "Guide for mentees", "mentor": "Guide for mentors"}


def guides_of(turn: Turn) -> Guides:
    return turn.policy.guides or default_guides()


def guide_blocks(
    guides: Guides, role: str, *, full: bool = False, more: str = "More"
) -> list[Block]:
    """One role's guide as blocks: the short one with a `more` button, or the full one."""
    guide = guides.of(role)
    body = guide.more if full and guide.more else guide.short
    blocks: list[Block] = [Header(TITLES[role]), Text(body)]
    if not full and guide.more:
        blocks.append(Buttons((Button(more, value=f"guide {role} more"),)))
    return blocks


def guide_text(guides: Guides, role: str, *, full: bool = False) -> str:
    """The plain-text fallback of `guide_blocks`."""
    guide = guides.of(role)
    return f"{TITLES[role]}\n{guide.more if full and guide.more else guide.short}"


def guide_message(guides: Guides, role: str, *, full: bool = False) -> Message:
    return Message(
        guide_text(guides, role, full=full), tuple(guide_blocks(guides, role, full=full))
    )


def roles_of(role: str | None) -> tuple[str, ...]:
    return {"mentor": ("mentor",), "both": ("mentee", "mentor")}.get(role or "", ("mentee",))


async def guide(turn: Turn, line: ParsedLine) -> list[Message]:
    words = [a.lower() for a in line.args]
    full = bool(words) and words[-1] in ("more", "full", "all")
    if full:
        words = words[:-1]
    if len(words) > 1 or (words and words[0].rstrip("s") not in ("mentee", "mentor")):
        shown = " ".join(line.args)[:60]
        raise Refusal(
            Message.of(
                Text(
                    f"I understood `guide` but not “{shown}”. Type `/mentor guide mentee`, "
                    "`/mentor guide mentor`, or `/mentor guide` for your own role."
                ),
                Buttons(
                    (
                        Button("Guide for mentees", value="guide mentee"),
                        Button("Guide for mentors", value="guide mentor"),
                    )
                ),
            )
        )
    if words:
        roles: tuple[str, ...] = (words[0].rstrip("s"),)
    else:
        profile = turn.profile
        joined = profile is not None and profile.status != ProfileStatus.DRAFT
        roles = roles_of(profile.role) if joined and profile is not None else ("mentee", "mentor")
    guides = guides_of(turn)
    return [guide_message(guides, role, full=full) for role in roles]


COMMAND = CommandSpec(
    name="guide",
    usage="guide [mentee|mentor] [more]",
    summary="How to get the most from mentoring, for your role (or the one you name).",
    details="`more` shows the full guide instead of the short one.",
    examples=("guide", "guide mentor", "guide mentee more"),
    handler=guide,
    read_only=True,
)
