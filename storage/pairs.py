"""Pairs as the engine reads them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Pair

OPEN_STATES = ("proposed", "active", "paused")

# Built once: `status` runs this on every call, and building it costs more than running it.
_PAIRS_OF = (
    select(Pair)
    .where(
        Pair.program_id == bindparam("program_id"),
        or_(Pair.mentee_id == bindparam("person_id"), Pair.mentor_id == bindparam("person_id")),
        Pair.state.in_(bindparam("states", expanding=True)),
    )
    .order_by(Pair.id)
)


async def pairs_of(
    session: AsyncSession, person_id: int, program_id: int, states: Sequence[str] = OPEN_STATES
) -> list[Pair]:
    rows = await session.scalars(
        _PAIRS_OF, {"program_id": program_id, "person_id": person_id, "states": list(states)}
    )
    return list(rows)
