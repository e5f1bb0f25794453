"""The hard rules every pairing keeps, whoever makes it: a matching round (as forbidden
pairs in the pool), a mentee's `request`, and the program team's `admin pair`.

Pure: the pool's rows in, the rules a given mentee–mentor pair would break out, each
with the sentence that explains it to the person who asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.matching.pool import reporting_lines
from storage.proposals import PoolRows


@dataclass(frozen=True)
class Breach:
    rule: str  # a stable key, for the audit log: manager-chain, repeat, capacity, mentee-limit
    why: str  # for a person, naming both people


def breaches(
    rows: PoolRows,
    mentee_id: int,
    mentor_id: int,
    names: tuple[str, str],
    *,
    mentor_capacity: int,
    mentee_limit: int,
) -> list[Breach]:
    """The hard rules pairing `mentee_id` with `mentor_id` would break (empty: none)."""
    mentee, mentor = names
    found: list[Breach] = []
    if mentor_id in reporting_lines(rows.managers, [mentee_id])[mentee_id]:
        found.append(
            Breach(
                "manager-chain",
                f"{mentor} is in {mentee}'s reporting line (their manager or above); "
                "matching never pairs a mentee with someone they report to.",
            )
        )
    if (mentee_id, mentor_id) in rows.past_pairs:
        found.append(
            Breach(
                "repeat",
                f"{mentee} and {mentor} were paired before and that pairing ended; "
                "matching never repeats a pair.",
            )
        )
    taken = rows.open_as_mentor.get(mentor_id, 0)
    if taken >= mentor_capacity:
        found.append(
            Breach(
                "capacity",
                f"{mentor} already has {taken} mentee(s) or open proposal(s), their capacity "
                f"of {mentor_capacity}.",
            )
        )
    held = rows.open_as_mentee.get(mentee_id, 0)
    if held >= mentee_limit:
        found.append(
            Breach(
                "mentee-limit",
                f"{mentee} already has {held} mentor(s) or open proposal(s), the program's "
                f"limit of {mentee_limit}.",
            )
        )
    return found
