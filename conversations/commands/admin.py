"""`admin match | stats | pair @mentee @mentor | export | digest`: the program team's commands.

Only admins (app.yaml `admins:` and MENTORBOT_ADMINS) may run them; anyone else gets a
polite refusal. Every run, allowed or refused, is written to the audit log. Nothing
here reads private notes, agendas, commitments or anyone's individual rating.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.commands.admin_match import admin_match
from conversations.digest.figures import compute_digest
from conversations.digest.messages import digest_message
from conversations.grammar import ParsedLine, parse_mention
from conversations.matching.activation import activate_pair
from conversations.matching.hard_rules import breaches
from conversations.messages import Context, Fields, File, Header, Message, Text, literal
from conversations.policy import Policy
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn
from conversations.wording import plural
from storage import people, reports
from storage.models import Pair, Program
from storage.pairs import create_active_pair, pairs_of
from storage.proposals import load_pool
from storage.states import PairState, ProfileStatus

USAGE = (
    "admin match [--dry-run] | admin stats | admin pair @mentee @mentor [force] | "
    "admin export | "
    "admin digest"
)
MENTEE_ROLES = ("mentee", "both")
MENTOR_ROLES = ("mentor", "both")


def is_admin(turn: Turn) -> bool:
    return turn.policy.is_admin(
        turn.actor.platform, turn.actor.user_id, turn.actor.email or turn.person.email
    )


async def pair_people(
    session: AsyncSession,
    policy: Policy,
    program: Program,
    mentee_id: int,
    mentor_id: int,
    now: datetime,
    reasons: tuple[str, ...] = ("paired by the program team",),
) -> Pair:
    """Create an active pair and start it the way an accepted proposal starts."""
    pair = await create_active_pair(
        session,
        program_id=program.id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        now=now,
        reasons=reasons,
    )
    await activate_pair(session, policy, program, pair, now)
    return pair


async def _stats(turn: Turn) -> list[Message]:
    now, pid = turn.now, turn.program.id
    await turn.audit("admin.stats")
    (who,) = await reports.participants(turn.session, pid, [now])
    states = await reports.pairs_by_state(turn.session, pid, now)
    window = await reports.meetings(turn.session, pid, now - timedelta(days=7), now)
    (lapses,) = await reports.lapses(turn.session, pid, [now])
    rows = (
        (
            "Participants",
            f"{sum(who.by_role.values())}: {plural(who.by_role.get('mentor', 0), 'mentor')}, "
            f"{plural(who.by_role.get('mentee', 0), 'mentee')}, {who.by_role.get('both', 0)} both; "
            f"{who.waiting} waiting for a match",
        ),
        (
            "Pairs",
            ", ".join(
                f"{states.get(s, 0)} {s}"
                for s in (PairState.ACTIVE, PairState.PAUSED, PairState.PROPOSED)
            )
            + f"; {states.get(PairState.COMPLETED, 0) + states.get(PairState.ENDED, 0)} finished",
        ),
        (
            "Meetings, last 7 days",
            f"{window.held} held of {window.due} due, {window.confirmed} confirmed by both",
        ),
        ("Lapsed pairs", f"{sum(lapses.by_step.values())}, {lapses.at_risk} at risk"),
    )
    text = "Program stats now:\n" + "\n".join(f"  {k}: {v}" for k, v in rows)
    text += "\n`/mentor admin digest` shows the full weekly digest."
    return [
        Message(
            text,
            (
                Header(f"{turn.program.name}: stats"),
                Fields(rows),
                Context("`/mentor admin digest` shows the full weekly digest."),
            ),
        )
    ]


async def _resolve(turn: Turn, token: str) -> int:
    mention = parse_mention(token)
    if mention is None:
        raise Refusal(
            f"“{token[:40]}” is not a person. The form is `/mentor admin pair @mentee @mentor`."
        )
    identity = await turn.resolve_mention(mention)
    return identity.person_id


async def _pair(turn: Turn, args: tuple[str, ...]) -> list[Message]:
    force = len(args) == 3 and args[2].lower() in ("force", "--force")
    if len(args) != 2 and not force:
        raise Refusal(
            "To pair two people: `/mentor admin pair @mentee @mentor` (the mentee first; "
            "add `force` to override matching's rules)."
        )
    mentee_id, mentor_id = await _resolve(turn, args[0]), await _resolve(turn, args[1])
    if mentee_id == mentor_id:
        raise Refusal("A person cannot mentor themselves: name two different people.")
    names = await people.display_names(turn.session, [mentee_id, mentor_id])
    mentee = literal(names.get(mentee_id, args[0]))
    mentor = literal(names.get(mentor_id, args[1]))
    capacity = turn.policy.mentor_capacity_default
    for person_id, name, roles, word in (
        (mentee_id, mentee, MENTEE_ROLES, "mentee"),
        (mentor_id, mentor, MENTOR_ROLES, "mentor"),
    ):
        profile = await people.get_profile(turn.session, person_id, turn.program.id)
        if profile is None or profile.status not in (ProfileStatus.ACTIVE, ProfileStatus.PAUSED):
            raise Refusal(
                f"{name} has not joined the program, so I can't pair them. They can join with "
                f"`/mentor join {word}`."
            )
        if profile.role not in roles:
            raise Refusal(
                f"{name} joined as {profile.role}, not as a {word}. The form is "
                "`/mentor admin pair @mentee @mentor`."
            )
        if word == "mentor" and profile.capacity is not None:
            capacity = profile.capacity
    for pair in await pairs_of(turn.session, mentee_id, turn.program.id):
        if pair.mentor_id == mentor_id:
            raise Refusal(f"{mentee} and {mentor} are already paired.")
    broken = breaches(
        await load_pool(turn.session, turn.program.id),
        mentee_id,
        mentor_id,
        (mentee, mentor),
        mentor_capacity=capacity,
        mentee_limit=turn.policy.matching.mentee_max_mentors,
    )
    if broken and not force:
        reasons = "\n".join(f"• {b.why}" for b in broken)
        raise Refusal(
            f"I haven't paired {mentee} with {mentor}; matching's rules rule it out:\n"
            f"{reasons}\nTo pair them anyway, say so explicitly (it is audited): "
            f"`/mentor admin pair {literal(args[0])} {literal(args[1])} force`."
        )
    pair = await pair_people(
        turn.session, turn.policy, turn.program, mentee_id, mentor_id, turn.now
    )
    overridden = [b.rule for b in broken]
    await turn.audit(
        "admin.pair", pair=pair.id, mentee=mentee_id, mentor=mentor_id, overridden=overridden
    )
    text = (
        f"Paired {mentee} (mentee) with {mentor} (mentor). Both have been sent the mentoring "
        "agreement to confirm."
    )
    if overridden:
        text += f" Rules overridden (recorded in the audit log): {', '.join(overridden)}."
    return [Message.of(Text(text))]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ") if moment else ""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one starting like a formula (=, +, -, @, tab,
    carriage return) gets a leading single quote, so opening the export runs nothing; a
    carriage return inside becomes a line feed (which the writer quotes: a bare CR would
    split the row for some readers). Numbers are written as they are."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


async def _export(turn: Turn) -> list[Message]:
    rows = await reports.pair_rows(turn.session, turn.program.id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "pair_id",
            "mentee",
            "mentor",
            "state",
            "proposed_at",
            "activated_at",
            "ended_at",
            "meetings_held",
            "first_meeting_at",
            "last_meeting_at",
            "next_meeting_at",
        ]
    )
    for r in rows:
        writer.writerow(
            csv_cell(cell)
            for cell in [
                r.pair_id,
                r.mentee,
                r.mentor,
                r.state,
                _when(r.proposed_at),
                _when(r.activated_at),
                _when(r.ended_at),
                r.meetings_held,
                _when(r.first_meeting_at),
                _when(r.last_meeting_at),
                _when(r.next_meeting_at),
            ]
        )
    await turn.audit("admin.export", pairs=len(rows))
    text = (
        f"Export of {plural(len(rows), 'pair')}: states, meeting counts and dates (UTC). "
        "No notes and no individual ratings are included."
    )
    filename = f"{turn.program.slug}-pairs-{turn.now:%Y%m%d}.csv"
    return [Message.of(Text(text), File(filename, "text/csv", out.getvalue()))]


async def _digest(turn: Turn) -> list[Message]:
    digest = await compute_digest(turn.session, turn.program, turn.policy, turn.now)
    await turn.audit("admin.digest")
    preview = digest_message(digest)
    note = "Preview of this week's digest as of now (not posted)."
    return [Message(f"{note}\n{preview.text}", (Context(note), *preview.blocks))]


async def admin(turn: Turn, line: ParsedLine) -> list[Message]:
    word = line.args[0].lower() if line.args else ""
    if not is_admin(turn):
        await turn.audit("admin.refused", command=word[:20])
        raise Refusal(
            "Sorry, `admin` commands are for the program team. If you think you should have "
            "access, ask them to add you to the admins in the bot's configuration."
        )
    try:
        return await _run(turn, word, line)
    except Refusal as refusal:
        # An admin's attempt that did nothing is an admin action too: the log says why.
        await turn.audit("admin.failed", command=word[:20], reason=str(refusal)[:200])
        raise


async def _run(turn: Turn, word: str, line: ParsedLine) -> list[Message]:
    if word == "match":
        await turn.audit("admin.match", args=" ".join(line.args[1:])[:100])
        return await admin_match(turn, line)
    if word == "stats":
        return await _stats(turn)
    if word == "pair":
        return await _pair(turn, line.args[1:])
    if word == "export":
        return await _export(turn)
    if word == "digest":
        return await _digest(turn)
    understood = f"I understood `admin` but not “{literal(word[:40])}”. " if word else ""
    raise Refusal(f"{understood}The admin commands are: `{USAGE}`.")


COMMAND = CommandSpec(
    name="admin",
    usage="admin match [--dry-run]|stats|pair @mentee @mentor [force]|export|digest",
    summary=(
        "For the program team: a matching round, stats, pair two people, export pairs (CSV), "
        "digest preview."
    ),
    details=(
        "Only admins listed in the bot's configuration can use these; every use is audited. "
        "`admin pair` keeps matching's rules (reporting line, no repeat, capacity) and says "
        "which one refuses; `force` overrides them and the audit log records which. "
        "Exports and digests never contain private notes or individual ratings."
    ),
    examples=(
        "admin match --dry-run",
        "admin stats",
        "admin pair @alice @bob",
        "admin export",
        "admin digest",
    ),
    handler=admin,
    group="Program team",
)
