"""The Slack adapter's settings, read by bot/config.py from the environment.

Apart from the Web API client (webapi.py) so that reading the configuration does not
load slack_sdk and aiohttp: only a process that talks to Slack pays for them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlackCredentials:
    """From the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (HTTP mode),
    SLACK_APP_TOKEN (Socket Mode), SLACK_API_URL (another Web API base)."""

    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str | None = None
