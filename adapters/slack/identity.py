"""Who a Slack user is: users.info (display name, time zone, e-mail), cached.

An e-mail is kept only for a member of the bot's own workspace (trusted_email): it is
what links accounts across platforms and what admin rights by e-mail rest on.

The cache keeps interactive turns off the Web API: a person's first command
costs one users.info call, the next ones within `ttl` none. A failed lookup
is not fatal: the turn goes on with the name the payload carried (or what was
cached before), and that user is not looked up again for a minute, so a rate
limit on users.info does not slow every command down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import SlackUser

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workspace:
    """The workspace the bot token belongs to (auth.test, as bolt authorized it)."""

    team_id: str
    enterprise_id: str | None = None


def trusted_email(user: dict[str, object], workspace: Workspace | None) -> str | None:
    """The profile e-mail, only for a member of the bot's own workspace (or its Enterprise
    Grid org): a Slack Connect stranger's or another workspace's e-mail links no account
    and grants no admin rights. Unknown workspace: no e-mail."""
    profile = user.get("profile")
    email = profile.get("email") if isinstance(profile, dict) else None
    if not isinstance(email, str) or not email or workspace is None or user.get("is_stranger"):
        return None
    enterprise = user.get("enterprise_user")
    grid = enterprise.get("enterprise_id") if isinstance(enterprise, dict) else None
    if user.get("team_id") == workspace.team_id or (
        workspace.enterprise_id and grid == workspace.enterprise_id
    ):
        return email
    return None


def to_user(user: dict[str, object], workspace: Workspace | None = None) -> SlackUser:
    """users.info's `user` object → what the engine needs."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user.get("id")
    )
    tz = user.get("tz")
    return SlackUser(
        user_id=str(user.get("id", "")),
        display_name=str(name or ""),
        timezone=tz if isinstance(tz, str) and tz else None,
        email=trusted_email(user, workspace),
    )


class UserDirectory:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 3600.0,
        timeout: float = 1.5,
        retry_after_failure: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.timeout = timeout
        self.retry_after_failure = retry_after_failure
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, SlackUser]] = {}
        self._pending: dict[str, asyncio.Future[SlackUser | None]] = {}
        self._failed: dict[str, float] = {}  # user id → when to ask users.info again
        self.workspace: Workspace | None = None  # set once bolt has authorized a request

    async def lookup(self, user_id: str) -> SlackUser | None:
        """The user, from the cache or users.info; None when Slack could not say in time."""
        hit = self._cache.get(user_id)
        if hit is not None and hit[0] > self.monotonic():
            return hit[1]
        if self._failed.get(user_id, 0.0) > self.monotonic():  # Slack just said no: not again
            return hit[1] if hit is not None else None
        pending = self._pending.get(user_id)
        if pending is not None:  # one call per user, however many turns wait for it
            return await asyncio.shield(pending)
        future: asyncio.Future[SlackUser | None] = asyncio.get_running_loop().create_future()
        self._pending[user_id] = future
        try:
            user = await self._fetch(user_id)
            if user is not None:
                self._cache[user_id] = (self.monotonic() + self.ttl, user)
                self._failed.pop(user_id, None)
            else:
                self._failed[user_id] = self.monotonic() + self.retry_after_failure
                if hit is not None:
                    user = hit[1]  # stale beats nothing
            future.set_result(user)
            return user
        finally:
            del self._pending[user_id]
            if not future.done():
                future.set_result(None)

    async def _fetch(self, user_id: str) -> SlackUser | None:
        try:
            response = await asyncio.wait_for(self.client.users_info(user=user_id), self.timeout)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as err:
            log.warning("users.info for %s failed: %s", user_id, err)
            return None
        user = response.get("user")
        return to_user(user, self.workspace) if isinstance(user, dict) else None
