"""The outbox's backlog as two numbers, for the metrics endpoint (one short read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """Rows not yet delivered (pending or being sent), and how many seconds the most
    overdue of them has waited past its due time (0 when nothing is overdue)."""
    waiting, oldest = (
        await session.execute(
            select(
                func.count(),
                func.min(OutboxMessage.next_attempt_at).filter(
                    OutboxMessage.next_attempt_at <= now
                ),
            ).where(or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"))
        )
    ).one()
    if oldest is None:
        return int(waiting), 0.0
    if oldest.tzinfo is None and now.tzinfo is not None:  # SQLite hands back naive UTC
        now = now.replace(tzinfo=None)
    return int(waiting), max((now - oldest).total_seconds(), 0.0)
