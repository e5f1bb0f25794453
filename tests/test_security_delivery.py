"""Issue 14, it keeps working (13): a Teams send that keeps failing on the network uses
up its attempts and ends dead after the configured number, like any other failure
(it used to be handed back as "wait as asked", which never counts an attempt, so it
retried forever with attempts=0). Real HTTP: the connector double, then nothing
listening where it was; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from bot.app import WORKER_KEY
from bot.delivery import MAX_ATTEMPTS
from storage.database import Database
from tests.doubles.bot_connector import BotConnector, TeamsUser, message, post
from tests.test_teams_http import Clock, outbox_rows, serve

ana = TeamsUser("Ana Lopez", email="ana@example.com")


async def test_teams_sends_failing_on_the_network_end_dead_after_max_attempts(
    db: Database, db_url: str, connector: BotConnector
) -> None:
    clock = Clock()
    runner, url = await serve(db_url, {}, clock)
    try:
        app = runner.app
        connector.storm([502, 502, 502])  # the reply cannot go at once: it is queued
        async with aiohttp.ClientSession() as session:
            assert await post(session, url, message(connector.url, ana, "join mentee")) == 200
        [row] = await outbox_rows(app)
        assert row.kind == "reply" and row.status == "pending"
        await connector.stop()  # from now on every send fails on the network
        seen: list[int] = []
        for _ in range(MAX_ATTEMPTS * 2):
            clock.now += timedelta(hours=2)  # past any backoff
            await app[WORKER_KEY].run_once()
            # (a dead row brings a notice to its person: conversations/undeliverable.py)
            [row] = [r for r in await outbox_rows(app) if r.kind != "undeliverable"]
            seen.append(row.attempts)
            if row.status == "dead":
                break
        assert row.status == "dead", seen
        assert row.attempts == MAX_ATTEMPTS
        assert seen == sorted(seen) and seen[0] >= 1  # each failed pass counted one
        assert row.last_error  # what went wrong is kept for the operator
    finally:
        await runner.cleanup()
