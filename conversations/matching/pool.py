"""Who can be matched this round, as plain data: the solver's input.

storage/proposals.py loads it in bulk; tests and the benchmark build it directly.
`forbidden` holds the (mentee, mentor) person-id pairs the hard constraints rule out
pair by pair (reporting line, pairs that ended or are already open); capacities and
limits are already net of open pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mentee:
    person_id: int
    wants: tuple[str, ...] = ()
    goals: str = ""
    department: str | None = None
    level: int | None = None
    timezone: str | None = None
    languages: tuple[str, ...] = ()
    prefers: tuple[str, ...] = ()
    priority: bool = False
    open_mentors: int = 0  # pairs already proposed, active or paused as mentee


@dataclass(frozen=True)
class Mentor:
    person_id: int
    offers: tuple[str, ...] = ()
    department: str | None = None
    level: int | None = None
    timezone: str | None = None
    languages: tuple[str, ...] = ()
    priority: bool = False
    capacity_left: int = 1
    past_pairs: int = 0  # pairs that became active with this mentor
    lapsed_pairs: int = 0  # of those, pairs that stopped meeting


@dataclass
class Pool:
    mentees: list[Mentee]
    mentors: list[Mentor]
    forbidden: set[tuple[int, int]] = field(default_factory=set)


def reporting_lines(
    managers: Mapping[int, int], people: Iterable[int], max_depth: int = 64
) -> dict[int, set[int]]:
    """Everyone above each person: their manager, the manager's manager… (cycle-safe)."""
    lines: dict[int, set[int]] = {}
    for person in people:
        above: set[int] = set()
        current = managers.get(person)
        while current is not None and current not in above and current != person:
            above.add(current)
            if len(above) >= max_depth:
                break
            current = managers.get(current)
        lines[person] = above
    return lines
