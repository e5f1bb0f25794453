"""Several replicas on one PostgreSQL: migrations at start, the weekly digest, scheduled
matching rounds and housekeeping each run once per slot, and pacing toward Slack holds
(the platform's 429 is the backstop between replicas' separate pacers)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from unittest.mock import MagicMock

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.delivery import make_sender, seed
from bot.clock import utcnow
from bot.delivery import DeliveryWorker
from bot.scheduler import Jobs
from conversations.engine import Engine
from conversations.matching.settings import MatchingPolicy
from conversations.policy import Policy
from storage import outbox, programs
from storage.coordination import SLOT_PLATFORM, lock_key
from storage.database import Database, execute_autocommit
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import MatchRound, OutboxMessage, ProcessedEvent
from storage.proposals import claim_round
from tests.doubles.rate_limited_slack import SlackDouble
from tests.harness import Chat

REPLICAS = 3
pytestmark = pytest.mark.timeout(300)  # real delivery paced at one post a second


def postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("replicas share PostgreSQL; SQLite serialises writers in one process")


@pytest.fixture
async def replicas(db: Database, db_url: str) -> AsyncIterator[list[Database]]:
    postgres_only(db)
    dbs = [Database(db_url) for _ in range(REPLICAS)]
    yield dbs
    for r in dbs:
        await r.dispose()


@contextlib.asynccontextmanager
async def empty_database(db: Database) -> AsyncIterator[str]:
    """The URL of a new database on `db`'s server, with no schema yet; dropped after."""
    postgres_only(db)
    base = make_url(str(db.engine.url.set(drivername="postgresql")))
    name = f"mentorbot_test_{uuid.uuid4().hex[:10]}"
    await execute_autocommit(
        base.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"'
    )
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await execute_autocommit(
            base.render_as_string(hide_password=False),
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )


async def test_replicas_starting_together_migrate_one_at_a_time(db: Database) -> None:
    async with empty_database(db) as url:
        fresh = [Database(url) for _ in range(REPLICAS)]
        try:
            await asyncio.gather(*(upgrade(r) for r in fresh))  # none fails on CREATE TABLE
            assert await current_revision(fresh[0]) == head_revision()
        finally:
            for r in fresh:
                await r.dispose()


