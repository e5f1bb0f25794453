"""botbuilder's plumbing, with the blocking parts replaced.

`BotAuthentication` is the BotFrameworkAuthentication that CloudAdapter asks for:
inbound requests are checked by our own TokenValidator (auth.py), and connector
clients carry an outbound token fetched with aiohttp before the client is made
(botbuilder's MSAL credentials would fetch it with blocking calls on the loop).
With no app id, requests are accepted as anonymous and replies carry no token,
which is what the Bot Framework Emulator expects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)

from adapters.teams.auth import AuthError, TokenValidator
from adapters.teams.settings import TeamsSettings

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
REFRESH_MARGIN_SECONDS = 300
TOKEN_TIMEOUT_SECONDS = 15.0


class TokenUnavailable(Exception):
    """The bot's own access token could not be fetched (a transient failure)."""


class AppToken:
    """The bot's client-credentials token for the connector, fetched with aiohttp and cached."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.settings = settings
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def url(self) -> str:
        return (
            f"{self.settings.login_url.rstrip('/')}/{self.settings.token_tenant}/oauth2/v2.0/token"
        )

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    async def _fetch(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.app_id,
            "client_secret": self.settings.app_password,
            "scope": f"{BOT_FRAMEWORK_SCOPE}/.default",
        }
        try:
            timeout = aiohttp.ClientTimeout(total=TOKEN_TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(self.url, data=form) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200 or "access_token" not in body:
                        error = body.get("error_description") or body.get("error") or body
                        raise TokenUnavailable(f"token endpoint said {response.status}: {error}")
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise TokenUnavailable(f"token endpoint unreachable: {err}") from None
        lifetime = float(body.get("expires_in", 3600))
        self._token = str(body["access_token"])
        self._expires_at = time.monotonic() + max(lifetime - REFRESH_MARGIN_SECONDS, 30.0)


class _FixedTokenCredentials(AppCredentials):  # type: ignore[misc]
    """Credentials holding a token fetched beforehand; empty means no Authorization header."""

    def __init__(self, app_id: str, token: str) -> None:
        super().__init__(app_id=app_id)
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


class _ConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """Connector clients per (service URL, token), reused: making one costs ~10 ms of CPU
    (msrest builds its retry tables), and there are only a few service URLs."""

    def __init__(self, settings: TeamsSettings, token: AppToken) -> None:
        self.settings = settings
        self.token = token
        self._clients: dict[tuple[str, str], ConnectorClient] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        token = await self.token.get() if self.settings.authenticated else ""
        client = self._clients.get((service_url, token))
        if client is None:
            if len(self._clients) >= 32:  # tokens were refreshed, or many service URLs
                self._clients.clear()
            client = ConnectorClient(
                _FixedTokenCredentials(self.settings.app_id, token), base_url=service_url
            )
            # No hidden retries inside requests: the sender retries, paced and visible.
            client.config.retry_policy.retries = 0
            self._clients[(service_url, token)] = client
        return client


class BotAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    def __init__(self, settings: TeamsSettings) -> None:
        self.settings = settings
        self.validator = (
            TokenValidator(settings.app_id, settings.openid_metadata_url)
            if settings.authenticated
            else None
        )
        self.factory = _ConnectorFactory(settings, AppToken(settings))

    def claims_for_bot(self) -> ClaimsIdentity:
        """The identity proactive turns run under."""
        claims = {
            AuthenticationConstants.AUDIENCE_CLAIM: self.settings.app_id,
            AuthenticationConstants.APP_ID_CLAIM: self.settings.app_id,
        }
        return ClaimsIdentity(claims, True)

    async def authenticate(
        self, activity: Activity, authorization: str
    ) -> AuthenticateRequestResult:
        """The request's claims; AuthError (401/503) when it must be refused."""
        if self.validator is None:
            claims: Mapping[str, Any] = {}
            identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
        else:
            claims = await self.validator.validate(
                authorization,
                channel_id=str(activity.channel_id or ""),
                service_url=str(activity.service_url or ""),
            )
            identity = ClaimsIdentity(dict(claims), True)
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = BOT_FRAMEWORK_SCOPE
        result.caller_id = None
        result.connector_factory = self.factory
        return result

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await self.authenticate(activity, auth_header)
        except AuthError as err:
            raise PermissionError(err.reason) from None

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("streaming connections are not supported")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.factory

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> None:
        return None  # mentorbot uses no user sign-in (OAuth cards)

    def get_originating_audience(self) -> str:
        return str(BOT_FRAMEWORK_SCOPE)
