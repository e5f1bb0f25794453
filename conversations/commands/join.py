"""`join mentee|mentor|both`: opt in (or change role, or come back after leaving)."""

from __future__ import annotations

from conversations.commands.guide import guide_blocks, guide_text, guides_of, roles_of
from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Context, Divider, Message, Text
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn
from conversations.wording import program_phrase
from storage.states import ProfileStatus

ROLE_WORDS = {
    "mentee": "mentee",
    "mentees": "mentee",
    "mentor": "mentor",
    "mentors": "mentor",
    "both": "both",
    "mentee+mentor": "both",
    "mentor+mentee": "both",
}
JOIN_BUTTONS = Buttons(
    (
        Button("Join as mentee", value="join mentee", style="primary"),
        Button("Join as mentor", value="join mentor"),
        Button("Join as both", value="join both"),
    )
)
ROLE_PHRASE = {"mentee": "a mentee", "mentor": "a mentor", "both": "both a mentee and a mentor"}


def _choose_role(understood: str) -> Message:
    text = (
        f"{understood}Join with `/mentor join mentee` (to be mentored), `/mentor join mentor` "
        "(to mentor others) or `/mentor join both`."
    )
    return Message.of(Text(text), JOIN_BUTTONS)


async def join(turn: Turn, line: ParsedLine) -> list[Message]:
    if not line.args:
        raise Refusal(_choose_role("Which role? "))
    word = line.args[0].lower()
    role = ROLE_WORDS.get(word)
    if role is None or len(line.args) > 1:
        shown = " ".join(line.args)[:60]
        raise Refusal(_choose_role(f"I understood `join` but not “{shown}”. "))
    profile = await turn.ensure_profile()
    before_role, before_status = profile.role, profile.status
    if before_role == role and before_status in (ProfileStatus.ACTIVE, ProfileStatus.PAUSED):
        extra = (
            " You're paused at the moment; `/mentor resume` brings you back."
            if (before_status == ProfileStatus.PAUSED)
            else ""
        )
        text = f"You're already in the program as {ROLE_PHRASE[role]}.{extra}"
        return [Message.of(Text(text), Buttons((Button("My status", value="status"),)))]
    profile.role = role
    if before_status in (ProfileStatus.DRAFT, ProfileStatus.LEFT):
        profile.status = ProfileStatus.ACTIVE
        profile.paused_until = None
        profile.joined_at = turn.now
        profile.left_at = None
    if role in ("mentor", "both") and profile.capacity is None:
        profile.capacity = turn.policy.mentor_capacity_default
    if profile.timezone is None and turn.identity.timezone:
        profile.timezone = turn.identity.timezone
    profile.updated_at = turn.now
    await turn.audit("join", role=role, was=before_role)
    if before_role and before_role != role and before_status != ProfileStatus.LEFT:
        headline = f"Done: you're now {ROLE_PHRASE[role]} in {program_phrase(turn.program.name)}."
    elif before_status == ProfileStatus.LEFT:
        headline = f"Welcome back to {program_phrase(turn.program.name)}, as {ROLE_PHRASE[role]}."
    else:
        headline = (
            f"Welcome to {program_phrase(turn.program.name)}! You've joined as {ROLE_PHRASE[role]}."
        )
    wants = {
        "mentee": "what you want to learn",
        "mentor": "what you can offer",
        "both": "what you want to learn and what you can offer",
    }[role]
    fields = {
        "mentee": 'wants="…" goals="…"',
        "mentor": 'offers="…"',
        "both": 'offers="…" wants="…" goals="…"',
    }[role]
    next_step = (
        f"Next, tell me {wants} so I can find you a good match: open your profile, or type "
        f"`/mentor profile set {fields}`."
    )
    guides = guides_of(turn)
    roles = roles_of(role)
    # One "More" per guide; with both guides shown, each button says which one it opens.
    more = (
        {"mentee": "More for mentees", "mentor": "More for mentors"}
        if len(roles) > 1
        else dict.fromkeys(roles, "More")
    )
    return [
        Message(
            "\n".join((headline, next_step, *(guide_text(guides, r) for r in roles))),
            (
                Text(f"*{headline}*"),
                Text(next_step),
                Buttons(
                    (
                        Button("Fill in my profile", value="profile", style="primary"),
                        Button("My status", value="status"),
                    )
                ),
                Context("You can pause or leave at any time: `/mentor pause`, `/mentor leave`."),
                *(b for r in roles for b in (Divider(), *guide_blocks(guides, r, more=more[r]))),
            ),
        ),
    ]


COMMAND = CommandSpec(
    name="join",
    usage="join mentee|mentor|both",
    summary="Opt in to the program as a mentee, a mentor or both.",
    details="Joining again with another role changes your role; your profile is kept.",
    examples=("join mentee", "join both"),
    handler=join,
)
