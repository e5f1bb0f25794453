"""Bulk storage of a round's messages: the same rows on SQLite and PostgreSQL (one
statement over arrays there), values round-trip, and a taken idempotency key is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.database import Database
from storage.models import OutboxMessage, Person
from storage.outbox import enqueue_rows

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def row(key: str, person: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "person_id": person,
        "platform": "local",
        "kind": "proposal",
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW + timedelta(minutes=5),
        "created_at": NOW,
    }


async def test_enqueue_many_round_trips_and_skips_taken_keys(db: Database) -> None:
    async with db.transaction() as session:
        person = Person(display_name="Ana", created_at=NOW)
        session.add(person)
        await session.flush()
        pid = person.id
        payload = {"text": "Hi Ana — «ça va»?", "blocks": [{"type": "text", "n": [1, None]}]}
        await enqueue_rows(session, [row("a", pid, payload), row("b", pid, {"x": 1})])
    async with db.transaction() as session:
        await enqueue_rows(
            session,
            [row("b", pid, {"x": 2}), row("c", pid, {"x": 3}), row("c", pid, {"x": 4})],
        )
    async with db.transaction() as session:
        # Filtering on a stored timestamp finds them: stored as any insert stores it.
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.created_at == NOW)
                .order_by(OutboxMessage.id)
            )
        )
    assert [(r.idempotency_key, r.payload) for r in rows] == [
        ("a", payload),
        ("b", {"x": 1}),  # the first row with a key stays
        ("c", {"x": 3}),
    ]
    assert all(r.next_attempt_at == NOW + timedelta(minutes=5) for r in rows)
    assert all(r.created_at == NOW and r.person_id == pid for r in rows)
