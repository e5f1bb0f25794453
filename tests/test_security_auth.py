"""Issue 14, who gets in (3) and what a refusal says (14): a Bot Framework token must
name the activity's serviceUrl, so the bot never sends its bearer token to a host the
token was not issued for; refused callers learn only "unauthorized". Real HTTP against
the connector double and a recording stranger host, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from storage.database import Database
from tests.doubles.bot_connector import BotConnector, TeamsUser, message
from tests.doubles.slack_api import SlackApi, slash_command
from tests.security_kit import footprint, served, slack_settings
from tests.test_teams_http import Clock

ROOT = Path(__file__).resolve().parent.parent
ana = TeamsUser("Ana Lopez", email="ana@example.com")


@pytest.fixture
async def connector() -> AsyncIterator[BotConnector]:
    double = BotConnector()
    await double.start()
    double.add_member(ana)
    yield double
    await double.stop()


@pytest.fixture
async def stranger() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """Another host on loopback that records every request's headers."""
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"id": "1"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


async def _post(
    http: aiohttp.ClientSession, url: str, activity: object, token: str
) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(url + "/api/messages", json=activity, headers=headers) as response:
        return response.status, await response.json()


async def test_a_token_must_name_the_activitys_service_url(
    db: Database,
    db_url: str,
    connector: BotConnector,
    stranger: tuple[str, list[dict[str, str]]],
) -> None:
    elsewhere, seen = stranger
    settings = load_settings(
        str(ROOT / "app.yaml"), env={**connector.env(), "DATABASE_URL": db_url}
    )
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        before = await footprint(app)
        activity = message(elsewhere, ana, "export-data")
        for token in (
            connector.sign({"serviceurl": None}),  # no claim at all
            connector.sign({"serviceurl": ""}),
            connector.sign({"serviceurl": connector.url}),  # a claim for another host
            connector.sign({"serviceurl": [elsewhere]}),
        ):
            assert await _post(http, url, activity, token) == (401, {"error": "unauthorized"})
        assert seen == []  # the bot's token (or anything else) never went to that host
        assert await footprint(app) == before
        # The claim the channel issues for the activity's own service URL is accepted.
        good = message(connector.url, ana, "status")
        assert (await _post(http, url, good, connector.sign()))[0] == 200
        assert connector.sent[-1].authorization is not None


async def test_slack_refusals_say_only_unauthorized(db: Database, db_url: str) -> None:
    api = SlackApi()
    async with api.serve():
        settings = slack_settings(db_url, api, "right-secret")
        async with served(settings, Clock()) as (url, _), aiohttp.ClientSession() as http:
            for signed in (
                slash_command("wrong-secret", "status"),
                slash_command("right-secret", "status", timestamp=1),  # stale
            ):
                async with http.post(
                    url + "/slack/events", data=signed.body, headers=signed.headers
                ) as response:
                    assert response.status == 401
                    assert await response.json() == {"error": "unauthorized"}
    assert api.called("users.info") == []
