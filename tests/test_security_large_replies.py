"""A reply too large for Teams is never silently dropped: the connector double refuses an
activity over ~100 KB (413) as Teams does; the person is told what did not arrive, and a
message that fails for good on any platform is reported to its person (never its text)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import select, update

from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from conversations.messages import Message, Text, from_dict, to_dict
from storage import outbox
from storage.database import Database
from storage.models import Identity, OutboxMessage, Profile
from tests.doubles.bot_connector import (
    MAX_ACTIVITY_BYTES,
    BotConnector,
    TeamsUser,
    message,
    post,
)

ROOT = Path(__file__).resolve().parent.parent
BIG = "CANARY-BIG " + "x" * 150_000


async def serve(db_url: str) -> tuple[web.AppRunner, str]:
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    app = build_app(  # the tests run the delivery passes themselves
        settings,
        clock=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC),
        scheduler_enabled=False,
        deliver_in_background=False,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def rows(app: web.Application) -> list[OutboxMessage]:
    async with app[ENGINE_KEY].db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_large_export_in_teams_is_reported_not_dropped(db: Database, db_url: str) -> None:
    connector = BotConnector()
    await connector.start()
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    runner, url = await serve(db_url)
    app = runner.app
    try:
        async with aiohttp.ClientSession() as http:
            assert await post(http, url, message(connector.url, ana, "join mentee")) == 200
            async with app[ENGINE_KEY].db.transaction() as session:
                await session.execute(update(Profile).values(goals=BIG))
            assert await post(http, url, message(connector.url, ana, "export-data")) == 200
        for _ in range(100):
            await app[WORKER_KEY].run_once()
            if all(r.status in ("sent", "dead") for r in await rows(app)):
                break
    finally:
        await runner.cleanup()
        await connector.stop()
    assert any(why == "MessageSizeTooBig" for _, why in connector.refused)  # it was too big
    said = [s.text for s in connector.sent_to(ana.personal_chat)]
    assert any("I couldn't deliver" in t and "my-data" in t for t in said), said
    for sent in connector.sent:
        assert "CANARY-BIG" not in json.dumps(sent.activity)
        assert len(json.dumps(sent.activity)) < MAX_ACTIVITY_BYTES


async def test_a_message_that_fails_for_good_is_reported_to_its_person(
    db: Database, db_url: str
) -> None:
    connector = BotConnector()
    await connector.start()
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    runner, url = await serve(db_url)
    app = runner.app
    try:
        async with aiohttp.ClientSession() as http:
            assert await post(http, url, message(connector.url, ana, "join mentee")) == 200
        async with app[ENGINE_KEY].db.transaction() as session:
            person = await session.scalar(select(Identity.person_id))
            await outbox.enqueue(
                session,
                key="nudge-1",
                kind="agenda-prompt",
                payload=to_dict(Message.of(Text("CANARY-LOST private words"))),
                now=datetime(2026, 11, 23, 9, tzinfo=UTC),
                person_id=person,
                platform="teams",
            )
        connector.storm([400])  # refused for good
        for _ in range(100):  # the dead row's notice goes out on a later pass
            await app[WORKER_KEY].run_once()
            queued = await rows(app)
            if len(queued) == 3 and all(r.status in ("sent", "dead") for r in queued):
                break
    finally:
        await runner.cleanup()
        await connector.stop()
    by_kind = {r.kind: r for r in queued}
    assert by_kind["agenda-prompt"].status == "dead"
    notice = by_kind["undeliverable"]
    assert notice.person_id == by_kind["agenda-prompt"].person_id
    text = from_dict(notice.payload).text
    assert "I couldn't deliver a message (agenda-prompt)" in text and "CANARY" not in text
    said = [s.text for s in connector.sent_to(ana.personal_chat)]
    assert any("I couldn't deliver" in t for t in said)
