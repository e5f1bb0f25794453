"""APScheduler drives the sweep; the database, not the scheduler, holds the state.

The job store is in memory on purpose: each replica runs its own timer, and the
outbox's unique keys make concurrent sweeps harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import utcnow
from bot.delivery import DeliveryWorker
from conversations.engine import Engine
from storage import inbound

# Slack retries an event for minutes and Teams not at all; a day of ids is plenty.
EVENT_ID_RETENTION = timedelta(days=1)

log = logging.getLogger(__name__)


def build_scheduler(
    engine: Engine, worker: DeliveryWorker, clock: Callable[[], datetime]
) -> AsyncIOScheduler:
    async def sweep() -> None:
        try:
            items = await engine.sweep(clock())
        except Exception:
            log.exception("sweep failed; the next one will try again")
            return
        if any(item.queued for item in items):
            log.info("sweep queued %d message(s)", sum(item.queued for item in items))
            worker.poke()

    async def prune() -> None:
        try:
            async with engine.db.transaction() as session:
                await inbound.forget_before(session, clock() - EVENT_ID_RETENTION)
        except Exception:
            log.exception("pruning processed event ids failed; the next run will try again")

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(prune, "interval", hours=1, id="prune", coalesce=True, max_instances=1)
    scheduler.add_job(
        sweep,
        "interval",
        minutes=1,
        id="sweep",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow(),  # the timer runs on wall time; the sweep is told `clock()`
    )
    return scheduler
