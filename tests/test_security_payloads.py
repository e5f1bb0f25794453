"""Issue 14, it keeps working (14): malformed but correctly signed Slack payloads and
Teams activities, and garbage timestamps, get a 4xx, never a 500 or a traceback in the
log. Real HTTP against the doubles, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import load_settings
from storage.database import Database
from tests.doubles.bot_connector import BotConnector, TeamsUser, message
from tests.doubles.slack_api import SlackApi, block_actions, slash_command
from tests.security_kit import footprint, served, slack_settings
from tests.test_teams_http import Clock

ROOT = Path(__file__).resolve().parent.parent
SECRET = "payload-test-secret"


def signed(body: bytes, content_type: str, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    base = f"v0:{ts}:".encode() + body
    digest = hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def interaction(payload: Any) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def deep_json(depth: int) -> str:
    """JSON nested `depth` levels, deeper than json.dumps itself can write."""
    return '{"type": "block_actions", "state": ' + '{"a": [' * depth + '"x"' + "]}" * depth + "}"


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()


async def test_malformed_signed_slack_requests_get_4xx(
    db: Database, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = json.loads(urllib.parse.parse_qs(block_actions(SECRET, "x", "v").body)["payload"][0])
    form = "application/x-www-form-urlencoded"
    bodies: dict[str, tuple[bytes, str]] = {
        "invalid UTF-8": (b"text=\xff\xfe&command=%2Fmentor&user_id=U1", form),
        "invalid UTF-8 JSON": (b'{"type": "event_callback", "x": "\xff"}', "application/json"),
        "payload a list": (interaction([1, 2]), form),
        "payload a string": (interaction("hello"), form),
        "payload null": (interaction(None), form),
        "payload not JSON": (b"payload=%7Bnope", form),
        "actions [null]": (interaction({**good, "actions": [None]}), form),
        "actions an object": (interaction({**good, "actions": {"a": 1}}), form),
        "action id a number": (interaction({**good, "actions": [{"action_id": 7}]}), form),
        "user a string": (interaction({**good, "user": "U1"}), form),
        "view a list": (interaction({**good, "type": "view_submission", "view": []}), form),
        "deeply nested": (urllib.parse.urlencode({"payload": deep_json(3000)}).encode(), form),
        "nested a bit too deep": (interaction({**good, "x": nested(60)}), form),
        "event a string": (
            json.dumps({"type": "event_callback", "event": "x"}).encode(),
            "application/json",
        ),
        "event body a list": (b"[1, 2, 3]", "application/json"),
    }
    api = SlackApi()
    api.add_user("U1", "Alice Doe")
    async with api.serve():
        settings = slack_settings(db_url, api, SECRET)
        async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
            before = await footprint(app)
            for name, (body, kind) in bodies.items():
                async with http.post(
                    url + "/slack/events", data=body, headers=signed(body, kind)
                ) as response:
                    assert response.status == 400, name
                    assert await response.json() == {"error": "bad request"}, name
            command = slash_command(SECRET, "status")
            for stamp in ("abc", "12.5", "-1", "١٧٠٠٠٠٠٠٠٠", "9" * 40, ""):
                headers = signed(command.body.encode(), form, stamp)
                headers["X-Slack-Request-Timestamp"] = stamp
                async with http.post(
                    url + "/slack/events", data=command.body, headers=headers
                ) as r:
                    assert r.status == 401, stamp
                    assert await r.json() == {"error": "unauthorized"}
            assert await footprint(app) == before
            # A well-formed one still works afterwards.
            async with http.post(
                url + "/slack/events", data=command.body, headers=command.headers
            ) as response:
                assert response.status == 200
    no_tracebacks(caplog)


async def test_teams_activities_that_are_not_objects_get_400(
    db: Database, db_url: str, connector: BotConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ana = TeamsUser("Ana Lopez")
    good = message(connector.url, ana, "status")
    bodies: dict[str, bytes] = {
        "a list": b"[1, 2]",
        "a string": b'"message"',
        "null": b"null",
        "a number": b"7",
        "invalid UTF-8": b'{"type": "message", "text": "\xff"}',
        "deeply nested": deep_json(3000).replace("block_actions", "message").encode(),
        "nested a bit too deep": json.dumps({**good, "value": nested(60)}).encode(),
        "from a string": json.dumps({**good, "from": "29:1"}).encode(),
        "entities [null]": json.dumps({**good, "entities": [None]}).encode(),
        "conversation a list": json.dumps({**good, "conversation": []}).encode(),
        "text an object": json.dumps({**good, "text": {"a": 1}}).encode(),
        "type missing": json.dumps({**good, "type": None}).encode(),
    }
    settings = load_settings(
        str(ROOT / "app.yaml"), env={**connector.env(), "DATABASE_URL": db_url}
    )
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        before = await footprint(app)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {connector.sign()}",
        }
        for name, body in bodies.items():
            async with http.post(url + "/api/messages", data=body, headers=headers) as response:
                assert response.status == 400, name
        assert await footprint(app) == before and connector.sent == []
    no_tracebacks(caplog)
