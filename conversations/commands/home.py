"""`home`: the overview a person sees first (Slack's App Home tab shows it, too):
pairs, next meetings, open commitments and the buttons used most."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.commands.join import JOIN_BUTTONS
from conversations.commands.status import when
from conversations.grammar import ParsedLine
from conversations.messages import Block, Button, Buttons, Context, Divider, Header, Message, Text
from conversations.router import CommandSpec
from conversations.turn import Turn
from storage.commitments import open_commitments_of
from storage.meetings import upcoming_meetings
from storage.pairs import pairs_of
from storage.states import ProfileStatus


def _at(turn: Turn, moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(turn.timezone))
    return f"{when(turn, moment)} {local:%H:%M}"


async def home(turn: Turn, line: ParsedLine) -> list[Message]:
    title = turn.program.name
    profile = turn.profile
    if profile is None or profile.status in (ProfileStatus.DRAFT, ProfileStatus.LEFT):
        intro = (
            "You're not in the mentoring program yet. Join as a mentee to be mentored, as a "
            "mentor to give your time and experience, or both."
            if profile is None or profile.status == ProfileStatus.DRAFT
            else "You left the program; your profile is kept. Come back any time."
        )
        blocks: tuple[Block, ...] = (Header(title), Text(intro), JOIN_BUTTONS)
        return [Message(f"{title}\n{intro}", blocks)]

    pairs = await pairs_of(turn.session, turn.person.id, turn.program.id)
    pair_ids = [p.id for p in pairs]
    others = {p.id: p.mentee_id if p.mentor_id == turn.person.id else p.mentor_id for p in pairs}
    await turn.prefetch_names(list(others.values()))
    lines = [title]
    out: list[Block] = [Header(title)]
    state = {ProfileStatus.ACTIVE: "Active", ProfileStatus.PAUSED: "Paused"}.get(
        profile.status, profile.status
    )
    role = {"mentee": "mentee", "mentor": "mentor", "both": "mentee and mentor"}.get(
        profile.role or "mentee", "member"
    )
    summary = f"You're a {role}. Status: {state}."
    lines.append(summary)
    out.append(Text(summary))

    pair_lines = []
    for pair in pairs:
        other = await turn.display_name(others[pair.id])
        relation = (
            f"mentoring *{other}*" if pair.mentor_id == turn.person.id else f"mentored by *{other}*"
        )
        pair_lines.append(f"• {relation} ({pair.state})")
    section = "*Your pairs*\n" + (
        "\n".join(pair_lines)
        if pair_lines
        else "None yet: you're paused, so you're not in the matching pool until you resume."
        if profile.status == ProfileStatus.PAUSED
        else "None yet: you're in the pool for the next matching round."
    )
    lines.append(section.replace("*", ""))
    out.extend((Divider(), Text(section)))

    meetings = await upcoming_meetings(turn.session, pair_ids, turn.now)
    meeting_lines = [
        f"• {_at(turn, m.scheduled_at)} with {await turn.display_name(others[m.pair_id])}"
        for m in meetings
    ]
    section = "*Next meetings*\n" + (
        "\n".join(meeting_lines) if meeting_lines else "None scheduled."
    )
    lines.append(section.replace("*", ""))
    out.append(Text(section))

    commitments = await open_commitments_of(turn.session, turn.person.id, pair_ids)
    if commitments:
        section = "*Your open commitments*\n" + "\n".join(f"• {c.text}" for c in commitments)
        lines.append(section.replace("*", ""))
        out.append(Text(section))

    buttons = [
        Button("My status", value="status", style="primary"),
        Button("Edit my profile", value="profile"),
    ]
    if profile.status == ProfileStatus.PAUSED:
        buttons.append(Button("Resume", value="resume"))
    else:
        buttons.append(Button("Pause", value="pause"))
    buttons.append(Button("Help", value="help"))
    out.extend(
        (Divider(), Buttons(tuple(buttons)), Context("Type `/mentor help` for every command."))
    )
    return [Message("\n".join(lines), tuple(out))]


COMMAND = CommandSpec(
    name="home",
    usage="home",
    summary="Your overview: pairs, next meetings, open commitments.",
    handler=home,
)
