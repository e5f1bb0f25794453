"""Conversation references: where each identity can be reached proactively."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationReference, Identity
from storage.people import MOST_RECENT_FIRST


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


async def reachable_identity(
    session: AsyncSession, person_id: int, platform: str
) -> tuple[Identity, dict[str, Any] | None] | None:
    """The person's most recently seen identity on `platform`, with its reference if any."""
    row = (
        await session.execute(
            select(Identity, ConversationReference.reference)
            .outerjoin(ConversationReference, ConversationReference.identity_id == Identity.id)
            .where(Identity.person_id == person_id, Identity.platform == platform)
            .order_by(*MOST_RECENT_FIRST)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    identity, reference = row
    return identity, dict(reference) if reference is not None else None


async def reachable_identities(
    session: AsyncSession, person_ids: Sequence[int], platform: str
) -> dict[int, tuple[Identity, dict[str, Any] | None]]:
    """`reachable_identity` for many people in one query (the delivery worker's batch)."""
    rows = await session.execute(
        select(Identity, ConversationReference.reference)
        .outerjoin(ConversationReference, ConversationReference.identity_id == Identity.id)
        .where(Identity.person_id.in_(set(person_ids)), Identity.platform == platform)
        .order_by(Identity.person_id, *MOST_RECENT_FIRST)
    )
    found: dict[int, tuple[Identity, dict[str, Any] | None]] = {}
    for identity, reference in rows.all():
        if identity.person_id not in found:
            found[identity.person_id] = (
                identity,
                dict(reference) if reference is not None else None,
            )
    return found


async def recent_references(
    session: AsyncSession, platform: str, tenant: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """The latest stored references on `platform` (in `tenant` if given), newest first:
    a channel post borrows one for its service URL and tenant."""
    query = (
        select(ConversationReference.reference)
        .join(Identity, Identity.id == ConversationReference.identity_id)
        .where(Identity.platform == platform)
        .order_by(ConversationReference.updated_at.desc(), ConversationReference.id.desc())
        .limit(limit)
    )
    if tenant:
        query = query.where(Identity.tenant == tenant)
    return [dict(row) for row in (await session.scalars(query)).all()]
