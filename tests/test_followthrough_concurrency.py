"""Replicas sweeping one PostgreSQL at once: every due step is taken once, none twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conversations.engine import Engine
from conversations.policy import Policy
from storage.database import Database
from storage.models import Lapse, OutboxMessage, Pair
from tests.followthrough_kit import make_pair
from tests.harness import Chat


async def test_two_replicas_sweeping_together_queue_each_nudge_once(
    db: Database, db_url: str, policy: Policy
) -> None:
    if db.is_sqlite:
        pytest.skip("replicas share PostgreSQL; SQLite serialises writers")
    chat = Chat(Engine(db, policy))
    for n in range(30):
        await make_pair(chat, f"mentee{n}", f"mentor{n}")
    replicas = [Database(db_url) for _ in range(3)]
    try:
        engines = [Engine(r, policy) for r in replicas]
        now = chat.now + timedelta(days=21)  # each pair is due for ladder step 2 (both)
        rounds = []
        for _ in range(3):
            results = await asyncio.gather(*(e.sweep(now) for e in engines))
            rounds.append([item for result in results for item in result])
            now += timedelta(seconds=1)
        # Each due pair was taken by exactly one replica (rows locked, others skipped them).
        assert len(rounds[0]) == 60 and all(item.queued for item in rounds[0])
        assert len({item.key for item in rounds[0]}) == 60
        assert rounds[1] == rounds[2] == []
    finally:
        for r in replicas:
            await r.dispose()
    async with db.transaction() as session:
        kinds = dict(
            (
                await session.execute(
                    select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
                )
            ).all()
        )
        steps = set(await session.scalars(select(Pair.lapse_step)))
        lapses = await session.scalar(select(func.count()).select_from(Lapse))
    assert kinds["lapse-nudge-both"] == 60 and "lapse-nudge-mentee" not in kinds
    assert steps == {2} and lapses == 30
