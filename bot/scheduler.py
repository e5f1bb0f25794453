"""APScheduler drives the sweep; the database, not the scheduler, holds the state.

The job store is in memory on purpose: each replica runs its own timer, and the
outbox's unique keys make concurrent sweeps harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery import DeliveryWorker
from conversations.engine import Engine

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

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        sweep,
        "interval",
        minutes=1,
        id="sweep",
        coalesce=True,
        max_instances=1,
        next_run_time=clock(),
    )
    return scheduler
