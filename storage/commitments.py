"""Reads for a person's overview (the App Home): upcoming meetings and open commitments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commitment, Meeting


async def upcoming_meetings(
    session: AsyncSession, pair_ids: Sequence[int], now: datetime, limit: int = 5
) -> list[Meeting]:
    """Scheduled meetings of these pairs from `now` on, soonest first."""
    if not pair_ids:
        return []
    rows = await session.scalars(
        select(Meeting)
        .where(
            Meeting.pair_id.in_(list(pair_ids)),
            Meeting.status == "scheduled",
            Meeting.scheduled_at >= now,
        )
        .order_by(Meeting.scheduled_at, Meeting.id)
        .limit(limit)
    )
    return list(rows)


async def open_commitments(
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
