"""Pairs as the engine reads them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Pair

OPEN_STATES = ("proposed", "active", "paused")


async def pairs_of(
    session: AsyncSession, person_id: int, program_id: int, states: Sequence[str] = OPEN_STATES
) -> list[Pair]:
    rows = await session.scalars(
        select(Pair)
        .where(
            Pair.program_id == program_id,
            or_(Pair.mentee_id == person_id, Pair.mentor_id == person_id),
            Pair.state.in_(list(states)),
        )
        .order_by(Pair.id)
    )
    return list(rows)
