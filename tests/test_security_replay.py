"""Issue 14, who gets in (4): Slack sends no event id for a slash command, so a replay
of the same signed request (within the five minutes its signature is valid) must act
once. Real HTTP against the Slack double, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import aiohttp
from sqlalchemy import func, select

from bot.app import DB_KEY
from storage.database import Database
from storage.models import AuditEntry, Identity, Pair, ProcessedEvent, Profile
from tests.doubles.slack_api import Signed, SlackApi, slash_command
from tests.security_kit import served, slack_settings
from tests.test_teams_http import Clock

SECRET = "replay-test-secret"


async def test_a_replayed_slash_command_acts_once(db: Database, db_url: str) -> None:
    api = SlackApi()
    api.add_user("U1", "Alice Doe", email="alice@acme.example")
    async with api.serve():
        settings = slack_settings(db_url, api, SECRET)
        async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:

            async def send(signed: Signed) -> tuple[int, str]:
                async with http.post(
                    url + "/slack/events",
                    data=signed.body,
                    headers=signed.headers,
                ) as response:
                    return response.status, await response.text()

            async def state() -> dict[str, int]:
                async with app[DB_KEY].transaction() as session:
                    return {
                        m.__tablename__: int(
                            await session.scalar(select(func.count()).select_from(m)) or 0
                        )
                        for m in (Identity, Profile, Pair, AuditEntry, ProcessedEvent)
                    }

            now = int(time.time())
            join = slash_command(SECRET, "join mentee", timestamp=now)
            status, body = await send(join)
            assert status == 200 and "joined as a mentee" in json.loads(body)["text"]
            after_first = await state()
            for _ in range(3):  # the captured request, replayed
                assert await send(join) == (200, "")
            assert await state() == after_first
            leave = slash_command(SECRET, "leave", timestamp=now)
            status, body = await send(leave)
            assert status == 200 and body
            assert await send(leave) == (200, "")
            # The same words signed again (a new request) act again.
            status, body = await send(slash_command(SECRET, "join mentee", timestamp=now + 1))
            assert status == 200 and "welcome back" in json.loads(body)["text"].lower()
