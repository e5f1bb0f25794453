"""Setting Slack up: configuration, the app manifest, and Socket Mode end to end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from adapters.slack.manifest import BOT_EVENTS, BOT_SCOPES
from adapters.slack.webapi import api_base_url
from bot.app import build_app
from bot.cli import main
from bot.config import ConfigError, load_settings
from storage.database import Database
from tests.doubles.slack_api import TEAM_ID, SlackApi

ROOT = Path(__file__).resolve().parent.parent
APP_YAML = str(ROOT / "app.yaml")


def test_slack_settings_from_the_environment() -> None:
    http = load_settings(
        APP_YAML,
        env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://x"},
    )
    assert http.slack is not None and http.slack.signing_secret == "s"
    assert http.slack.app_token is None and http.slack.api_url == "http://x"
    assert not http.local_chat and http.host == "0.0.0.0"
    socket = load_settings(APP_YAML, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.slack is not None and socket.slack.app_token == "xapp-1"
    assert load_settings(APP_YAML, env={}).slack is None


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "xapp-"),
    ],
)
def test_incomplete_slack_settings_are_named(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_settings(APP_YAML, env=env)


def test_api_base_url_has_exactly_one_trailing_slash() -> None:
    assert api_base_url(None) == "https://slack.com/api/"
    assert api_base_url("https://slack-gov.com/api") == "https://slack-gov.com/api/"
    assert api_base_url("http://127.0.0.1:9/api//") == "http://127.0.0.1:9/api/"


def test_manifest_for_http_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--config", APP_YAML, "manifest", "slack", "--url", "https://bot.acme.example/"]) == 0
    )
    data = yaml.safe_load(capsys.readouterr().out)
    endpoint = "https://bot.acme.example/slack/events"
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/mentor" and command["url"] == endpoint
    assert command["should_escape"] is True
    assert data["settings"]["event_subscriptions"]["request_url"] == endpoint
    assert data["settings"]["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": endpoint}
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert set(data["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    assert {"commands", "chat:write", "im:write", "users:read.email"} <= set(BOT_SCOPES)


def test_manifest_for_socket_mode_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", APP_YAML, "manifest", "slack", "--socket-mode"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert "url" not in data["features"]["slash_commands"][0]
    assert main(["--config", APP_YAML, "manifest", "slack"]) == 2
    assert "--url" in capsys.readouterr().err
    assert main(["--config", APP_YAML, "manifest", "slack", "--url", "http://plain"]) == 2
    assert "https://" in capsys.readouterr().err


async def test_socket_mode_serves_commands_without_a_public_endpoint(
    db: Database, db_url: str
) -> None:
    api = SlackApi()
    api.add_user("U1", "Alice Doe")
    async with api.serve():
        env = {
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-test",
            "SLACK_API_URL": api.url + "api",
        }
        app = build_app(
            load_settings(APP_YAML, env=env),
            clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            scheduler_enabled=False,
        )
        assert all(
            r.resource is None or r.resource.canonical != "/slack/events"
            for r in app.router.routes()
        )
        runner = web.AppRunner(app)
        await runner.setup()  # runs the cleanup contexts: migrations, then Socket Mode connects
        try:
            payload = {
                "token": "x",
                "team_id": TEAM_ID,
                "user_id": "U1",
                "user_name": "alice",
                "command": "/mentor",
                "text": "join mentee",
                "response_url": api.response_url(),
                "trigger_id": "t1",
                "channel_id": "C1",
            }
            ack = await asyncio.wait_for(api.socket_request("slash_commands", payload, "env-1"), 20)
            assert "joined as a mentee" in ack["payload"]["text"]
            assert [c.method for c in api.calls if c.method == "apps.connections.open"]
            assert (
                api.called("apps.connections.open")[0].headers["Authorization"]
                == "Bearer xapp-test"
            )
        finally:
            await runner.cleanup()
