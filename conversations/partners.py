"""Who the other person of a pair is: the one answer for commands, sweeps and messages."""

from __future__ import annotations

from typing import Protocol


class Paired(Protocol):
    """Anything naming a pair's two people: an ORM `Pair`, a sweep's plain row."""

    @property
    def mentee_id(self) -> int: ...
    @property
    def mentor_id(self) -> int: ...


def partner_of(pair: Paired, person_id: int) -> int:
    """The other person of the pair: the one place that answers it (names are looked up
    by `Turn.partner_name` in a command and by the sweep from its recipients)."""
    return pair.mentor_id if pair.mentee_id == person_id else pair.mentee_id
