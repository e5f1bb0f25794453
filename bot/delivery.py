"""The delivery worker: claims outbox rows and sends them through each platform's sender.

Claim (short transaction, which also finds the recipients) → send (no transaction
held) → mark sent or release for a retry (another short transaction). Many rows are
in flight at once: each platform has a `Pacer` that spaces sends per conversation and
per tenant within the platform's limits, and a bound on concurrent sends, so
throughput approaches what the platform allows while different people's messages go
out together.

Nothing is dropped: a crash after the claim leaves the row `sending` until its
lease runs out, then any worker sends it (flagged `maybe_delivered`, so a sender
that can check the platform does). Transient failures back off exponentially with
jitter; a platform's Retry-After is honoured and, like pacing and an unreachable
person, never uses up an attempt. A row is given up (`dead`, logged as an error)
only after MAX_ATTEMPTS real failures or a permanent one.

Exactly once, and its limit: the platform may accept a message and the process die
before `mark_sent` commits. Then the row is sent again after its lease. That window
is one short transaction wide (two under load: sends that finish while a record is
being written go in the next one); it is retried on a database hiccup, a graceful stop
finishes in-flight sends before exiting, and the row's idempotency key goes to the
sender (`Recipient.key`) for platforms that can deduplicate or be checked.

Time comes from one injected `Clock` (adapters/clock.py): the rows' wall time, the
pacer's monotonic time and every wait, so tests run the worker on virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.delivery import Recipient, Sender, SendResult, pacing_for
from bot import metrics
from bot.clock import Clock, as_clock
from bot.pacing import Pacer
from conversations.messages import from_dict, to_dict
from conversations.undeliverable import UNDELIVERABLE_KIND, undeliverable_notice
from storage import outbox, references
from storage.database import Database
from storage.models import Identity, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
UNREACHABLE_RETRY = timedelta(minutes=1)
LEASE = timedelta(minutes=2)
# A send is not started with less lease than this left: a sender's own HTTP timeout must
# be shorter, so no other worker can take the row over while we are still sending it.
SEND_BUDGET = timedelta(seconds=30)
MARK_SENT_RETRIES = (0.2, 0.5, 1.0, 2.0, 5.0)
STOP_GRACE_SECONDS = 10.0


def backoff(attempts: int, first: float = 30.0) -> timedelta:
    """30 s, 1 min, 2 min … capped at an hour, with up to a quarter off at random so
    rows that failed together do not retry together."""
    wait = min(first * 2 ** max(attempts - 1, 0), 3600.0)
    return timedelta(seconds=wait * random.uniform(0.75, 1.0))


def after_retry_after(seconds: float) -> timedelta:
    """Retry-After plus a little jitter (never less than the platform asked)."""
    return timedelta(seconds=seconds * random.uniform(1.0, 1.1) + random.uniform(0.0, 0.05))


def _context(row: OutboxMessage) -> dict[str, Any]:
    """What a log line about a row carries for JSON logs (never the message itself)."""
    return {"outbox_id": row.id, "platform": row.platform, "kind": row.kind}


Found = tuple[Identity, dict[str, Any] | None] | None  # the recipient's identity and reference


@dataclass
class _Platform:
    sender: Sender
    pacer: Pacer
    sends: asyncio.Semaphore


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Clock | Callable[[], datetime],
        *,
        idle_seconds: float = 5.0,
        batch: int = 50,
        max_in_flight: int = 200,
        lease: timedelta = LEASE,
        send_budget: timedelta = SEND_BUDGET,
        max_pacing_wait: float = 30.0,
        first_backoff: float = 30.0,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.batch = batch
        self.max_in_flight = max_in_flight
        self.lease = lease
        self.send_budget = send_budget
        self.max_pacing_wait = max_pacing_wait
        self.first_backoff = first_backoff
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._platforms = {
            name: _Platform(
                sender, Pacer(pacing_for(sender)), asyncio.Semaphore(pacing_for(sender).concurrency)
            )
            for name, sender in self.senders.items()
        }
        self._wake = asyncio.Event()
        self._came_online: set[tuple[str, str, str]] = set()
        self._online_at: dict[tuple[str, str, str], float] = {}  # → monotonic time
        self._in_flight: dict[asyncio.Task[None], bool] = {}  # task → sending (not pacing)
        self._to_mark: list[tuple[OutboxMessage, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None
        metrics.get()  # prometheus_client is imported here, not in the middle of a send

    def poke(self) -> None:
        """Deliver now rather than at the next idle tick (new rows were queued)."""
        self._wake.set()

    def reachable(self, platform: str, user_id: str, tenant: str = "") -> None:
        """Someone just became reachable (opened the chat): their waiting rows go first."""
        key = (platform, tenant, user_id)
        self._came_online.add(key)
        if len(self._online_at) > 100_000:
            self._online_at.clear()
        self._online_at[key] = self._monotonic()
        self._wake.set()

    @property
    def clock(self) -> Clock:
        """Wall time for the rows, monotonic time for pacing, and every wait of the worker
        (a bare now-function keeps the system's monotonic time and sleep: `as_clock`)."""
        return self._clock

    @clock.setter
    def clock(self, clock: Clock | Callable[[], datetime]) -> None:
        self._clock = as_clock(clock)

    @property
    def sending(self) -> int:
        """Sends under way now (from the start of the send until the row is settled)."""
        return sum(self._in_flight.values())

    def _monotonic(self) -> float:
        return self._clock.monotonic()

    def _now(self) -> datetime:
        return self._clock.now()

    async def _claim(self, limit: int) -> list[tuple[OutboxMessage, Found]]:
        """Claim due rows and find their recipients, in one short transaction."""
        online, self._came_online = self._came_online, set()
        if online:
            async with self.db.transaction() as session:
                for platform, tenant, user_id in online:
                    await outbox.hasten(
                        session, platform=platform, tenant=tenant, user_id=user_id, now=self._now()
                    )
        async with self.db.transaction() as session:
            rows = await outbox.claim(
                session,
                now=self._now(),
                worker=self.name,
                platforms=list(self.senders),
                limit=limit,
                lease=self.lease,
            )
            found: dict[tuple[str, int], Found] = {}
            for platform in {row.platform or "" for row in rows}:
                people = [r.person_id for r in rows if r.platform == platform and r.person_id]
                if people:
                    reachable = await references.reachable_identities(session, people, platform)
                    found.update({(platform, pid): f for pid, f in reachable.items()})
        return [(row, found.get((row.platform or "", row.person_id or 0))) for row in rows]

    def _spawn(self, row: OutboxMessage, found: Found) -> asyncio.Task[None]:
        task = asyncio.create_task(self._deliver(row, found), name=f"deliver-{row.id}")
        self._in_flight[task] = False
        task.add_done_callback(self._in_flight.pop)
        return task

    async def run_once(self) -> int:
        """Claim one batch and deliver it (paced, concurrently); returns how many were claimed."""
        rows = await self._claim(self.batch)
        tasks = [self._spawn(row, found) for row, found in rows]
        if tasks:
            await asyncio.gather(*tasks)
        return len(rows)

    async def run(self) -> None:
        """Deliver until cancelled; then finish sends under way and hand back the rest."""
        try:
            while True:
                room = self.max_in_flight - len(self._in_flight)
                claimed = 0
                if room > 0:
                    # Cleared before the claim reads anything: a poke or `reachable` from
                    # here on (during the claim too) makes the next idle wait return at once.
                    self._wake.clear()
                    try:
                        rows = await self._claim(min(room, self.batch))
                        claimed = len([self._spawn(row, found) for row, found in rows])
                    except Exception:
                        log.exception("delivery claim failed; retrying shortly")
                        await self._clock.sleep(1.0)
                        continue
                    if claimed == min(room, self.batch):
                        await asyncio.sleep(0)  # let the new tasks start, then claim more
                        continue
                await self._idle(full=room <= 0)
        finally:
            await self._drain()

    async def _idle(self, *, full: bool) -> None:
        """Wait for a free slot (full), a poke, the next due row, or the idle tick."""
        if full:
            await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
            return
        for platform in self._platforms.values():
            platform.pacer.forget(self._monotonic())
        timeout = self.idle_seconds
        try:
            async with self.db.transaction() as session:
                due = await outbox.next_due(session, platforms=list(self.senders))
        except Exception:
            log.exception("could not read the next due time; waiting the idle tick")
            due = None
        if due is not None:
            timeout = min(timeout, max((due - self._now()).total_seconds(), 0.05))
        tick = asyncio.ensure_future(self._clock.sleep(timeout))
        tick.add_done_callback(lambda _: self._wake.set())  # the idle tick is a poke too
        try:
            await self._wake.wait()
        finally:
            tick.cancel()

    async def _drain(self) -> None:
        """At shutdown: rows still waiting for their pacing slot go back at once (another
        worker may send them now); sends under way get a grace period to finish and be
        marked, so a stop does not turn into a duplicate after the lease."""
        waiting = [task for task, sending in self._in_flight.items() if not sending]
        for task in waiting:
            task.cancel()
        tasks = list(self._in_flight)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in late:
                log.warning("a send is still under way at shutdown; its row waits for its lease")
                task.cancel()

    async def _deliver(self, row: OutboxMessage, found: Found) -> None:
        """One row, start to finish; never raises (a failure leaves the row to its lease)."""
        try:
            await self._deliver_row(row, found)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "delivering outbox row %s failed; it is retried after its lease",
                row.id,
                extra=_context(row),
            )

    async def _deliver_row(self, row: OutboxMessage, found: Found) -> None:
        platform = self._platforms[row.platform or ""]
        acquired = started = False
        try:  # until the send starts, a stop hands the row straight back
            ready = await self._prepare(row, platform, found)
            if ready is None:
                return
            recipient, lane = ready
            # Normally at most a wait or two of a few milliseconds: the previous send to
            # this conversation was answered a little after its planned slot.
            for _ in range(100):
                wait = platform.pacer.start(lane, recipient.tenant, self._monotonic())
                if not wait:
                    break
                await self._clock.sleep(wait)
            else:
                await self._hand_back(row, self._now() + timedelta(seconds=wait), "paced")
                return
            started = True  # from here on the pacer counts this send as under way
            await platform.sends.acquire()
            acquired = True
        except asyncio.CancelledError:
            if started:
                platform.pacer.end(lane, recipient.tenant, self._monotonic())
            if acquired:
                platform.sends.release()
            await asyncio.shield(self._hand_back(row, self._now(), "handed back at shutdown"))
            raise
        try:
            if self._lease_left(row) < self.send_budget.total_seconds():
                platform.pacer.end(lane, recipient.tenant, self._monotonic())
                await self._hand_back(row, self._now(), "lease too short to send safely")
                return
            current = asyncio.current_task()
            if current is not None and current in self._in_flight:
                self._in_flight[current] = True
            asked = self._monotonic()
            try:
                result = await self._send(platform.sender, recipient, row)
            finally:
                platform.pacer.end(lane, recipient.tenant, self._monotonic())
            if result.outcome == "retry" and result.retry_after is not None:
                platform.pacer.block(lane, recipient.tenant, self._monotonic() + result.retry_after)
            await asyncio.shield(self._settle(row, result, recipient, asked))
        finally:
            platform.sends.release()

    def _lease_left(self, row: OutboxMessage) -> float:
        return (row.claimed_until - self._now()).total_seconds() if row.claimed_until else 0.0

    async def _prepare(
        self, row: OutboxMessage, platform: _Platform, found: Found
    ) -> tuple[Recipient, Hashable] | None:
        """Wait for the recipient's pacing slot; None when the row was settled or handed
        back instead (no identity; slot beyond what the lease allows)."""
        maybe_delivered = (row.last_error or "").startswith(outbox.LEASE_EXPIRED)
        if row.person_id is None and row.channel:  # a channel post (a digest), not a DM
            recipient = Recipient(
                row.platform or "",
                "",
                "",
                None,
                channel=row.channel,
                key=row.idempotency_key,
                maybe_delivered=maybe_delivered,
            )
        elif found is not None:
            identity, reference = found
            recipient = Recipient(
                identity.platform,
                identity.tenant,
                identity.user_id,
                reference,
                key=row.idempotency_key,
                maybe_delivered=maybe_delivered,
            )
        else:
            await self._settle(row, SendResult("failed", "no identity on this platform"), None)
            return None
        lane: Hashable = (recipient.tenant, recipient.channel or recipient.user_id)
        now = self._monotonic()
        slot = platform.pacer.reserve(lane, recipient.tenant, now, row_id=row.id)
        allowed = min(
            self.max_pacing_wait, self._lease_left(row) - self.send_budget.total_seconds()
        )
        if slot - now > allowed:
            platform.pacer.hold(row.id, lane, slot)
            await self._hand_back(row, self._now() + timedelta(seconds=slot - now), "paced")
            return None
        await self._clock.sleep(slot - self._monotonic())
        return recipient, lane

    async def _send(self, sender: Sender, recipient: Recipient, row: OutboxMessage) -> SendResult:
        """The sender's answer; a sender that raises or outlives the lease is a retry."""
        try:
            async with asyncio.timeout(max(self._lease_left(row) - 1.0, 1.0)):
                return await sender.send(recipient, from_dict(row.payload))
        except TimeoutError:
            log.error(
                "sender %s outlived the lease of outbox row %s",
                sender.platform,
                row.id,
                extra=_context(row),
            )
            return SendResult("retry", f"{outbox.LEASE_EXPIRED}: the send timed out")
        except Exception as err:  # a sender bug must not kill the worker
            log.exception(
                "sender %s raised for outbox row %s", sender.platform, row.id, extra=_context(row)
            )
            return SendResult("retry", f"{type(err).__name__}: {err}")

    async def _hand_back(self, row: OutboxMessage, at: datetime, why: str) -> None:
        """Return a claimed row unsent, without using up an attempt. Like every row that
        goes back, it wakes the loop, which may be idle until the lease this row had."""
        async with self.db.transaction() as session:
            await outbox.release(
                session, row.id, self.name, retry_at=at, error=why, count_attempt=False
            )
        self._wake.set()

    def _back_since(self, recipient: Recipient | None, asked: float | None) -> bool:
        """The recipient opened the chat (`reachable`) since `asked` (monotonic)."""
        if recipient is None or asked is None:
            return False
        key = (recipient.platform, recipient.tenant, recipient.user_id)
        return self._online_at.get(key, float("-inf")) >= asked

    async def _settle(
        self,
        row: OutboxMessage,
        result: SendResult,
        recipient: Recipient | None,
        asked: float | None = None,
    ) -> None:
        """Record the send's outcome on the row. `asked`: when the send began (monotonic):
        a person found away who opened the chat since is tried again at once, not after
        UNREACHABLE_RETRY (their `reachable` came while the row was claimed)."""
        now = self._now()
        if result.outcome == "delivered":
            metrics.delivery(row.platform or "", "delivered", kind=row.kind)
            await self._mark_sent(row)
            return
        back = result.outcome == "unreachable" and self._back_since(recipient, asked)
        if result.outcome == "unreachable":
            retry_at, counted, dead = now if back else now + UNREACHABLE_RETRY, False, False
        elif result.outcome == "retry" and result.retry_after is not None:
            retry_at, counted, dead = now + after_retry_after(result.retry_after), False, False
            log.info(
                "outbox row %s: platform asked to wait %ss",
                row.id,
                result.retry_after,
                extra=_context(row),
            )
        else:
            retry_at, counted = now + backoff(row.attempts, self.first_backoff), True
            dead = result.outcome == "failed" or row.attempts >= MAX_ATTEMPTS
            if dead:
                log.error(
                    "giving up on outbox row %s (%s) after %d attempt(s): %s",
                    row.id,
                    row.kind,
                    row.attempts,
                    result.detail,
                    extra=_context(row),
                )
            else:
                log.warning(
                    "outbox row %s attempt %d failed, retrying at %s: %s",
                    row.id,
                    row.attempts,
                    retry_at.isoformat(),
                    result.detail,
                    extra=_context(row),
                )
        metrics.delivery(
            row.platform or "",
            "dead" if dead else result.outcome,
            rate_limited=result.outcome == "retry" and result.retry_after is not None,
        )
        error = result.detail or result.outcome
        if recipient is not None and recipient.maybe_delivered:
            # Still unknown whether the earlier send got through: the next try must know.
            error = f"{outbox.LEASE_EXPIRED}; then: {error}"
        async with self.db.transaction() as session:
            await outbox.release(
                session,
                row.id,
                self.name,
                retry_at=retry_at,
                error=error,
                count_attempt=counted,
                dead=dead,
            )
            if dead and row.person_id is not None and row.kind != UNDELIVERABLE_KIND:
                # Never silently: the person hears that something did not arrive.
                await outbox.enqueue(
                    session,
                    key=f"{UNDELIVERABLE_KIND}:{row.id}",
                    kind=UNDELIVERABLE_KIND,
                    payload=to_dict(undeliverable_notice(row.payload, row.kind)),
                    now=now,
                    person_id=row.person_id,
                    platform=row.platform,
                )
        if not back and result.outcome == "unreachable" and self._back_since(recipient, asked):
            # They opened the chat while this answer was being recorded: their `reachable`
            # found the row still claimed, so the next claim hastens it again.
            assert recipient is not None
            self._came_online.add((recipient.platform, recipient.tenant, recipient.user_id))
        self._wake.set()  # the loop may be idle until the lease this row had

    async def _mark_sent(self, row: OutboxMessage) -> None:
        """Record the delivery. Rows delivered while a record is being written wait for it
        and go in the next one together (group commit: fewer transactions under load,
        no added delay when idle)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_mark.append((row, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks())
        await done

    async def _write_marks(self) -> None:
        while self._to_mark:
            batch, self._to_mark = self._to_mark, []
            try:
                await self._mark_batch([row for row, _ in batch])
            finally:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _mark_batch(self, rows: list[OutboxMessage]) -> None:
        """Mark rows sent, retrying a database hiccup while their leases last: every
        failure here is a message the platform has, which would be sent again."""
        ids = [row.id for row in rows]
        leases = [row.claimed_until for row in rows if row.claimed_until is not None]
        for pause in (*MARK_SENT_RETRIES, None):
            try:
                async with self.db.transaction() as session:
                    marked = await outbox.mark_sent_many(session, ids, self.name, self._now())
                for row_id in sorted(set(ids) - marked):
                    log.warning("outbox row %s was delivered after its lease ran out", row_id)
                return
            except Exception:
                if pause is None or (leases and self._now() >= min(leases)):
                    log.exception(
                        "could not record outbox rows %s as sent; they will be sent again", ids
                    )
                    return
                log.warning("recording outbox rows as sent failed; retrying")
                await self._clock.sleep(pause)
