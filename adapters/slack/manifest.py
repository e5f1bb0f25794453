"""The Slack app manifest (YAML) that creates a working app in one step.

"Create an app → From a manifest" with this text gives the `/mentor` command,
the bot scopes, the events and interactivity pointed at `POST /slack/events`
(or Socket Mode), the App Home tab and the Messages tab.
"""

from __future__ import annotations

from typing import Any

import yaml

from adapters.slack.transport import EVENTS_PATH

BOT_SCOPES = (
    "commands",  # /mentor
    "chat:write",  # answers and DMs
    "chat:write.public",  # the digest in a public channel the bot was not invited to
    "im:write",  # conversations.open for DMs
    "files:write",  # .ics meeting invites uploaded into the DM (files.uploadV2)
    "im:history",  # commands typed in the bot's Messages tab (message.im)
    "users:read",  # users.info: name and time zone
    "users:read.email",  # users.info: e-mail, to link a Slack and a Teams account
)
BOT_EVENTS = ("app_home_opened", "message.im")


class ManifestError(ValueError):
    pass


def request_url(url: str) -> str:
    """`https://bot.example.com` or the full endpoint → `https://bot.example.com/slack/events`."""
    url = url.strip()
    if not url.startswith("https://"):
        raise ManifestError(f"--url must be an https:// address Slack can reach (got {url!r}).")
    url = url.rstrip("/")
    return url if url.endswith(EVENTS_PATH) else url + EVENTS_PATH


def manifest(url: str | None, *, socket_mode: bool, program_name: str) -> dict[str, Any]:
    if not socket_mode and not url:
        raise ManifestError(
            "Give --url https://your-host (where Slack can reach the bot over HTTPS), or "
            "--socket-mode to connect out from behind a firewall."
        )
    endpoint = request_url(url) if url and not socket_mode else None
    command: dict[str, Any] = {
        "command": "/mentor",
        "description": f"{program_name}: join, profile, status, help"[:100],
        "usage_hint": "help | join mentee|mentor|both | status | profile",
        "should_escape": True,  # mentions arrive as <@U123|name>
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if endpoint:
        command["url"] = endpoint
        events["request_url"] = endpoint
        interactivity["request_url"] = endpoint
    return {
        "display_information": {
            "name": "mentorbot",
            "description": "Mentoring that actually happens: matching, meetings, follow-through.",
            "background_color": "#1d3b53",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "mentorbot", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def to_yaml(data: dict[str, Any]) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
