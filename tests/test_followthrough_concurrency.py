"""Replicas sweeping one PostgreSQL at once: every due step is taken once, none twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conversations import engine as engine_module
from conversations.engine import Engine
from conversations.policy import Policy
from conversations.sweeps import DueItem, SweepContext
from storage.database import Database
from storage.models import Lapse, OutboxMessage, Pair
from tests.followthrough_kit import agree_both, inbox, make_pair
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
        await chat.engine.sweep(chat.now + timedelta(days=17))  # the ladder's first rung
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
    assert kinds["lapse-nudge-both"] == 60 and kinds["lapse-nudge-mentee"] == 30
    assert steps == {2} and lapses == 30


async def test_a_reschedule_during_a_sweep_waits_for_it_and_the_new_time_gets_its_prompt(
    db: Database, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep has queued the agenda prompt for 10:00 and not yet committed when alice
    moves the meeting to 11:00: her command waits for the sweep, then withdraws the prompt
    for 10:00 (not sent yet) and resets the markers the sweep wrote, so 11:00 gets its own
    prompt (before, the reset was lost, or the two transactions deadlocked on the pair and
    meeting rows)."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    chat = Chat(Engine(db, policy))
    await make_pair(chat)
    await agree_both(chat)
    await chat.say("alice", "schedule 2026-11-25 10:00")  # Berlin: 09:00 UTC
    chat.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # the prompt (T−24 h) is due
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold_the_transaction_open(ctx: SweepContext) -> list[DueItem]:
        reached.set()
        await release.wait()
        return []

    monkeypatch.setattr(
        engine_module, "SWEEPERS", [*engine_module.SWEEPERS, hold_the_transaction_open]
    )
    sweep = asyncio.create_task(chat.engine.sweep(chat.now))
    await asyncio.wait_for(reached.wait(), 10)
    command = asyncio.create_task(chat.say("alice", "schedule 2026-11-25 11:00"))
    await asyncio.sleep(0.5)
    assert not command.done()  # it waits for the pair the sweep holds
    release.set()
    items = await asyncio.wait_for(sweep, 10)
    [reply] = await asyncio.wait_for(command, 10)
    assert "moved the meeting" in reply.text
    [old] = [item for item in items if item.kind == "agenda-prompt"]
    assert old.key.endswith(":0") and old.queued
    async with db.transaction() as session:
        status = await session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.idempotency_key == old.key)
        )
    assert status == "superseded"  # never delivered: the time it names no longer holds
    monkeypatch.setattr(engine_module, "SWEEPERS", engine_module.SWEEPERS[:-1])
    again = await chat.engine.sweep(chat.now + timedelta(minutes=1))
    [new] = [item for item in again if item.kind == "agenda-prompt"]
    assert new.key == old.key[:-1] + "1" and new.queued
    prompt = (await inbox(chat, "alice", "agenda-prompt"))[-1]
    assert "11:00" in prompt.text
