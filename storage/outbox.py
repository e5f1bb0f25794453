"""The outbox: proactive messages enqueued once, claimed and delivered once.

Enqueue is an insert that does nothing on a duplicate idempotency key, so a
sweep that runs twice (or on two replicas) cannot queue the same nudge twice.
Claiming marks rows `sending` with a lease; on PostgreSQL the candidate rows
are locked `FOR UPDATE SKIP LOCKED` so concurrent workers take disjoint rows;
SQLite serialises writers, so the same statement is safe there. A row whose
lease expired (its worker died between claim and send) is claimable again, and
comes back marked `LEASE_EXPIRED`: its earlier send may or may not have reached
the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_many
from storage.models import Identity, OutboxMessage
from storage.states import OutboxStatus

LEASE_EXPIRED = "lease expired mid-send; the earlier attempt's outcome is unknown"


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    person_id: int | None = None,
    platform: str | None = None,
    channel: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message; False when one with the same key was queued before."""
    values = {
        "idempotency_key": key,
        "kind": kind,
        "payload": payload,
        "person_id": person_id,
        "platform": platform,
        "channel": channel,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    stmt = _ENQUEUE[session.get_bind().dialect.name == "postgresql"]
    # On the session's connection: a plain insert whose rowcount says whether it took.
    result = await (await session.connection()).execute(stmt, values)
    return bool(result.rowcount)


def _enqueue_statement(insert: Any) -> Any:
    """The enqueue insert, built once per dialect (it runs for every message queued)."""
    columns = (
        "idempotency_key",
        "kind",
        "payload",
        "person_id",
        "platform",
        "channel",
        "next_attempt_at",
        "created_at",
    )
    return (
        insert(OutboxMessage)
        .values(
            status=OutboxStatus.PENDING, attempts=0, **{name: bindparam(name) for name in columns}
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


_ENQUEUE = {False: _enqueue_statement(sqlite.insert), True: _enqueue_statement(postgresql.insert)}


_OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class Outgoing:
    key: str
    kind: str
    person_id: int
    platform: str
    payload: dict[str, Any]


async def enqueue_many(session: AsyncSession, rows: Sequence[Outgoing], now: datetime) -> set[str]:
    """Queue many messages in one statement; returns the keys that were new.

    Same contract as `enqueue` (a duplicate key does nothing), for sweeps
    that queue hundreds of messages at once.
    """
    values = [
        {
            "idempotency_key": r.key,
            "kind": r.kind,
            "payload": r.payload,
            "person_id": r.person_id,
            "platform": r.platform,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for r in rows
    ]
    return set(
        await insert_many(
            session,
            _OUTBOX,
            values,
            skip_duplicate="idempotency_key",
            returning="idempotency_key",
        )
    )


async def enqueue_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Queue many outbox rows given as column values (all with the same keys), in one
    statement; a duplicate idempotency key is skipped. For a matching round's thousands
    of messages, where the new keys are not needed."""
    await insert_many(session, _OUTBOX, rows, skip_duplicate="idempotency_key")


async def queued_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these outbox keys were queued already (cheap: the key is unique)."""
    if not keys:
        return set()
    rows = await session.scalars(
        select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(list(keys)))
    )
    return set(rows)


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    platforms: Sequence[str],
    limit: int = 50,
    lease: timedelta = timedelta(minutes=2),
) -> list[OutboxMessage]:
    """Take up to `limit` due rows for the given platforms; commit promptly after."""
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until <= now),
    )
    candidates = (
        select(OutboxMessage.id)
        .where(due, OutboxMessage.platform.in_(list(platforms)))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates))
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + lease,
            claimed_by=worker,
            attempts=OutboxMessage.attempts + 1,
            last_error=case(
                (OutboxMessage.status == OutboxStatus.SENDING, LEASE_EXPIRED),
                else_=OutboxMessage.last_error,
            ),
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = await session.scalars(stmt)
    return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))


async def supersede(session: AsyncSession, keys: Sequence[str], why: str) -> int:
    """Withdraw rows not yet claimed (status `superseded`): what they say no longer holds,
    e.g. a reminder for a meeting that has since moved. Rows under way are left alone."""
    if not keys:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.in_(list(keys)),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.SUPERSEDED, last_error=why)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def mark_sent(session: AsyncSession, message_id: int, worker: str, now: datetime) -> bool:
    """Record delivery; False if another worker took the row over (our lease ran out)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker,
        )
        .values(status=OutboxStatus.SENT, sent_at=now, claimed_until=None, last_error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_sent_many(
    session: AsyncSession, message_ids: Sequence[int], worker: str, now: datetime
) -> set[int]:
    """`mark_sent` for several rows in one statement; returns the ids recorded."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker,
        )
        .values(status=OutboxStatus.SENT, sent_at=now, claimed_until=None, last_error=None)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


async def release(
    session: AsyncSession,
    message_id: int,
    worker: str,
    *,
    retry_at: datetime,
    error: str,
    count_attempt: bool = True,
    dead: bool = False,
) -> None:
    """Hand a claimed row back for a later attempt (or give up on it: `dead`)."""
    values: dict[str, Any] = {
        "status": OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
        "next_attempt_at": retry_at,
        "claimed_until": None,
        "claimed_by": None,
        "last_error": error[:2000],
    }
    if not count_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(**values)
    )


async def hasten(
    session: AsyncSession, *, platform: str, tenant: str, user_id: str, now: datetime
) -> int:
    """Make an identity's waiting rows due now: they just became reachable (opened a chat)."""
    person = select(Identity.person_id).where(
        Identity.platform == platform, Identity.tenant == tenant, Identity.user_id == user_id
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.platform == platform,
            OutboxMessage.person_id.in_(person.scalar_subquery()),
            OutboxMessage.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def next_due(session: AsyncSession, *, platforms: Sequence[str]) -> datetime | None:
    """When the earliest waiting row for these platforms becomes claimable (None: none wait).

    One statement (two subqueries, each on the due index): two statements would each see
    the rows as committed when it runs (READ COMMITTED, and SQLite outside an explicit
    BEGIN), and a row handed back between them would be in neither, so the worker would
    sleep its idle tick with a row due."""
    platform = OutboxMessage.platform.in_(list(platforms))
    pending = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status == OutboxStatus.PENDING, platform
    )
    leased = select(func.min(OutboxMessage.claimed_until)).where(
        OutboxMessage.status == OutboxStatus.SENDING, platform
    )
    row = (await session.execute(select(pending.scalar_subquery(), leased.scalar_subquery()))).one()
    times: list[datetime] = [t for t in row if t is not None]
    return min(times, default=None)


async def counts(session: AsyncSession) -> dict[str, int]:
    """Rows by status (pending, sending, sent, dead, superseded): for operators, tests and
    benchmarks."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {str(status): int(n) for status, n in rows.all()}


# A row whose text is gone: the fact that it was sent (or failed) and when remains.
EMPTY_PAYLOAD: dict[str, Any] = {}


async def forget_payloads(session: AsyncSession, before: datetime) -> int:
    """Retention: sent and dead rows created before `before` lose their payload (the
    message's text, names, any file), keeping the row itself (its idempotency key still
    stops the same message being queued twice). Returns how many rows were emptied."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.DEAD)),
            OutboxMessage.created_at < before,
            OutboxMessage.payload["text"].as_string().is_not(None),
        )
        .values(payload=EMPTY_PAYLOAD)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
