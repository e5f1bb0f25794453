"""The web chat's HTTP surface, over real HTTP on loopback: commands, actions, the event
stream for proactive messages, health endpoints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from storage.database import Database
from storage.models import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def served(
    db: Database, db_url: str, clock: Clock
) -> AsyncIterator[tuple[str, web.Application]]:
    """The app on a random port, on a database the `db` fixture just emptied."""
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    app = build_app(settings, clock=clock, scheduler_enabled=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", app
    await runner.cleanup()


async def post(session: aiohttp.ClientSession, url: str, body: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with session.post(url + "/local/api/messages", json=body) as response:
        return response.status, await response.json()


async def test_health_page_and_commands(served: tuple[str, web.Application]) -> None:
    url, _ = served
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/healthz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        async with session.get(url + "/readyz") as r:
            assert r.status == 200 and (await r.json())["database"] == "ok"
        async with session.get(url + "/") as r:
            assert r.status == 200 and "mentorbot" in await r.text()
        async with session.get(url + "/static/chat.js") as r:
            assert r.status == 200 and r.content_type == "application/javascript"
        async with session.get(url + "/static/..%2Fweb.py") as r:
            assert r.status == 404
        status, body = await post(session, url, {"user": "alice", "text": "/mentor join mentee"})
        assert status == 200
        reply = body["replies"][0]
        assert "joined as a mentee" in reply["text"]
        assert any(b["type"] == "buttons" for b in reply["blocks"])
        status, body = await post(
            session, url, {"user": "alice", "action_id": "run", "value": "status"}
        )
        assert "Mentee — Active" in body["replies"][0]["text"]


async def test_bad_requests_get_400_with_a_reason(served: tuple[str, web.Application]) -> None:
    url, _ = served
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url + "/local/api/messages",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        ) as r:
            assert r.status == 400 and "JSON" in (await r.json())["error"]
        body: object
        for body in (
            [],
            {"user": "bad name!", "text": "status"},
            {"user": "alice"},
            {"user": "alice", "text": 42},
            {"user": "alice", "action_id": "form.submit", "fields": {"a": 1}},
        ):
            status, answer = await post(session, url, body)
            assert status == 400 and answer["error"]


async def test_proactive_messages_reach_an_open_stream(
    served: tuple[str, web.Application], clock: Clock
) -> None:
    """The app's own delivery worker sends a queued message once the person opens the chat."""
    url, app = served
    engine, worker = app[ENGINE_KEY], app[WORKER_KEY]
    async with aiohttp.ClientSession() as session:
        await post(session, url, {"user": "alice", "text": "join mentee"})
        await post(session, url, {"user": "alice", "text": "pause until tomorrow"})
        clock.now += timedelta(days=2)
        items = await engine.sweep(clock.now)
        assert [i.kind for i in items] == ["pause-ended"]
        async with session.get(url + "/local/api/stream", params={"user": "alice"}) as stream:
            assert (await stream.content.readline()).startswith(b": connected")
            # Past any "nobody listening" back-off the worker may already have applied.
            clock.now += timedelta(minutes=2)
            worker.poke()
            lines = [await asyncio.wait_for(stream.content.readline(), 5)]
            while not lines[-1].startswith(b"data: "):
                lines.append(await asyncio.wait_for(stream.content.readline(), 5))
        event = json.loads(lines[-1].removeprefix(b"data: "))
        assert lines[-2] == b"event: message\n" and "pause is over" in event["text"]
    for _ in range(100):  # the worker marks the row sent just after handing it over
        async with engine.db.transaction() as s:
            rows = list(await s.scalars(select(OutboxMessage)))
        if rows[0].status == "sent":
            break
        await asyncio.sleep(0.05)
    assert [(r.kind, r.status) for r in rows] == [("pause-ended", "sent")]


async def test_a_meeting_invite_reaches_the_web_chat_as_a_file_block(
    served: tuple[str, web.Application], clock: Clock
) -> None:
    from tests.followthrough_kit import make_pair
    from tests.harness import Chat

    url, app = served
    await make_pair(Chat(app[ENGINE_KEY], now=clock.now))
    async with aiohttp.ClientSession() as session:
        status, body = await post(session, url, {"user": "alice", "text": "schedule tomorrow 3pm"})
        async with session.get(url + "/static/chat.js") as r:
            script = await r.text()
    assert status == 200
    [file] = [b for b in body["replies"][0]["blocks"] if b["type"] == "file"]
    assert file["filename"] == "mentoring.ics" and file["mime"] == "text/calendar"
    assert "DTSTART:20261124T140000Z" in file["content"]
    assert 'case "file"' in script and "download" in script  # rendered as a download link
