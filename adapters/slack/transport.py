"""How Slack reaches the bot: `POST /slack/events` on the project's aiohttp app (HTTP
mode), or a Socket Mode connection when an app-level token is set (no public URL).

Every HTTP request goes through bolt's request verification (v0 HMAC of
`v0:{timestamp}:{body}` with the signing secret, timestamps older than five
minutes refused): forged, unsigned or stale requests get 401 ("unauthorized", no
more) before any listener runs, so they touch nothing; signed but malformed ones get
400 (guard.py), and a replayed slash command acts once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from adapters.slack import guard
from adapters.slack.listeners import REPLAY_KEY, SlackBot
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
        assert self.credentials.signing_secret is not None  # routes() serves it only then
        try:
            checked = guard.check(
                await request.read(), request.headers, self.credentials.signing_secret, time.time()
            )
        except guard.Unauthorized as err:
            log.info("refused a Slack request (401): %s", err)
            return web.json_response({"error": "unauthorized"}, status=401)
        except guard.Malformed as err:
            log.info("refused a signed Slack request (400): %s", err)
            return web.json_response({"error": "bad request"}, status=400)
        bolt_request = await to_bolt_request(request)
        if checked.replay_key is not None:
            bolt_request.context[REPLAY_KEY] = checked.replay_key
        response = await self.bot.app.async_dispatch(bolt_request)
        if response.status == 401:
            return web.json_response({"error": "unauthorized"}, status=401)
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
