"""Processed inbound event ids: a platform retry of an event already handled is a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent


async def first_time_seen(
    session: AsyncSession, platform: str, event_id: str, now: datetime
) -> bool:
    """Record the event id; False when it was recorded before (a retry).

    Runs inside the caller's transaction, so the record and the effects of
    handling the event commit together or not at all. Two replicas racing on
    the same id: one wins, the other's transaction fails on the unique key.
    """
    existing = await session.scalar(
        select(ProcessedEvent.id).where(
            ProcessedEvent.platform == platform, ProcessedEvent.event_id == event_id
        )
    )
    if existing is not None:
        return False
    session.add(ProcessedEvent(platform=platform, event_id=event_id, received_at=now))
    await session.flush()
    return True


async def forget_before(session: AsyncSession, cutoff: datetime) -> int:
    """Drop ids older than any platform retries (Slack retries for minutes, not days)."""
    result = await session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
