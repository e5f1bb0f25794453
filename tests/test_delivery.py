"""The delivery worker in one process: pacing, bounded concurrency, retries and stop.

The pacer is tested with explicit times; the worker over real HTTP against the
recording platform double, on SQLite and PostgreSQL. Nothing here waits on a timing;
the tests of a missed wake-up bound a wait that should be all but instant by ten
seconds, against the minute that such a miss costs.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import aiohttp
import pytest
from sqlalchemy import select

from adapters.delivery import (
    SLACK_PACING,
    TEAMS_PACING,
    Limit,
    Pacing,
    Recipient,
    SendResult,
    pacing_for,
)
from bot.clock import utcnow
from bot.delivery import MAX_ATTEMPTS, DeliveryWorker, backoff
from bot.pacing import Pacer
from conversations.engine import Engine
from conversations.messages import Message, to_dict
from storage import outbox, references
from storage.models import OutboxMessage
from tests.doubles.recording_platform import RecordingPlatform
from tests.harness import VirtualClock
from tests.procs.deliver import HttpSender
from tests.test_delivery_reliability import pauses_that_have_ended

T = TypeVar("T")
ONE_A_SECOND = Pacing(per_conversation=(Limit(1, 1.0),))


def test_one_conversation_is_spaced_and_different_ones_go_together() -> None:
    pacer = Pacer(ONE_A_SECOND)
    same = [pacer.reserve("D1", "T", 100.0, row_id=i) for i in range(3)]
    others = [pacer.reserve(f"D{i}", "T", 100.0, row_id=10 + i) for i in range(2, 6)]
    assert same == [100.0, 101.0, 102.0]
    assert others == [100.0] * 4
    slack = Pacer(SLACK_PACING)
    slots = [slack.reserve("D1", "T", 0.0, row_id=i) for i in range(3)]
    assert all(1.0 <= b - a <= 1.1 for a, b in itertools.pairwise(slots))


def test_actual_sends_keep_the_spacing_from_the_previous_answer() -> None:
    pacer = Pacer(ONE_A_SECOND)
    first, second = (pacer.reserve("D1", "T", 0.0, row_id=i) for i in range(2))
    assert (first, second) == (0.0, 1.0)
    assert pacer.start("D1", "T", 0.3) == 0.0  # the first went out 0.3 s late …
    assert pacer.start("D1", "T", 1.0) == pytest.approx(1.0)  # … and is still under way
    pacer.end("D1", "T", 0.45)  # … answered at 0.45: it may have arrived as late as that
    assert pacer.start("D1", "T", 1.0) == pytest.approx(0.45)
    assert pacer.start("D1", "T", 1.45) == 0.0
    assert pacer.start("D2", "T", 1.45) == 0.0  # other conversations are not held up
    pacer.end("D1", "T", 1.5)
    pacer.end("D2", "T", 1.5)
    pacer.forget(100.0)
    assert pacer.start("D1", "T", 100.0) == 0.0


def test_a_window_of_several_sends_counts_those_under_way() -> None:
    pacer = Pacer(Pacing(per_conversation=(Limit(2, 1.0),)))
    assert pacer.start("a", "T", 0.0) == 0.0
    assert pacer.start("a", "T", 0.1) == 0.0
    assert pacer.start("a", "T", 0.2) == pytest.approx(1.0)  # two under way: wait
    pacer.end("a", "T", 0.3)
    assert pacer.start("a", "T", 0.4) == pytest.approx(0.9)  # one ended at 0.3: 1.3
    pacer.end("a", "T", 0.6)
    assert pacer.start("a", "T", 0.7) == pytest.approx(0.6)  # both ended: 0.3 + 1 s


def test_teams_limits_apply_per_thread_and_per_tenant() -> None:
    pacer = Pacer(TEAMS_PACING)
    thread = [pacer.reserve("a", "T", 0.0, row_id=i) for i in range(10)]
    assert thread[:7] == [0.0] * 7  # 7 a second …
    assert thread[7] == 1.0 and thread[8] == 2.0  # … but only 8 in any 2 s
    tenant = Pacer(TEAMS_PACING)
    slots = [tenant.reserve(f"user{i}", "T", 0.0, row_id=i) for i in range(120)]
    assert slots.count(0.0) == 50 and slots.count(1.0) == 50 and slots.count(2.0) == 20
    assert tenant.reserve("elsewhere", "T2", 0.0, row_id=999) == 0.0  # another tenant


def test_retry_after_blocks_that_conversation_and_held_slots_are_kept() -> None:
    pacer = Pacer(ONE_A_SECOND)
    pacer.block("D1", "T", until=30.0)
    assert pacer.reserve("D1", "T", 0.0, row_id=1) == 30.0
    assert pacer.reserve("D2", "T", 0.0, row_id=2) == 0.0
    far = pacer.reserve("D1", "T", 0.0, row_id=3)
    pacer.hold(3, "D1", far)
    assert pacer.reserve("D1", "T", 0.0, row_id=4) == 32.0  # after the held slot
    assert pacer.reserve("D1", "T", far, row_id=3) == far  # the row comes back to its slot
    pacer.forget(10_000.0)
    assert pacer.reserve("D1", "T", 10_000.0, row_id=5) == 10_000.0


def test_senders_declare_pacing_or_get_their_platforms() -> None:
    class Bare:
        platform = "slack"

        async def send(self, recipient: Recipient, message: Message) -> SendResult:
            return SendResult("delivered")

    class Declared(Bare):
        pacing = Pacing(per_conversation=(Limit(3, 1.0),), concurrency=2)

    assert pacing_for(Bare()) == SLACK_PACING
    assert pacing_for(Declared()).concurrency == 2
    local = Bare()
    local.platform = "local"
    assert pacing_for(local) == Pacing()


def test_backoff_grows_is_capped_and_jittered() -> None:
    waits = [backoff(n).total_seconds() for n in (1, 2, 3, 20)]
    assert 22.5 <= waits[0] <= 30 and 45 <= waits[1] <= 60 and 90 <= waits[2] <= 120
    assert 2700 <= waits[3] <= 3600
    assert len({backoff(5).total_seconds() for _ in range(20)}) > 1


@pytest.fixture
async def platform() -> AsyncIterator[RecordingPlatform]:
    double = RecordingPlatform()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    """Poll `check` until it holds; fail (never hang) after `seconds`."""
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


async def settled(value: bool) -> bool:
    return value


async def statuses_are(engine: Engine, statuses: set[str]) -> bool:
    return {r.status for r in await rows_of(engine)} == statuses


async def rows_of(engine: Engine) -> list[OutboxMessage]:
    async with engine.db.transaction() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_sends_to_different_people_run_concurrently_within_the_bound(
    engine: Engine, platform: RecordingPlatform, http: aiohttp.ClientSession
) -> None:
    await pauses_that_have_ended(engine, 12)
    await engine.sweep(utcnow())
    platform.hang_after = 0
    worker = DeliveryWorker(engine.db, {"local": HttpSender(http, platform.url, 5)}, utcnow)
    task = asyncio.create_task(worker.run())
    await until(lambda: settled(platform.hanging >= 5))
    await asyncio.sleep(0.2)
    assert platform.hanging == 5  # five at once, and no more
    platform.release()
    await until(lambda: statuses_are(engine, {"sent"}))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert set(platform.posted.values()) == {1} and len(platform.posted) == 12


async def test_pacing_beyond_the_horizon_waits_in_the_database_not_in_memory(
    engine: Engine, platform: RecordingPlatform, http: aiohttp.ClientSession
) -> None:
    await pauses_that_have_ended(engine, 1)
    await engine.sweep(utcnow())
    (first,) = await rows_of(engine)
    async with engine.db.transaction() as s:
        for i in range(2):
            await outbox.enqueue(
                s,
                key=f"more-{i}",
                kind="n",
                payload=first.payload,
                now=utcnow(),
                person_id=first.person_id,
                platform="local",
            )
    sender = HttpSender(http, platform.url, 4)
    sender.pacing = Pacing(per_conversation=(Limit(1, 60.0),))
    worker = DeliveryWorker(engine.db, {"local": sender}, utcnow)
    assert await worker.run_once() == 3
    rows = await rows_of(engine)
    assert sorted(r.status for r in rows) == ["pending", "pending", "sent"]
    later = [r for r in rows if r.status == "pending"]
    assert [(r.attempts, r.last_error) for r in later] == [(0, "paced")] * 2
    waits = sorted((r.next_attempt_at - utcnow()).total_seconds() for r in later)
    assert 50 < waits[0] <= 60 and 110 < waits[1] <= 120
    assert len(platform.posted) == 1


async def test_a_send_that_reaches_the_platform_late_still_keeps_the_spacing(
    engine: Engine,
) -> None:
    """A request may arrive any time before its answer: the first here arrives 0.3 s
    after it started. Counting each send from its answer keeps arrivals 0.5 s apart;
    spacing starts instead would land the second 0.2 s after the first."""
    await pauses_that_have_ended(engine, 1)
    await engine.sweep(utcnow())
    (first,) = await rows_of(engine)
    async with engine.db.transaction() as s:
        for i in range(2):
            await outbox.enqueue(
                s,
                key=f"more-{i}",
                kind="n",
                payload=first.payload,
                now=utcnow(),
                person_id=first.person_id,
                platform="local",
            )
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    delays = iter((0.3, 0.0, 0.3))

    class SlowOnTheWayIn:
        platform = "local"
        pacing = Pacing(per_conversation=(Limit(1, 0.5),))

        async def send(self, recipient: Recipient, message: Message) -> SendResult:
            await asyncio.sleep(next(delays))
            arrivals.append(loop.time())
            return SendResult("delivered")

    worker = DeliveryWorker(engine.db, {"local": SlowOnTheWayIn()}, utcnow)
    assert await worker.run_once() == 3
    assert len(arrivals) == 3
    assert all(b - a >= 0.5 for a, b in itertools.pairwise(arrivals))


async def test_real_failures_end_dead_after_max_attempts_and_are_logged(
    engine: Engine,
    platform: RecordingPlatform,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await pauses_that_have_ended(engine, 1)
    await engine.sweep(utcnow())
    platform.script = (429,) + (500,) * 100
    clock = VirtualClock(utcnow())  # the pacing between the attempts takes no real time
    worker = DeliveryWorker(engine.db, {"local": HttpSender(http, platform.url, 4)}, clock)
    clock.busy = lambda: worker.sending
    for _ in range(MAX_ATTEMPTS + 1):
        assert await worker.run_once() == 1
        # (a dead row brings a notice to its person: conversations/undeliverable.py)
        (row,) = [r for r in await rows_of(engine) if r.kind != "undeliverable"]
        if row.status == "dead":
            break
        assert row.status == "pending"
        clock.advance_to(row.next_attempt_at + timedelta(seconds=1))
    assert row.status == "dead" and row.attempts == MAX_ATTEMPTS
    assert [r.status for r in platform.requests].count(500) == MAX_ATTEMPTS
    assert "giving up on outbox row" in caplog.text
    assert not platform.posted


async def test_stopping_hands_back_rows_still_waiting_for_their_slot(
    engine: Engine, platform: RecordingPlatform, http: aiohttp.ClientSession
) -> None:
    await pauses_that_have_ended(engine, 1)
    await engine.sweep(utcnow())
    (first,) = await rows_of(engine)
    async with engine.db.transaction() as s:
        await outbox.enqueue(
            s,
            key="second",
            kind="n",
            payload=first.payload,
            now=utcnow(),
            person_id=first.person_id,
            platform="local",
        )
    sender = HttpSender(http, platform.url, 4)
    sender.pacing = Pacing(per_conversation=(Limit(1, 20.0),))  # within the horizon: waits
    worker = DeliveryWorker(engine.db, {"local": sender}, utcnow)
    task = asyncio.create_task(worker.run())
    # One sent; the other claimed, waiting for its slot 20 s on.
    await until(lambda: statuses_are(engine, {"sent", "sending"}))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    (waiting,) = [r for r in await rows_of(engine) if r.status != "sent"]
    assert (waiting.status, waiting.attempts, waiting.claimed_by) == ("pending", 0, None)
    assert waiting.next_attempt_at <= utcnow() and len(platform.posted) == 1


async def test_someone_who_opens_the_chat_while_found_away_is_tried_again_at_once(
    engine: Engine,
) -> None:
    """The send finds the person away; they open the chat before its answer is recorded
    (their `reachable` cannot hasten a row still claimed): the row is due at once, not
    after UNREACHABLE_RETRY. Without such news an away person waits as before."""
    await pauses_that_have_ended(engine, 2)
    await engine.sweep(utcnow())
    found: list[str] = []

    class AwayThenBack:
        platform = "local"
        pacing = Pacing()

        async def send(self, recipient: Recipient, message: Message) -> SendResult:
            found.append(recipient.user_id)
            if recipient.user_id == "user000" and found.count("user000") == 1:
                worker.reachable("local", "user000", recipient.tenant)  # opens the chat now
            if recipient.user_id == "user000" and found.count("user000") > 1:
                return SendResult("delivered")
            return SendResult("unreachable", "no open chat")

    worker = DeliveryWorker(engine.db, {"local": AwayThenBack()}, utcnow)
    assert await worker.run_once() == 2
    by_user = {r.person_id or 0: r for r in await rows_of(engine)}  # ids follow join order
    back, away = (by_user[pid] for pid in sorted(by_user))
    assert (back.status, back.attempts) == ("pending", 0)
    assert back.next_attempt_at <= utcnow()  # due now
    assert (away.next_attempt_at - utcnow()) > timedelta(seconds=50)  # UNREACHABLE_RETRY
    assert await worker.run_once() == 1  # only the one who came back
    assert {r.person_id: r.status for r in await rows_of(engine)} == {
        back.person_id: "sent",
        away.person_id: "pending",
    }


async def _running(worker: DeliveryWorker, engine: Engine) -> None:
    """Run the worker until every row is sent: ten seconds bound a wait that should be all
    but instant, against the idle tick or retry delay (a minute) a missed wake-up costs."""
    running = asyncio.create_task(worker.run())
    try:
        await until(lambda: statuses_are(engine, {"sent"}), seconds=10)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def then_set(call: Callable[..., Awaitable[T]], done: asyncio.Event) -> Callable[..., Awaitable[T]]:
    """`call`, which sets `done` once it has returned: a test waits for that moment."""

    async def wrapped(*args: Any, **kwargs: Any) -> T:
        result = await call(*args, **kwargs)
        done.set()
        return result

    return wrapped


class Answers:
    """A local sender that gives these answers in turn, then delivers."""

    platform = "local"

    def __init__(self, *answers: SendResult, pacing: Pacing | None = None) -> None:
        self.answers = iter(answers)
        self.pacing = pacing or Pacing()

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        return next(self.answers, SendResult("delivered"))


async def test_someone_who_opens_the_chat_while_away_is_recorded_is_not_kept_waiting(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The running worker records "away"; user000 opens the chat while that record is
    being written, so the hastening their `reachable` starts finds the row still claimed.
    The row still goes at once, not after UNREACHABLE_RETRY or the idle tick (a minute)."""
    await pauses_that_have_ended(engine, 1)
    await engine.sweep(utcnow())
    worker = DeliveryWorker(
        engine.db, {"local": Answers(SendResult("unreachable", "away"))}, utcnow, idle_seconds=60
    )
    release, hastened = outbox.release, asyncio.Event()

    async def release_as_they_come_back(*args: Any, **kwargs: Any) -> None:
        worker.reachable("local", "user000")
        await hastened.wait()  # the loop has hastened their rows: this one was claimed
        await release(*args, **kwargs)

    monkeypatch.setattr(outbox, "hasten", then_set(outbox.hasten, hastened))
    monkeypatch.setattr(outbox, "release", release_as_they_come_back)
    await _running(worker, engine)


