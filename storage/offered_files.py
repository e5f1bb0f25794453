"""Files offered to a person through a Teams file consent card, until they answer it.

The card carries only the file's name and an unguessable token (`offer`); the bytes
stay here, so a card never grows with the file (Teams refuses a message over about
100 KB) and never puts a private export into Teams' copy of the message. A file is
found by its token only while it has not expired (`find`); it is deleted once saved or
declined (`discard`), when it expires (`forget_expired`, the hourly housekeeping) and
with its person (`forget-me`, and the foreign key's cascade).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OfferedFile

TOKEN_BYTES = 32  # 43 URL-safe characters


async def offer(
    session: AsyncSession,
    *,
    person_id: int,
    filename: str,
    mime: str,
    content: str,
    encoding: str,
    now: datetime,
    expires_at: datetime,
) -> str:
    """Keep the file for the person until `expires_at`; returns its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        OfferedFile(
            token=token,
            person_id=person_id,
            filename=filename,
            mime=mime,
            content=content,
            encoding=encoding,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return token


async def find(session: AsyncSession, token: str, now: datetime) -> OfferedFile | None:
    """The file offered under `token`, unless it expired or is gone."""
    return await session.scalar(
        select(OfferedFile).where(OfferedFile.token == token, OfferedFile.expires_at > now)
    )


async def discard(
    session: AsyncSession, tokens: Sequence[str], person_id: int | None = None
) -> int:
    """Delete the files offered under `tokens` (only the person's, if `person_id` is given);
    returns how many were deleted."""
    statement = delete(OfferedFile).where(OfferedFile.token.in_(tokens))
    if person_id is not None:
        statement = statement.where(OfferedFile.person_id == person_id)
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_expired(session: AsyncSession, now: datetime) -> int:
    """Retention: delete every offered file whose time is up; returns how many."""
    result = await session.execute(
        delete(OfferedFile)
        .where(OfferedFile.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
