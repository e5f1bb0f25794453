"""The Teams adapter assembled: one CloudAdapter, its authentication, the endpoint and
the proactive sender, for bot/app.py to mount and register."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter

from adapters.teams.channel import ChannelReferences
from adapters.teams.connector import BotAuthentication
from adapters.teams.endpoint import Reachable, TeamsEndpoint
from adapters.teams.files import OfferedFiles
from adapters.teams.sender import TeamsSender
from adapters.teams.settings import TeamsSettings
from conversations.engine import Engine


class TeamsService:
    def __init__(
        self, settings: TeamsSettings, engine: Engine, clock: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.auth = BotAuthentication(settings)
        self.adapter = CloudAdapter(self.auth)
        self.offers = OfferedFiles(engine)
        self.sender = TeamsSender(
            self.adapter,
            settings.app_id,
            base_delay=settings.retry_base_seconds,
            pace_seconds=settings.pace_seconds,
            channel_reference=ChannelReferences(engine, settings.tenant_id),
            offers=self.offers,
        )
        self.endpoint = TeamsEndpoint(engine, self.adapter, self.auth, self.sender, clock)

    def set_on_reachable(self, callback: Reachable) -> None:
        self.endpoint.on_reachable = callback

    def routes(self) -> list[web.RouteDef]:
        return self.endpoint.routes()
