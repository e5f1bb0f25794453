"""Validating the Bot Framework's JWT on every inbound request, without blocking the loop.

botbuilder's own validator fetches the OpenID metadata and signing keys with
blocking `requests` calls on the event loop, and answers a bad token with a 500
when those keys cannot be fetched. This one fetches them with aiohttp (one fetch
at a time, cached for a day, refreshed early when a token names an unknown key,
kept and used while a refresh fails), and fails closed with a status of its own:
401 for a missing, malformed, expired or wrongly signed token, 503 only while no
signing keys can be had at all. It never raises anything else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

log = logging.getLogger(__name__)

CHANNEL_ISSUER = "https://api.botframework.com"
CLOCK_SKEW_SECONDS = 300
KEYS_TTL_SECONDS = 24 * 3600
# A token naming an unknown key triggers a refresh, but no more often than this, so a
# stream of forged tokens cannot turn into a stream of fetches.
UNKNOWN_KEY_REFRESH_SECONDS = 300
# While a refresh of day-old keys fails, the old keys serve and a refresh is tried this often.
STALE_RETRY_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 10.0


class AuthError(Exception):
    """The request is refused: `status` is 401 (bad credentials) or 503 (try again)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    key: Any
    endorsements: frozenset[str]


class KeysUnavailable(Exception):
    pass


class SigningKeys:
    """The identity provider's signing keys, fetched from its OpenID metadata and cached."""

    def __init__(self, metadata_url: str) -> None:
        self.metadata_url = metadata_url
        self.issuer = CHANNEL_ISSUER
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._last_attempt = -float("inf")
        self._attempts = 0
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> SigningKey | None:
        """The key with this id; None if the provider does not know it.

        Raises KeysUnavailable when there are no keys and they cannot be fetched.
        """
        now = time.monotonic()
        since_attempt = now - self._last_attempt
        stale = self._fetched_at is None or now - self._fetched_at > KEYS_TTL_SECONDS
        if (
            not self._keys
            or (stale and since_attempt > STALE_RETRY_SECONDS)
            or (kid not in self._keys and since_attempt > UNKNOWN_KEY_REFRESH_SECONDS)
        ):
            await self._refresh(stale)
        return self._keys.get(kid)

    async def _refresh(self, stale: bool) -> None:
        seen = self._attempts
        async with self._lock:
            if self._attempts != seen:  # another request refreshed while this one waited
                if not self._keys:
                    raise KeysUnavailable("signing keys could not be fetched")
                return
            self._attempts += 1
            self._last_attempt = time.monotonic()
            try:
                issuer, keys = await self._fetch()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as err:
                log.warning("could not fetch Bot Framework signing keys: %s", err)
                if not self._keys:
                    raise KeysUnavailable(str(err)) from None
                if stale:
                    log.warning("using the signing keys fetched earlier until a refresh works")
                return
            self.issuer, self._keys, self._fetched_at = issuer, keys, time.monotonic()

    async def _fetch(self) -> tuple[str, dict[str, SigningKey]]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(self.metadata_url) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            async with session.get(str(metadata["jwks_uri"])) as response:
                response.raise_for_status()
                jwks = await response.json(content_type=None)
        keys: dict[str, SigningKey] = {}
        for entry in jwks["keys"]:
            if not isinstance(entry, dict) or "kid" not in entry:
                continue
            try:
                key = jwt.PyJWK.from_dict(entry, algorithm="RS256").key
            except jwt.PyJWTError:
                log.info("skipping signing key %s of an unsupported kind", entry.get("kid"))
                continue
            endorsements = frozenset(str(e) for e in entry.get("endorsements") or ())
            keys[str(entry["kid"])] = SigningKey(key, endorsements)
        if not keys:
            raise ValueError("the key set holds no usable RS256 key")
        return str(metadata.get("issuer") or CHANNEL_ISSUER), keys


class TokenValidator:
    """Checks `Authorization: Bearer …` as the Bot Framework Connector signs it.

    The token must be signed by a current key of the channel's identity provider
    (endorsed for the activity's channel), issued by it, addressed to this bot's
    app id, unexpired (five minutes' skew), and for the activity's service URL: the
    `serviceurl` claim must be there and equal it, so a stolen or replayed token cannot
    point the bot (and its own bearer token) at another host.
    """

    def __init__(self, app_id: str, metadata_url: str) -> None:
        self.app_id = app_id
        self.keys = SigningKeys(metadata_url)

    async def validate(
        self, authorization: str, *, channel_id: str, service_url: str
    ) -> Mapping[str, Any]:
        """The token's claims; raises AuthError (401 or 503) and nothing else."""
        try:
            return await self._validate(authorization, channel_id, service_url)
        except AuthError:
            raise
        except Exception as err:  # fail closed, whatever a malformed token provokes
            log.warning("refusing a request whose token could not be checked: %r", err)
            raise AuthError(401, "the token could not be checked") from None

    async def _validate(
        self, authorization: str, channel_id: str, service_url: str
    ) -> Mapping[str, Any]:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "no bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError(401, "the token is not a JWT") from None
        kid = header.get("kid")
        if header.get("alg") != "RS256" or not isinstance(kid, str):
            raise AuthError(401, "the token is not signed the Bot Framework's way")
        try:
            key = await self.keys.get(kid)
        except KeysUnavailable:
            raise AuthError(503, "the identity provider's signing keys are unavailable") from None
        if key is None:
            raise AuthError(401, "the token is signed by an unknown key")
        if key.endorsements and channel_id not in key.endorsements:
            raise AuthError(401, f"the signing key is not endorsed for channel {channel_id!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self.keys.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as err:
            raise AuthError(401, f"invalid token: {err}") from None
        claimed_url = claims.get("serviceurl")
        if not isinstance(claimed_url, str) or not claimed_url:
            raise AuthError(401, "the token names no service URL")
        if claimed_url.rstrip("/") != service_url.rstrip("/"):
            raise AuthError(401, "the token is for another service URL")
        return claims
