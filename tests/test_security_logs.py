"""No personal data in logs: canaries planted in notes, agendas, goals and commands
(one with a NUL byte, which PostgreSQL refuses) over the local chat, Slack and Teams, on
SQLite and PostgreSQL; every log record, at DEBUG for our loggers and at the levels the
bot runs with for libraries, is checked for them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import SLACK_KEY, WORKER_KEY
from bot.cli import quiet_third_party_loggers
from bot.config import Settings, load_settings
from storage.database import Database
from tests.doubles.bot_connector import BotConnector, TeamsUser, message, post
from tests.doubles.slack_api import SlackApi, slash_command
from tests.harness import Chat
from tests.security_kit import served, slack_settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CANARY = "CANARY-5c1e"


def lines(where: str) -> list[str]:
    """Commands carrying canaries, as a person would type them on `where`."""
    c = f"{CANARY}-{where}"
    return [
        "join mentee",
        f'profile set goals="{c}-goals" department={c}-dept',
        f"agenda add {c}-agenda",
        f"commit {c}-commit",
        f"met {c}-note",
        f"{c}-unknown-command and more",
        f"agenda add {c}-nul\x00byte",
        f'profile set goals="{c}-nul-goals\x00"',
        f"met {c}-nul-note\x00",
        f"decline {c}-reason",
    ]


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback as a log file would show it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record) + repr(record.args))


@pytest.fixture
def logs() -> Iterator[Everything]:
    root = logging.getLogger()
    handler = Everything()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("adapters", "bot", "conversations", "storage"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    quiet_third_party_loggers()  # the levels the bot runs with for libraries
    yield handler
    root.removeHandler(handler)
    root.setLevel(before)


def assert_captured(handler: Everything) -> None:
    """Positive control: a debug line from our code, with a canary, is caught."""
    logging.getLogger("conversations.engine").debug("control %s", CANARY)
    assert leaks(handler) == [f"DEBUG conversations.engine control {CANARY}('{CANARY}',)"]
    handler.records.pop()


def leaks(handler: Everything) -> list[str]:
    return [r for r in handler.records if CANARY in r]


async def test_local_turns_log_no_canary(chat: Chat, logs: Everything) -> None:
    await chat.say("bob", "join mentor")
    await chat.say("alice", "join mentee")
    await chat.say("hana", "admin pair @alice @bob")
    await chat.say("alice", "schedule tomorrow 9am")
    chat.now += timedelta(days=1, hours=1)
    for line in lines("local"):
        assert await chat.say("alice", line)
    assert_captured(logs)
    assert leaks(logs) == []


def serve(settings: Settings) -> AbstractAsyncContextManager[tuple[str, web.Application]]:
    """The app on loopback, on a fixed clock; the tests run the delivery passes themselves."""
    return served(
        settings, lambda: datetime(2026, 11, 23, 9, tzinfo=UTC), deliver_in_background=False
    )


async def test_slack_turns_log_no_canary(db: Database, db_url: str, logs: Everything) -> None:
    api = SlackApi()
    api.add_user("U1", f"Alice {CANARY}-slack-name", email="alice@acme.example")
    async with api.serve():
        async with serve(slack_settings(db_url, api, SECRET)) as (url, app):
            async with aiohttp.ClientSession() as http:
                for line in lines("slack"):
                    signed = slash_command(SECRET, line)
                    async with http.post(
                        url + "/slack/events", data=signed.body, headers=signed.headers
                    ) as response:
                        assert response.status == 200
            await app[WORKER_KEY].run_once()
            await app[SLACK_KEY].bot.settle()
    assert_captured(logs)
    assert leaks(logs) == []


async def test_teams_turns_log_no_canary(
    db: Database, db_url: str, logs: Everything, connector: BotConnector
) -> None:
    user = TeamsUser(f"Ana {CANARY}-teams-name", email="ana@example.com")
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    async with serve(settings) as (url, app):
        async with aiohttp.ClientSession() as http:
            for line in lines("teams"):
                assert await post(http, url, message(connector.url, user, line)) == 200
        await app[WORKER_KEY].run_once()
    assert len(connector.sent) >= len(lines("teams"))
    assert_captured(logs)
    assert leaks(logs) == []
