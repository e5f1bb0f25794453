"""The Slack Web API client: base URL, retries and how its errors are classified.

Retries inside a call are kept short on purpose: the delivery worker owns
long waits (it re-queues a message for after `Retry-After`), and an
interactive call must finish inside Slack's 3 seconds. So a 429 is retried
here only when Slack asks for a wait of at most `max_inline_wait` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_API_URL = "https://slack.com/api/"


# Errors that retrying cannot fix: the person or channel is gone, or the bot may not post.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "cannot_dm_bot",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
        "users_not_found",
        "no_permission",
        "missing_scope",
        "msg_too_long",
        "no_text",
    }
)
# Slack refused the blocks: the same message as plain text still gets through.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})


def api_base_url(url: str | None) -> str:
    """SLACK_API_URL with exactly one trailing slash (the SDK appends method names to it)."""
    if not url or not url.strip():
        return DEFAULT_API_URL
    return url.strip().rstrip("/") + "/"


def retry_after(headers: Mapping[str, Any], default: float) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except ValueError:
                return default
    return default


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 in place only when Slack asks for a short wait; else let it surface."""

    def __init__(self, max_inline_wait: float, max_retry_count: int = 1) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_inline_wait = max_inline_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers, default=1.0) <= self.max_inline_wait


def make_client(
    token: str, api_url: str | None = None, *, timeout: int = 10, max_inline_wait: float = 1.0
) -> AsyncWebClient:
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncServerErrorRetryHandler(max_retry_count=1),
        ShortRateLimitRetryHandler(max_inline_wait),
    ]
    return AsyncWebClient(
        token=token, base_url=api_base_url(api_url), timeout=timeout, retry_handlers=handlers
    )


Verdict = Literal["retry", "failed", "blocks"]


def classify(err: Exception) -> tuple[Verdict, str, float | None]:
    """What a failed call means for the message: retry (after how long), give up,
    or resend without blocks. Unknown errors are retried: the worker's attempt
    limit bounds them, and a message is never dropped on a guess."""
    if isinstance(err, SlackApiError):
        status = err.response.status_code
        code = (
            str(err.response.get("error", "") or "") if isinstance(err.response.data, dict) else ""
        )
        if status == 429 or code == "ratelimited":
            return "retry", f"rate limited (HTTP {status})", retry_after(err.response.headers, 60.0)
        if status >= 500:
            return "retry", f"Slack server error (HTTP {status})", None
        if code in PERMANENT_ERRORS:
            return "failed", code, None
        if code in BLOCK_ERRORS:
            return "blocks", code, None
        return "retry", code or f"HTTP {status}", None
    if isinstance(err, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return "retry", f"connection: {type(err).__name__}: {err}", None
    raise err
