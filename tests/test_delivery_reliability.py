"""Exactly-once delivery across real OS processes, on SQLite and on PostgreSQL.

Work is queued by the real engine sweep (many pauses ending) and delivered by
`tests/procs/deliver.py` processes to the recording platform double over loopback.
What we guarantee, and test:
- concurrent replicas, and a platform answering 429 and 500 for a while: every
  message is posted exactly once, with no deduplication needed;
- a replica killed with SIGKILL mid-send: nothing is lost; a message the platform
  accepted just before the kill is sent once more after the lease, flagged
  `maybe_delivered` and carrying its idempotency key, so a platform that honours
  keys (as the double does) posts it once. Only messages in flight at the kill can
  be re-sent, at most once each per crash.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import utcnow
from conversations.engine import Engine
from storage import outbox
from storage.models import OutboxMessage
from tests.doubles.recording_platform import RecordingPlatform
from tests.harness import Chat

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 100
# Enough rows that two replicas claiming batches of 5 overlap many times over.
SOME = 40


async def pauses_that_have_ended(engine: Engine, count: int) -> list[str]:
    """`count` people who paused until a day now past: the next sweep queues their news."""
    chat = Chat(engine, now=utcnow() - timedelta(days=3))
    users = [f"user{i:03d}" for i in range(count)]
    for user in users:
        await chat.say(user, "join mentee")
        assert "Paused until" in await chat.text(user, "pause until tomorrow")
    return users


async def start(db_url: str, target: str, *extra: str) -> asyncio.subprocess.Process:
    command = [sys.executable, "-m", "tests.procs.deliver", "--db", db_url, "--target", target]
    return await asyncio.create_subprocess_exec(
        *command, *extra, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )


async def start_together(db_url: str, target: str, *extra: str) -> list[str]:
    """Two replicas released at the same moment, run to the end; their summaries."""
    args = ("--wait-for-go", "--batch", "5", "--in-flight", "10", *extra)
    processes = [await start(db_url, target, *args) for _ in range(2)]
    for process in processes:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(b"go\n")
    return list(await asyncio.gather(*(finish(p) for p in processes)))


async def finish(process: asyncio.subprocess.Process) -> str:
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 120)
    except TimeoutError:
        process.kill()
        raise
    assert process.returncode == 0, out
    return out.decode()


async def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    async with engine.db.transaction() as s:
        return list(await s.scalars(select(OutboxMessage)))


@pytest.fixture
async def platform() -> AsyncIterator[RecordingPlatform]:
    double = RecordingPlatform()
    await double.start()
    yield double
    await double.stop()


async def test_two_replicas_sweeping_and_delivering_send_each_message_once(
    engine: Engine, db_url: str, platform: RecordingPlatform
) -> None:
    await pauses_that_have_ended(engine, SOME)
    platform.gather_workers = 2  # nothing is answered until both replicas are sending
    await start_together(db_url, platform.url)
    assert len({r.worker for r in platform.requests}) == 2  # both replicas did deliver
    rows = await outbox_rows(engine)
    assert len(rows) == SOME and {r.status for r in rows} == {"sent"}
    assert set(platform.posted) == {r.idempotency_key for r in rows}
    assert set(platform.posted.values()) == {1}  # posted once each, no deduplication needed
    assert {r.user for r in platform.requests} == {f"user{i:03d}" for i in range(SOME)}


async def test_a_platform_answering_429_and_500_still_gets_each_message_once(
    engine: Engine, db_url: str, platform: RecordingPlatform
) -> None:
    await pauses_that_have_ended(engine, SOME)
    platform.script = (429, 500, 429)  # each key: rate limited, server error, limited, then ok
    platform.retry_after = 1
    platform.gather_workers = 2
    await start_together(db_url, platform.url)
    assert len({r.worker for r in platform.requests}) == 2
    rows = await outbox_rows(engine)
    assert {r.status for r in rows} == {"sent"} and len(rows) == SOME
    assert set(platform.posted) == {r.idempotency_key for r in rows}
    assert set(platform.posted.values()) == {1}
    statuses = [r.status for r in platform.requests]
    assert statuses.count(429) == 2 * SOME and statuses.count(500) == SOME
    # Only the 500 counted as a failed attempt: Retry-After is pacing, not failure.
    assert {r.attempts for r in rows} == {2}


async def test_a_replica_killed_mid_send_loses_nothing_and_duplicates_nothing(
    engine: Engine, db_url: str, platform: RecordingPlatform
) -> None:
    await pauses_that_have_ended(engine, PEOPLE)
    platform.hang_after = PEOPLE // 3  # then accept and never answer: sends caught in flight
    # A long lease: the held sends stay held (a send outliving a short lease is given up,
    # which frees its slot for a fifth). The restart below comes "after" it by clock.
    process = await start(db_url, platform.url, "--lease", "60", "--concurrency", "4")
    for _ in range(1200):
        if platform.hanging >= 4 or process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    assert platform.hanging == 4, "the double should hold exactly the bounded in-flight sends"
    os.kill(process.pid, signal.SIGKILL)
    await process.wait()
    accepted_before_kill = set(platform.posted)
    in_flight = {
        r.key for r in platform.requests[-4:]
    }  # accepted by the platform, never confirmed to the dead worker
    rows = {r.idempotency_key: r for r in await outbox_rows(engine)}
    assert all(rows[key].status == "sending" for key in in_flight)
    platform.release()
    await finish(await start(db_url, platform.url, "--ahead", "120"))

    rows = {r.idempotency_key: r for r in await outbox_rows(engine)}
    assert len(rows) == PEOPLE and {r.status for r in rows.values()} == {"sent"}
    assert set(platform.delivered) == set(rows) and set(platform.delivered.values()) == {1}
    resent = {key for key, n in platform.posted.items() if n > 1}
    assert resent == in_flight  # exactly the sends the kill left unconfirmed …
    assert all(platform.posted[key] == 2 for key in resent)  # … once more each …
    second_tries = [r for r in platform.requests if r.key in resent and r.maybe_delivered]
    assert {r.key for r in second_tries} == resent  # … flagged, so a platform can dedupe
    assert accepted_before_kill - in_flight <= {k for k, n in platform.posted.items() if n == 1}


async def test_counts_by_status(engine: Engine) -> None:
    await pauses_that_have_ended(engine, 2)
    await engine.sweep(utcnow())
    async with engine.db.transaction() as s:
        assert await outbox.counts(s) == {"pending": 2}
