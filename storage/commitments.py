"""Commitments: what a partner said they would do before the next meeting."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import among
from storage.models import Commitment


async def open_commitments(
    session: AsyncSession, pair_ids: Sequence[int]
) -> dict[int, list[Commitment]]:
    if not pair_ids:
        return {}
    rows = await session.scalars(
        select(Commitment)
        .where(among(session, Commitment.pair_id, pair_ids), Commitment.done_at.is_(None))
        .order_by(Commitment.id)
    )
    result: dict[int, list[Commitment]] = {}
    for row in rows:
        result.setdefault(row.pair_id, []).append(row)
    return result


async def open_commitments_of(
    session: AsyncSession, person_id: int, pair_ids: Sequence[int], limit: int = 10
) -> list[Commitment]:
    """The person's commitments in these pairs not yet done, oldest first."""
    if not pair_ids:
        return []
    rows = await session.scalars(
        select(Commitment)
        .where(
            Commitment.pair_id.in_(list(pair_ids)),
            Commitment.person_id == person_id,
            Commitment.done_at.is_(None),
        )
        .order_by(Commitment.created_at, Commitment.id)
        .limit(limit)
    )
    return list(rows)
