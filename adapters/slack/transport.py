"""How Slack reaches the bot: `POST /slack/events` on the project's aiohttp app (HTTP
mode), or a Socket Mode connection when an app-level token is set (no public URL).

Every HTTP request goes through bolt's request verification (v0 HMAC of
`v0:{timestamp}:{body}` with the signing secret, timestamps older than five
minutes refused): forged, unsigned or stale requests get 401 before any
listener runs, so they touch nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from adapters.slack.listeners import SlackBot
from adapters.slack.settings import SlackCredentials
from adapters.slack.webapi import make_client
from conversations.engine import Engine

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackTransport:
    def __init__(self, bot: SlackBot, credentials: SlackCredentials) -> None:
        self.bot = bot
        self.credentials = credentials
        self._socket: AsyncSocketModeHandler | None = None

    async def events(self, request: web.Request) -> web.Response:
        """Slash commands, interactivity and the Events API share this endpoint."""
        response = await self.bot.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def routes(self) -> list[web.RouteDef]:
        if self.credentials.signing_secret is None:
            return []  # Socket Mode only: no unauthenticated HTTP endpoint at all
        return [web.post(EVENTS_PATH, self.events)]

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: connect Socket Mode after start; drain work at stop."""
        if self.credentials.app_token:
            self._socket = AsyncSocketModeHandler(self.bot.app, self.credentials.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected")
        yield
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        await self.bot.close()


def build_slack(
    engine: Engine, clock: Callable[[], datetime], credentials: SlackCredentials
) -> SlackTransport:
    client = make_client(credentials.bot_token, credentials.api_url)
    bot = SlackBot(engine, clock, client, signing_secret=credentials.signing_secret)
    return SlackTransport(bot, credentials)
