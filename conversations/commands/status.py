"""`status`: where I stand — role, profile, pairs and what happens next."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.commands.join import JOIN_BUTTONS
from conversations.commands.profile import current_value
from conversations.followthrough.status import follow_up
from conversations.grammar import ParsedLine
from conversations.messages import Block, Button, Buttons, Context, Fields, Header, Message, Text
from conversations.profile_fields import FIELDS
from conversations.router import CommandSpec
from conversations.turn import Turn
from storage.states import PairState, ProfileStatus

COMMON_KEYS = ("department", "level", "timezone", "languages")
MATCHING_KEYS = {
    "mentee": ("wants", "goals", *COMMON_KEYS),
    "mentor": ("offers", *COMMON_KEYS),
    "both": ("offers", "wants", "goals", *COMMON_KEYS),
}


def when(turn: Turn, moment: datetime) -> str:
    """A date in the speaker's own time zone, e.g. `Tue 01 Dec 2026`."""
    return moment.astimezone(ZoneInfo(turn.timezone)).strftime("%a %d %b %Y")


async def status(turn: Turn, line: ParsedLine) -> list[Message]:
    profile = turn.profile
    if profile is None or profile.status == ProfileStatus.DRAFT:
        text = (
            "You haven't joined the mentoring program yet. Join with `/mentor join mentee`, "
            "`/mentor join mentor` or `/mentor join both`."
        )
        return [Message.of(Text(text), JOIN_BUTTONS)]
    role = {"mentee": "Mentee", "mentor": "Mentor", "both": "Mentee and mentor"}[
        profile.role or "mentee"
    ]
    if profile.status == ProfileStatus.PAUSED:
        state = "Paused" + (
            f" until {when(turn, profile.paused_until)}" if profile.paused_until else ""
        )
    elif profile.status == ProfileStatus.LEFT:
        state = "Left the program"
    else:
        state = "Active"
    pairs = await turn.open_pairs()
    others = [p.mentee_id if p.mentor_id == turn.person.id else p.mentor_id for p in pairs]
    await turn.prefetch_names([*others, *([profile.manager_id] if profile.manager_id else [])])
    items: list[tuple[str, str]] = [("Role", role), ("Status", state)]
    for key in FIELDS:
        if key == "capacity" and profile.role == "mentee":
            continue
        value = await current_value(turn, profile, key, for_display=True)
        if value:
            items.append((FIELDS[key].label, value))
    missing = [k for k in MATCHING_KEYS[profile.role or "mentee"] if not getattr(profile, k)]
    lines = [f"{role} — {state}"]
    lines.extend(f"  {label}: {value}" for label, value in items[2:])
    blocks: list[Block] = [Header("Your mentoring status"), Fields(tuple(items))]

    pair_lines = []
    for pair in pairs:
        mentoring = pair.mentor_id == turn.person.id
        other = await turn.display_name(pair.mentee_id if mentoring else pair.mentor_id)
        relation = f"mentoring {other}" if mentoring else f"mentored by {other}"
        detail = {
            PairState.PROPOSED: "proposed, waiting for answers",
            PairState.PAUSED: "paused",
        }.get(pair.state, "")
        if pair.state == PairState.PROPOSED:
            mine = pair.mentor_accepted_at if mentoring else pair.mentee_accepted_at
            if mine:
                detail = f"proposed, waiting for {other}'s answer"
            else:
                who = await turn.mention_of(pair.mentee_id if mentoring else pair.mentor_id)
                detail = f"proposed, answer with `accept {who}` or `decline {who}`"
            if pair.proposal_expires_at:
                detail += f" by {when(turn, pair.proposal_expires_at)}"
        if pair.state in (PairState.ACTIVE, PairState.PAUSED):
            detail = await follow_up(turn, pair)
        pair_lines.append(f"• {relation} ({detail})")
    if pair_lines:
        lines.append("Pairs:")
        lines.extend("  " + p for p in pair_lines)
        blocks.append(Text("*Your pairs*\n" + "\n".join(pair_lines)))
    elif profile.status == ProfileStatus.ACTIVE:
        waiting = "You're in the pool for the next matching round."
        lines.append(waiting)
        blocks.append(Text(waiting))
    if profile.status == ProfileStatus.LEFT:
        back = "Come back any time with `/mentor join mentee|mentor|both`."
        lines.append(back)
        blocks.append(Text(back))
    if missing and profile.status != ProfileStatus.LEFT:
        hint = (
            f"Add {', '.join(missing)} to your profile for a better match: "
            "`/mentor profile` or `/mentor profile set key=value`."
        )
        lines.append(hint)
        blocks.append(Context(hint))
    buttons = [Button("Edit my profile", value="profile")]
    if profile.status == ProfileStatus.PAUSED:
        buttons.insert(0, Button("Resume", value="resume", style="primary"))
    elif profile.status == ProfileStatus.ACTIVE:
        buttons.append(Button("Pause", value="pause"))
    buttons.append(Button("Help", value="help"))
    blocks.append(Buttons(tuple(buttons)))
    return [Message("\n".join(lines), tuple(blocks))]


COMMAND = CommandSpec(
    name="status",
    usage="status",
    summary="Your role, profile, pairs and what happens next.",
    handler=status,
    aliases=("me", "whoami"),
    read_only=True,
)
