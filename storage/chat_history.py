"""The local web chat's history: the last KEEP lines per person, oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatHistoryEntry

KEEP = 50


async def append(
    session: AsyncSession,
    person_id: int,
    lines: Sequence[tuple[str, dict[str, Any]]],
    now: datetime,
) -> None:
    """Add (speaker, payload) lines in order, then drop all but the person's last KEEP."""
    if not lines:
        return
    session.add_all(
        ChatHistoryEntry(person_id=person_id, speaker=speaker, payload=payload, created_at=now)
        for speaker, payload in lines
    )
    await session.flush()
    oldest_kept = await session.scalar(
        select(ChatHistoryEntry.id)
        .where(ChatHistoryEntry.person_id == person_id)
        .order_by(ChatHistoryEntry.id.desc())
        .offset(KEEP - 1)
        .limit(1)
    )
    if oldest_kept is not None:
        await session.execute(
            delete(ChatHistoryEntry).where(
                ChatHistoryEntry.person_id == person_id, ChatHistoryEntry.id < oldest_kept
            )
        )


async def recent(session: AsyncSession, person_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The person's last KEEP lines as (speaker, payload), oldest first."""
    rows = await session.execute(
        select(ChatHistoryEntry.speaker, ChatHistoryEntry.payload)
        .where(ChatHistoryEntry.person_id == person_id)
        .order_by(ChatHistoryEntry.id.desc())
        .limit(KEEP)
    )
    return [(speaker, payload) for speaker, payload in reversed(rows.all())]
