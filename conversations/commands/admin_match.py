"""`admin match [--dry-run]`: run a matching round from the chat, and say what it did."""

from __future__ import annotations

from conversations.grammar import ParsedLine
from conversations.matching.rounds import RoundResult, run_recorded_round, run_round
from conversations.messages import Context, Fields, Header, Message, Text
from conversations.turn import Refusal, Turn
from conversations.wording import plural

SHOWN = 15


def summary_lines(result: RoundResult, dry_run: bool) -> list[str]:
    verb = "would propose" if dry_run else "proposed"
    lines = [
        f"{verb} {plural(len(result.proposals), 'pair')} from "
        f"{plural(result.mentees_in_pool, 'mentee')} and "
        f"{plural(result.mentors_in_pool, 'mentor')}: coverage {result.coverage:.0%}, "
        f"mean score {result.mean_score:.2f}, "
        f"{'proven optimal' if result.solution.certified else 'NOT proven optimal'}; "
        f"{len(result.unmatched)} left unmatched (told why, priority next round)."
    ]
    for p in result.proposals[:SHOWN]:
        lines.append(
            f"• {result.names.get(p.mentee_id, p.mentee_id)} ← "
            f"{result.names.get(p.mentor_id, p.mentor_id)} ({p.score:.2f}): {'; '.join(p.reasons)}"
        )
    if len(result.proposals) > SHOWN:
        lines.append(f"… and {len(result.proposals) - SHOWN} more.")
    return lines


async def admin_match(turn: Turn, line: ParsedLine) -> list[Message]:
    flags = [a.lower() for a in line.args[1:]]
    unknown = [f for f in flags if f not in ("--dry-run", "dry-run", "--dry")]
    if unknown:
        raise Refusal(
            f"I understood `admin match` but not “{' '.join(unknown)[:60]}”. "
            "Right form: `/mentor admin match [--dry-run]`."
        )
    dry_run = bool(flags)
    if dry_run:
        result = await run_round(turn.session, turn.policy, turn.program, turn.now, dry_run=True)
    else:
        recorded = await run_recorded_round(
            turn.session,
            turn.policy,
            turn.program,
            turn.now,
            f"manual:{turn.now.isoformat()}",
            started_by=turn.person.id,
        )
        if recorded is None:
            raise Refusal("A round started at this very moment already; try again in a minute.")
        result = recorded
    lines = summary_lines(result, dry_run)
    title = "Matching round (dry run: nothing was changed)" if dry_run else "Matching round"
    return [
        Message(
            title + "\n" + "\n".join(lines),
            (
                Header(title),
                Fields(
                    (
                        ("Proposals", str(len(result.proposals))),
                        ("Coverage", f"{result.coverage:.0%}"),
                        ("Mean score", f"{result.mean_score:.2f}"),
                        ("Unmatched", str(len(result.unmatched))),
                    )
                ),
                Text("\n".join(lines[1:]) or "No proposals this round."),
                Context(lines[0]),
            ),
        )
    ]
