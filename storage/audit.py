"""The audit log: who did what, when; never the content of private notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEntry(at=now, actor_id=actor_id, action=action, details=details or {}))