async def test_a_row_handed_back_while_the_loop_idles_is_sent_when_due(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two messages for one person, one a second apart at most: the second is handed back
    for its slot after the loop read when the next row is due (both rows claimed then,
    so: when their lease ends). It goes in its slot, not at the idle tick (a minute)."""
    (user,) = await pauses_that_have_ended(engine, 1)
    await engine.sweep(utcnow())
    async with engine.db.transaction() as s:
        (person,) = {r.person_id for r in await s.scalars(select(OutboxMessage))}
        await outbox.enqueue(
            s,
            key="second",
            kind="test",
            payload=to_dict(Message(text=f"And another thing, {user}")),
            now=utcnow(),
            person_id=person,
            platform="local",
        )
    sender = Answers(pacing=ONE_A_SECOND)
    # No waiting in memory for a pacing slot: the second row is handed back for it.
    worker = DeliveryWorker(
        engine.db, {"local": sender}, utcnow, idle_seconds=60, max_pacing_wait=0.0
    )
    release, idle = outbox.release, asyncio.Event()

    async def release_once_idle(*args: Any, **kwargs: Any) -> None:
        await idle.wait()
        await release(*args, **kwargs)

    monkeypatch.setattr(outbox, "next_due", then_set(outbox.next_due, idle))
    monkeypatch.setattr(outbox, "release", release_once_idle)
    await _running(worker, engine)


async def test_batch_storage_helpers_respect_the_claimant(engine: Engine) -> None:
    users = await pauses_that_have_ended(engine, 3)
    await engine.sweep(utcnow())
    async with engine.db.transaction() as s:
        rows = await outbox.claim(s, now=utcnow(), worker="w1", platforms=["local"])
        found = await references.reachable_identities(
            s, [r.person_id for r in rows if r.person_id], "local"
        )
    assert sorted(identity.user_id for identity, _ in found.values()) == users
    async with engine.db.transaction() as s:
        assert await outbox.mark_sent_many(s, [r.id for r in rows], "w2", utcnow()) == set()
        assert await outbox.mark_sent_many(s, [r.id for r in rows[:2]], "w1", utcnow()) == {
            r.id for r in rows[:2]
        }
        assert await outbox.counts(s) == {"sent": 2, "sending": 1}
