"""Issue 14, who gets in (5): the development mode (no credentials) answers the web
chat and the Teams emulator endpoint only from the page's own origin on a loopback
Host, with a JSON body; the emulator path never calls or uploads to a non-loopback
host; a non-loopback HOST needs an explicit flag. Real HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from adapters.teams.files import CONSENT_CARD
from bot.config import ConfigError, load_settings
from storage.database import Database
from tests.doubles.bot_connector import BotConnector, TeamsUser, file_consent, message, post
from tests.security_kit import footprint, served
from tests.test_teams_http import Clock

ROOT = Path(__file__).resolve().parent.parent
ana = TeamsUser("Ana Lopez", email="ana@example.com")
# TEST-NET-1: never routed, so a connection attempt would hang rather than fail fast.
FOREIGN = "http://192.0.2.1"


async def test_forged_and_rebound_requests_are_refused(
    db: Database, db_url: str, connector: BotConnector
) -> None:
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        port = url.rsplit(":", 1)[1]
        chat = url + "/local/api/messages"
        command = b'{"user": "alice", "text": "join mentee"}'
        teams = message(connector.url, ana, "join mentee")
        before = await footprint(app)
        refused = {
            # A foreign page's form post or fetch without preflight: text/plain or a form.
            "text/plain": ({"Content-Type": "text/plain"}, 415),
            "form": ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
            "no content type": ({}, 415),
            "foreign origin": (
                {"Content-Type": "application/json", "Origin": "http://evil.example"},
                403,
            ),
            "origin on another port": (
                {"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"},
                403,
            ),
            "null origin": ({"Content-Type": "application/json", "Origin": "null"}, 403),
            "cross-site fetch": (
                {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
                403,
            ),
            # DNS rebinding: evil.example now resolves to 127.0.0.1, the Host says so.
            "rebound host": (
                {"Content-Type": "application/json", "Host": f"evil.example:{port}"},
                403,
            ),
            "rebound host, same origin": (
                {
                    "Content-Type": "application/json",
                    "Host": f"evil.example:{port}",
                    "Origin": f"http://evil.example:{port}",
                },
                403,
            ),
        }
        for name, (headers, status) in refused.items():
            async with http.post(chat, data=command, headers=headers) as response:
                assert response.status == status, f"web chat, {name}"
            async with http.post(
                url + "/api/messages", data=aiohttp.JsonPayload(teams).decode(), headers=headers
            ) as response:
                assert response.status == status, f"emulator, {name}"
        async with http.get(
            url + "/local/api/stream?user=alice", headers={"Host": f"evil.example:{port}"}
        ) as response:
            assert response.status == 403
        assert await footprint(app) == before and connector.sent == []
        # The page itself (same origin, loopback by name or number) is answered.
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            headers = {
                "Content-Type": "application/json",
                "Host": host,
                "Origin": f"http://{host}",
            }
            async with http.post(chat, data=command, headers=headers) as response:
                assert response.status == 200
        assert await post(http, url, teams) == 200 and connector.sent


async def test_the_emulator_path_calls_and_uploads_only_to_loopback(
    db: Database, db_url: str, connector: BotConnector
) -> None:
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        before = await footprint(app)
        for service_url in (FOREIGN, "https://smba.trafficmanager.net/emea/", "file:///etc"):
            assert await post(http, url, message(service_url, ana, "join mentee")) == 403
        assert await footprint(app) == before
        assert await post(http, url, message(connector.url, ana, "export-data")) == 200
        [consent] = [c for s in connector.sent for c in s.of_type(CONSENT_CARD)]
        started = time.monotonic()
        invoke = file_consent(connector.url, ana, consent, upload_url=f"{FOREIGN}/onedrive/x")
        assert await post(http, url, invoke) == 200
        assert time.monotonic() - started < 5  # refused at once, no connection attempted
        assert "could not save" in connector.sent[-1].text
        assert connector.uploaded == {}
        name = str(consent.get("name"))
        invoke = file_consent(connector.url, ana, consent, upload_url=connector.upload_url(name))
        assert await post(http, url, invoke) == 200
        assert list(connector.uploaded) == [name]


def test_a_non_loopback_host_in_development_mode_needs_the_flag() -> None:
    config = str(ROOT / "app.yaml")
    for host in ("0.0.0.0", "192.168.1.20", "::", "example.com"):
        with pytest.raises(ConfigError, match="--allow-remote-dev"):
            load_settings(config, env={"HOST": host})
    assert not load_settings(config, env={"HOST": "localhost"}).allow_remote_dev
    assert not load_settings(config, env={"HOST": "::1"}).allow_remote_dev
    flagged = load_settings(config, env={"HOST": "0.0.0.0"}, allow_remote_dev=True)
    assert flagged.allow_remote_dev and flagged.host == "0.0.0.0"
    by_env = load_settings(config, env={"HOST": "0.0.0.0", "MENTORBOT_ALLOW_REMOTE_DEV": "1"})
    assert by_env.allow_remote_dev
    # With a platform configured the process is not in development mode: no flag needed.
    slack = {"HOST": "0.0.0.0", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert not load_settings(config, env=slack).allow_remote_dev
