"""Conversation references: where each identity can be reached proactively."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationReference


async def save_reference(
    session: AsyncSession, identity_id: int, reference: dict[str, Any], now: datetime
) -> None:
    """Upsert the identity's latest reference (changed ones only, to spare writes)."""
    row = await session.scalar(
        select(ConversationReference).where(ConversationReference.identity_id == identity_id)
    )
    if row is None:
        session.add(
            ConversationReference(identity_id=identity_id, reference=reference, updated_at=now)
        )
    elif row.reference != reference:
        row.reference = reference
        row.updated_at = now


async def get_reference(session: AsyncSession, identity_id: int) -> dict[str, Any] | None:
    row = await session.scalar(
        select(ConversationReference.reference).where(
            ConversationReference.identity_id == identity_id
        )
    )
    return dict(row) if row is not None else None
