"""Benchmark the Teams adapter end to end over loopback HTTP.

What it measures:

* `POST /api/messages` latency for `status` typed in a personal chat, with an app
  id configured: the JWT check (signing keys cached after the first request), the
  roster lookup (cached per person), one engine turn and the reply POSTed to a
  local Bot Framework connector double — everything Teams waits for;
* the same with no app id (local development: no token to check);
* proactive throughput: --queued messages for --people people sent by the
  delivery worker through `continue_conversation`, first with a connector that
  accepts everything, then with one answering 429 to every third send.

The bot is the real aiohttp application on SQLite in a temporary directory; the
connector double is tests/doubles/bot_connector.py. Requests run one after
another (Teams does not pipeline a user's messages); latency is wall time around
each request. Run it from the project root:

    .venv/bin/python bench/teams.py [--people 50] [--messages 300] [--queued 300]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from conversations.messages import Message, to_dict
from storage import outbox
from storage.models import Identity
from tests.doubles.bot_connector import BotConnector, TeamsUser, message, post

ROOT = Path(__file__).resolve().parent.parent


async def serve(db_url: str, env: dict[str, str]) -> tuple[web.AppRunner, str]:
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url, **env})
    assert settings.teams is not None
    teams = dataclasses.replace(settings.teams, retry_base_seconds=0.01, pace_seconds=0)
    app = build_app(  # the bench times `run_once` alone, so no background loop
        dataclasses.replace(settings, teams=teams),
        scheduler_enabled=False,
        deliver_in_background=False,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def describe(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(
        f"{label:<44} n={len(ms):<5} median {statistics.median(ms):6.2f} ms   "
        f"p95 {p95:6.2f} ms   max {ms[-1]:7.2f} ms"
    )


async def inbound(
    db_url: str, connector: BotConnector, people: list[TeamsUser], n: int, *, secured: bool
) -> None:
    runner, url = await serve(db_url, connector.env() if secured else {})
    try:
        token = connector.sign() if secured else None
        async with aiohttp.ClientSession() as session:
            for person in people:  # first contact and joining are not measured
                await post(session, url, message(connector.url, person, "join mentee"), token)
            samples = []
            for i in range(n):
                activity = message(connector.url, people[i % len(people)], "status")
                started = time.perf_counter()
                status = await post(session, url, activity, token)
                samples.append(time.perf_counter() - started)
                assert status == 200
        label = "status, app id (JWT checked)" if secured else "status, no app id (local dev)"
        describe(label, samples)
    finally:
        await runner.cleanup()


async def proactive(
    db_url: str, connector: BotConnector, people: list[TeamsUser], n: int, storm: bool
) -> None:
    runner, _ = await serve(db_url, {})
    app = runner.app
    try:
        async with app[ENGINE_KEY].db.transaction() as s:
            ids = {i.user_id: i.person_id for i in await s.scalars(select(Identity))}
            now = datetime.now(UTC)
            for i in range(n):
                person = people[i % len(people)]
                await outbox.enqueue(
                    s,
                    key=f"bench-{storm}-{i}",
                    kind="bench",
                    payload=to_dict(Message(f"Proactive {i}")),
                    now=now,
                    person_id=ids[person.aad],
                    platform="teams",
                )
        if storm:
            connector.storm([429, 200, 200] * n)
        before, attempts = len(connector.sent), connector.attempts
        worker = app[WORKER_KEY]
        worker.clock = lambda: datetime.now(UTC).replace(year=2100)  # retries are due at once
        started = time.perf_counter()
        while len(connector.sent) - before < n:
            await worker.run_once()
        elapsed = time.perf_counter() - started
        label = "proactive, 429 on every 3rd send" if storm else "proactive, no throttling"
        print(
            f"{label:<44} {n} messages in {elapsed:5.2f} s = {n / elapsed:6.1f} msg/s "
            f"({connector.attempts - attempts} connector calls)"
        )
    finally:
        await runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--queued", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    people = [TeamsUser(f"Person {i}") for i in range(args.people)]
    with tempfile.TemporaryDirectory() as tmp:
        connector = BotConnector()
        await connector.start()
        await inbound(f"sqlite:///{tmp}/secured.db", connector, people, args.messages, secured=True)
        local_db = f"sqlite:///{tmp}/local.db"
        await inbound(local_db, connector, people, args.messages, secured=False)
        # The people of the local run, with their stored references to this connector.
        for storm in (False, True):
            await proactive(local_db, connector, people, args.queued, storm)
        await connector.stop()


if __name__ == "__main__":
    asyncio.run(main())