async def test_a_replica_waits_its_turn_to_migrate_longer_than_a_statement_may_take(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another replica holds the migration lock for longer than the statement timeout
    (2.5 s against a 1 s bound): this one waits its turn, then migrates, rather than
    stopping with a timeout."""
    monkeypatch.setenv("MENTORBOT_DB_STATEMENT_TIMEOUT", "1")
    lock = {"key": lock_key("migrate")}
    async with empty_database(db) as url:
        other, replica = Database(url), Database(url)
        try:
            async with other.engine.connect() as conn:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), lock)
                waiting = asyncio.create_task(upgrade(replica))
                await asyncio.sleep(2.5)
                assert not waiting.done()  # still waiting for the lock, not failed
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
            await waiting
            assert await current_revision(replica) == head_revision()
        finally:
            await other.dispose()
            await replica.dispose()


async def test_replicas_sweeping_first_on_an_empty_database_create_one_program(
    policy: Policy, replicas: list[Database]
) -> None:
    """Found by the soak: every replica's first sweep creates the program; all but one
    failed on its unique slug (and logged an error) until the next sweep."""
    now = utcnow()
    for _ in range(3):
        engines = [Engine(r, policy) for r in replicas]  # each starts with no program cached
        await asyncio.gather(*(e.sweep(now) for e in engines))
        ids = {e.program_id for e in engines}
        assert len(ids) == 1 and None not in ids


async def test_the_digest_and_a_scheduled_round_run_once_per_slot_across_replicas(
    db: Database, policy: Policy, replicas: list[Database]
) -> None:
    policy = dataclasses.replace(
        policy,
        matching=MatchingPolicy(rounds="weekly"),  # Mondays 09:00, like the digest
        digest=dataclasses.replace(policy.digest, channels=(("slack", "C0DIGEST"),)),
    )
    chat = Chat(Engine(db, policy))
    for n in range(12):
        await chat.say(f"mentee{n}", "join mentee")
        await chat.say(f"mentee{n}", "profile set wants=python,speaking level=3")
        await chat.say(f"mentor{n}", "join mentor")
        await chat.say(f"mentor{n}", "profile set offers=python,speaking level=6")
    engines = [Engine(r, policy) for r in replicas]
    now = chat.now + timedelta(seconds=30)  # Monday 09:00:30: both slots just passed
    for _ in range(3):  # every replica sweeps at once, three minutes running
        await asyncio.gather(*(e.sweep(now) for e in engines))
        now += timedelta(minutes=1)
    async with db.transaction() as session:
        rounds = list(await session.scalars(select(MatchRound.slot)))
        kinds = dict(
            (
                await session.execute(
                    select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
                )
            ).all()
        )
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key)))
    assert len(rounds) == 1 and rounds[0].startswith("scheduled:")
    assert kinds["digest"] == 1
    assert kinds["proposal"] == 24  # 12 pairs, each told to both, once
    assert len(keys) == len(set(keys))


async def test_a_round_slot_another_replica_is_recording_is_skipped_not_waited_for(
    replicas: list[Database],
) -> None:
    """A replica still matching holds its slot's row uncommitted; another's claim of that
    slot returns at once (not after the statement timeout) and finds it taken."""
    now = utcnow()
    async with replicas[0].transaction() as session:
        program = await programs.ensure_program(session, "acme", "Acme", None, now)
    async with replicas[0].transaction() as first:
        assert await claim_round(first, program.id, "scheduled:x", now, None) is not None
        async with replicas[1].transaction() as second:
            async with asyncio.timeout(2):  # the insert alone would wait for `first`
                assert await claim_round(second, program.id, "scheduled:x", now, None) is None
            assert await claim_round(second, program.id, "scheduled:y", now, None) is not None
    async with replicas[2].transaction() as third:
        assert await claim_round(third, program.id, "scheduled:x", now, None) is None
        slots = set(await third.scalars(select(MatchRound.slot)))
    assert slots == {"scheduled:x", "scheduled:y"}


async def test_housekeeping_runs_once_per_hour_across_replicas(
    policy: Policy, replicas: list[Database]
) -> None:
    clock_now = utcnow()
    jobs = [Jobs(Engine(r, policy), MagicMock(), lambda: clock_now) for r in replicas]
    await asyncio.gather(*(j.prune() for j in jobs))
    await asyncio.gather(*(j.prune() for j in jobs))
    async with replicas[0].transaction() as session:
        claims = list(
            await session.scalars(
                select(ProcessedEvent.event_id).where(ProcessedEvent.platform == SLOT_PLATFORM)
            )
        )
    assert claims == [f"prune:{clock_now:%Y-%m-%dT%H}"]
    clock_now += timedelta(hours=1)
    await asyncio.gather(*(j.prune() for j in jobs))
    async with replicas[0].transaction() as session:
        count = await session.scalar(
            select(func.count()).where(ProcessedEvent.platform == SLOT_PLATFORM)
        )
    assert count == 2


async def test_replicas_pacing_separately_stay_within_slacks_limit_and_send_once(
    replicas: list[Database],
) -> None:
    """Each replica paces its own sends (1 a second per channel); together they may ask
    for more, and Slack's 429 + Retry-After turns the excess away. The double accepts
    at most one post a second per channel (so whatever it accepted was within the limit)
    and every message still arrives exactly once, none given up."""
    double = SlackDouble()
    await double.start()
    messages, channels = 18, 3
    await seed(replicas[0], messages=messages, channels=channels)
    workers = [  # few rows each at a time, so every replica sends to every channel
        DeliveryWorker(
            r, {"slack": make_sender(r, f"{double.url}/api/")}, utcnow, batch=2, max_in_flight=4
        )
        for r in replicas
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    started = time.monotonic()
    try:
        for _ in range(1500):
            async with replicas[0].transaction() as s:
                counts = await outbox.counts(s)
            if counts.get("sent") == messages:
                break
            await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await double.stop()
    elapsed = time.monotonic() - started
    assert counts == {"sent": messages}
    stats = double.stats()
    assert (stats["unique"], stats["duplicated"]) == (messages, 0)
    # One post a second per channel is all Slack allows: 6 posts each need ≥ 5 s.
    assert elapsed >= messages / channels - 1
    assert elapsed < 3 * messages / channels  # the 429s cost seconds, not minutes
    print(f"\n{stats['rate_limited']} posts turned away with 429 in {elapsed:.1f} s")


def test_the_sweep_interval_comes_from_the_environment() -> None:
    from bot.scheduler import SWEEP_EVERY, sweep_interval

    assert sweep_interval({}) == SWEEP_EVERY == timedelta(minutes=1)
    assert sweep_interval({"MENTORBOT_SWEEP_SECONDS": "5"}) == timedelta(seconds=5)
    for bad in ("0", "-3", "soon", "86400"):
        assert sweep_interval({"MENTORBOT_SWEEP_SECONDS": bad}) == SWEEP_EVERY
    jobs = Jobs(MagicMock(), MagicMock(), utcnow, sweep_every=timedelta(seconds=5))
    assert jobs.scheduler.get_job("sweep").trigger.interval == timedelta(seconds=5)
