"""Issue 14, what is kept (8, the transport's part): database errors carry no SQL
parameters (`hide_parameters`), and slack_bolt logs no request bodies, not even at
LOG_LEVEL=DEBUG with the logging `mentorbot run` sets up. Canaries planted in what
people type must appear in no log line. Real HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError

from bot.app import SLACK_KEY
from bot.cli import quiet_third_party_loggers
from storage.database import Database
from storage.types import UTCDateTime
from tests.doubles.slack_api import SlackApi, sign, slash_command
from tests.security_kit import served, slack_settings
from tests.test_teams_http import Clock

SECRET = "log-test-secret"
CANARY = "canary-7f3a9c"


@pytest.fixture
def run_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The logger levels `mentorbot run` sets, with everything else at DEBUG; restored."""
    names = (
        *("slack_bolt", "slack_sdk", "msrest", "botbuilder", "botframework", "sqlalchemy"),
        *("aiohttp.access", "apscheduler", "aiosqlite"),
    )
    saved = {name: logging.getLogger(name).level for name in names}
    quiet_third_party_loggers()
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def leaked(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = []
    for record in caplog.records:
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            line += " " + repr(record.exc_info[1]) + str(record.exc_info[1])
        if CANARY in line:
            lines.append(f"{record.name}: {line[:200]}")
    return lines


async def test_database_errors_carry_no_parameters(db: Database) -> None:
    statement = text(
        "INSERT INTO processed_events (platform, event_id, received_at) VALUES (:p, :e, :t)"
    ).bindparams(bindparam("t", type_=UTCDateTime()))
    values = {"p": "slack", "e": CANARY, "t": datetime(2026, 12, 1, tzinfo=UTC)}
    async with db.transaction() as session:
        await session.execute(statement, values)
    with pytest.raises(DBAPIError) as raised:
        async with db.transaction() as session:
            await session.execute(statement, values)  # the unique key refuses it
    assert CANARY not in str(raised.value) and CANARY not in repr(raised.value)
    assert "hidden" in str(raised.value)


async def test_slack_requests_and_failing_commands_leave_no_canary_in_the_log(
    db: Database, db_url: str, run_logging: pytest.LogCaptureFixture
) -> None:
    api = SlackApi()
    api.add_user("U1", "Alice Doe")
    async with api.serve():
        settings = slack_settings(db_url, api, SECRET)
        async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:

            async def send(body: str, content_type: str) -> int:
                headers = {"Content-Type": content_type, **sign(SECRET, body)}
                async with http.post(url + "/slack/events", data=body, headers=headers) as r:
                    await r.read()
                    return r.status

            form = "application/x-www-form-urlencoded"
            for words in (
                "join mentee",
                f"agenda add {CANARY}",
                f"profile set goals={CANARY}\x00nul",  # with a NUL byte
            ):
                signed = slash_command(SECRET, words)
                assert await send(signed.body, form) == 200
            unhandled = {
                "type": "block_suggestion",
                "action_id": "search",
                "block_id": "b",
                "value": CANARY,  # what the person typed into a search box
                "user": {"id": "U1", "team_id": "T0001"},
                "team": {"id": "T0001"},
            }
            body = urllib.parse.urlencode({"payload": json.dumps(unhandled)})
            assert await send(body, form) in (200, 404)
            await app[SLACK_KEY].bot.settle()
    assert leaked(run_logging) == []
    # bolt did warn about the request no listener takes, without quoting it.
    assert any("bolt refused a Slack request" in r.getMessage() for r in run_logging.records)
