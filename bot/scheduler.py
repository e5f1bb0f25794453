"""APScheduler drives the sweep; the database, not the scheduler, holds the state.

The job store is in memory on purpose: each replica runs its own timer, and the
outbox's unique keys make concurrent sweeps harmless. Nothing else is kept: a sweep
asks the database what is due as of `clock()`, so a missed or late run (a restart,
a stopped replica) is caught up by the next one. Stopping lets a job that is
running finish (each is one short transaction) instead of cancelling it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import utcnow
from bot.delivery import DeliveryWorker
from conversations.engine import Engine
from conversations.timings import timed
from storage import coordination, inbound, offered_files, outbox

# Slack retries an event for minutes and Teams not at all; a day of ids is plenty.
EVENT_ID_RETENTION = timedelta(days=1)

SWEEP_EVERY = timedelta(minutes=1)
SWEEP_ENV = "MENTORBOT_SWEEP_SECONDS"

log = logging.getLogger(__name__)


def sweep_interval(env: Mapping[str, str]) -> timedelta:
    """MENTORBOT_SWEEP_SECONDS (1 to 3600; default 60): how often each replica sweeps.
    Due work is found as of the sweep's time, so a shorter interval only sends sooner."""
    raw = env.get(SWEEP_ENV, "").strip()
    if not raw:
        return SWEEP_EVERY
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 3600:
        log.warning("%s=%s is not 1 to 3600 seconds; sweeping every minute", SWEEP_ENV, raw)
        return SWEEP_EVERY
    return timedelta(seconds=seconds)


class Jobs:
    """The periodic jobs and the scheduler that runs them."""

    def __init__(
        self,
        engine: Engine,
        worker: DeliveryWorker,
        clock: Callable[[], datetime],
        *,
        sweep_every: timedelta = SWEEP_EVERY,
    ) -> None:
        self.engine = engine
        self.worker = worker
        self.clock = clock
        self._running = asyncio.Lock()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(
            self._guarded(self.prune),
            "interval",
            hours=1,
            id="prune",
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self._guarded(self.sweep),
            "interval",
            seconds=sweep_every.total_seconds(),
            id="sweep",
            coalesce=True,
            max_instances=1,
            next_run_time=utcnow(),  # the timer runs on wall time; the sweep is told `clock()`
        )

    def _guarded(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async with self._running:
                try:
                    await job()
                except Exception:
                    log.exception("%s failed; the next run will try again", job.__name__)

        run.__name__ = job.__name__
        return run

    async def sweep(self) -> None:
        with timed("sweep"):
            items = await self.engine.sweep(self.clock())
        if any(item.queued for item in items):
            log.info("sweep queued %d messages", sum(item.queued for item in items))
            self.worker.poke()

    async def prune(self) -> None:
        """Housekeeping, once an hour across all replicas (the hour's slot is claimed)."""
        now = self.clock()
        async with self.engine.db.transaction() as session:
            emptied = expired = 0
            if await coordination.claim_slot(session, "prune", f"{now:%Y-%m-%dT%H}", now):
                await inbound.forget_before(session, now - EVENT_ID_RETENTION)
                retention = self.engine.policy.outbox_retention
                emptied = await outbox.forget_payloads(session, now - retention)
                expired = await offered_files.forget_expired(session, now)
        if emptied:
            log.info("emptied %d delivered or failed messages past retention", emptied)
        if expired:
            log.info("deleted %d offered files nobody saved in time", expired)

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """No new runs; wait (bounded) for a running job to finish its transaction.

        Paused first and shut down only after the wait: APScheduler 3's asyncio executor
        cancels a running coroutine job on `shutdown`, which would roll back a sweep
        half-way (harmless, but logged as a failure) instead of letting it commit.
        """
        self.scheduler.pause()
        try:
            await asyncio.wait_for(self._running.acquire(), grace_seconds)
        except TimeoutError:
            log.warning("a scheduled job is still running at shutdown; it will be cancelled")
        else:
            self._running.release()
        self.scheduler.shutdown(wait=False)
