"""The one answer to "who is the other person of this pair"."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.partners import partner_of


@dataclass(frozen=True)
class _Pair:
    mentee_id: int
    mentor_id: int


def test_partner_of_either_side() -> None:
    pair = _Pair(mentee_id=1, mentor_id=2)
    assert partner_of(pair, 1) == 2
    assert partner_of(pair, 2) == 1
