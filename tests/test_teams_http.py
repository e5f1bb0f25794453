"""The Teams adapter over real HTTP: activities shaped as Teams sends them are posted to
/api/messages; what the bot sends comes out at a local double of the Bot Framework
connector (tests/doubles/bot_connector.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from storage.models import Identity, OutboxMessage
from tests.doubles.bot_connector import (
    BotConnector,
    TeamsUser,
    message,
    post,
)

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def connector() -> AsyncIterator[BotConnector]:
    double = BotConnector()
    await double.start()
    yield double
    await double.stop()


async def serve(db_url: str, env: dict[str, str], clock: Clock) -> tuple[web.AppRunner, str]:
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url, **env})
    assert settings.teams is not None
    teams = dataclasses.replace(settings.teams, retry_base_seconds=0.001, pace_seconds=0)
    app = build_app(
        dataclasses.replace(settings, teams=teams), clock=clock, scheduler_enabled=False
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(db_url: str, clock: Clock) -> AsyncIterator[tuple[str, web.Application]]:
    """The bot without an app id (local development): no tokens either way."""
    runner, url = await serve(db_url, {}, clock)
    yield url, runner.app
    await runner.cleanup()


ana = TeamsUser("Ana Lopez", email="ana@example.com")


async def test_commands_in_a_personal_chat(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, _ = bot
    async with aiohttp.ClientSession() as session:
        for text in ("mentor join mentee", "/mentor status", "status"):
            assert await post(session, url, message(connector.url, ana, text)) == 200
    texts = [s.text for s in connector.sent_to(ana.personal_chat)]
    assert len(texts) == 3
    assert "joined as a mentee" in texts[0]
    assert "Mentee — Active" in texts[1] and "Mentee — Active" in texts[2]
