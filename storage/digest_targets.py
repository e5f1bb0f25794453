"""Who receives the weekly digest besides the configured channels, and what is queued."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity, OutboxMessage, Person


async def local_admins(
    session: AsyncSession, user_ids: Sequence[str], emails: Sequence[str]
) -> list[int]:
    """People with a local-chat identity named in `user_ids`, or whose e-mail is listed."""
    if not user_ids and not emails:
        return []
    rows = await session.scalars(
        select(Identity.person_id)
        .join(Person, Person.id == Identity.person_id)
        .where(
            Identity.platform == "local",
            Person.forgotten_at.is_(None),
            or_(
                func.lower(Identity.user_id).in_([u.lower() for u in user_ids]),
                func.lower(Person.email).in_([e.lower() for e in emails]),
            ),
        )
        .distinct()
        .order_by(Identity.person_id)
    )
    return list(rows)


async def queued_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these outbox keys were queued already (cheap: the key is unique)."""
    if not keys:
        return set()
    rows = await session.scalars(
        select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(list(keys)))
    )
    return set(rows)
