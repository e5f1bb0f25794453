"""The delivery worker: claims outbox rows and sends them through each platform's sender.

Claim (short transaction) → send (no transaction held) → mark sent or release
for a retry (another short transaction). A crash after the claim leaves the
row `sending` until its lease runs out, then any worker sends it. Retries back
off exponentially and honour a platform's Retry-After; an unreachable person
(no open chat, no reference yet) is not a failure and does not use up attempts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from adapters.delivery import Recipient, Sender, SendResult
from conversations.messages import from_dict
from storage import outbox, references
from storage.database import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
UNREACHABLE_RETRY = timedelta(minutes=1)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        *,
        idle_seconds: float = 5.0,
        batch: int = 50,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.batch = batch
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._came_online: set[tuple[str, str, str]] = set()

    def poke(self) -> None:
        """Deliver now rather than at the next idle tick (new rows were queued)."""
        self._wake.set()

    def reachable(self, platform: str, user_id: str, tenant: str = "") -> None:
        """Someone just became reachable (opened the chat): their waiting rows go first."""
        self._came_online.add((platform, tenant, user_id))
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many rows were claimed."""
        online, self._came_online = self._came_online, set()
        async with self.db.transaction() as session:
            for platform, tenant, user_id in online:
                await outbox.hasten(
                    session, platform=platform, tenant=tenant, user_id=user_id, now=self.clock()
                )
        async with self.db.transaction() as session:
            rows = await outbox.claim(
                session,
                now=self.clock(),
                worker=self.name,
                platforms=list(self.senders),
                limit=self.batch,
            )
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        sender = self.senders[row.platform or ""]
        recipient: Recipient | None = None
        if row.person_id is None and row.channel:
            recipient = Recipient(sender.platform, "", "", None, channel=row.channel)
        elif row.person_id is not None:
            async with self.db.transaction() as session:
                found = await references.reachable_identity(session, row.person_id, sender.platform)
            if found is not None:
                identity, reference = found
                recipient = Recipient(
                    identity.platform, identity.tenant, identity.user_id, reference
                )
        if recipient is None:
            result = SendResult("failed", "no identity on this platform")
        else:
            try:
                result = await sender.send(recipient, from_dict(row.payload))
            except Exception as err:  # a sender bug must not kill the worker
                log.exception("sender %s raised for outbox row %s", sender.platform, row.id)
                result = SendResult("retry", f"{type(err).__name__}: {err}")
        now = self.clock()
        async with self.db.transaction() as session:
            if result.outcome == "delivered":
                if not await outbox.mark_sent(session, row.id, self.name, now):
                    log.warning("outbox row %s was delivered after its lease ran out", row.id)
                return
            if result.outcome == "unreachable":
                await outbox.release(
                    session,
                    row.id,
                    self.name,
                    retry_at=now + UNREACHABLE_RETRY,
                    error=result.detail,
                    count_attempt=False,
                )
                return
            dead = result.outcome == "failed" or row.attempts >= MAX_ATTEMPTS
            wait = (
                timedelta(seconds=result.retry_after)
                if result.retry_after is not None
                else backoff(row.attempts)
            )
            if dead:
                log.error("giving up on outbox row %s (%s): %s", row.id, row.kind, result.detail)
            await outbox.release(
                session, row.id, self.name, retry_at=now + wait, error=result.detail, dead=dead
            )

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            try:
                claimed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery pass failed; retrying shortly")
                claimed = 0
            if claimed:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
            except TimeoutError:
                pass
