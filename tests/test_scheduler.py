"""The scheduler runs the sweep on start and every minute; state lives in the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.delivery import DeliveryWorker
from bot.scheduler import Jobs
from storage.models import OutboxMessage
from tests.harness import Chat


async def test_the_scheduled_sweep_queues_due_work_and_wakes_delivery(chat: Chat) -> None:
    await chat.say("alice", "join mentee")
    await chat.say("alice", "pause until tomorrow")
    later = chat.now + timedelta(days=3)
    worker = DeliveryWorker(chat.engine.db, {}, lambda: later)
    jobs = Jobs(chat.engine, worker, lambda: later)
    jobs.start()
    try:
        for _ in range(100):
            async with chat.engine.db.transaction() as session:
                rows = list(await session.scalars(select(OutboxMessage)))
            if rows:
                break
            await asyncio.sleep(0.05)
    finally:
        await jobs.stop()
    assert [r.kind for r in rows] == ["pause-ended"]
    assert worker._wake.is_set()  # delivery was woken rather than left to its idle tick


def test_sweep_runs_every_minute_from_now() -> None:
    from unittest.mock import MagicMock

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    scheduler = Jobs(MagicMock(), MagicMock(), lambda: now).scheduler
    assert scheduler.get_job("sweep").trigger.interval == timedelta(minutes=1)
    assert scheduler.get_job("prune").trigger.interval == timedelta(hours=1)


async def test_stop_lets_a_running_sweep_finish_instead_of_cancelling_it() -> None:
    """SIGTERM during a sweep: the sweep commits, nothing is cancelled half-way."""
    from unittest.mock import MagicMock

    started, finished = asyncio.Event(), asyncio.Event()

    class SlowEngine:
        async def sweep(self, now: datetime) -> list[object]:
            started.set()
            await asyncio.sleep(0.5)
            finished.set()
            return []

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    jobs = Jobs(SlowEngine(), MagicMock(), lambda: now)  # type: ignore[arg-type]
    jobs.start()
    await asyncio.wait_for(started.wait(), 10)
    await jobs.stop(grace_seconds=10)
    assert finished.is_set()
