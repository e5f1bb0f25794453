"""Coordination between replicas on one database: who migrates, who runs a job's slot.

Two tools, both living in the database rather than in any process:

* `migration_lock`: a PostgreSQL advisory lock held by the transaction that runs the
  migrations, so replicas starting together upgrade one after another (the later
  ones find the schema at head and do nothing) instead of racing on CREATE TABLE.
  SQLite needs none: it serialises writers, and has one process anyway.
* `claim_slot`: a periodic job's run for one slot (`prune` for the hour 13:00 …) is
  recorded as a processed event (`processed_events`, platform `scheduler`). The insert
  does nothing on a slot already claimed; on PostgreSQL a second replica's insert waits
  for the first's transaction and then finds the slot taken. So the slot runs once
  across all replicas, whoever's timer fires first, and the record expires with the
  other event ids.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import ProcessedEvent

SLOT_PLATFORM = "scheduler"


def lock_key(name: str) -> int:
    """A stable 32-bit advisory lock key for a name (same in every process and version)."""
    return zlib.crc32(f"mentorbot:{name}".encode())


async def migration_lock(conn: AsyncConnection) -> None:
    """Hold the migration lock until `conn`'s transaction ends (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("migrate")})


async def claim_slot(session: AsyncSession, job: str, slot: str, now: datetime) -> bool:
    """Claim `job`'s run for `slot` in the caller's transaction; False if already claimed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ProcessedEvent)
        .values(platform=SLOT_PLATFORM, event_id=f"{job}:{slot}", received_at=now)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(ProcessedEvent.id)
    )
    return (await session.execute(stmt)).scalar() is not None
