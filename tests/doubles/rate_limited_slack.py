"""A Slack Web API double with chat.postMessage's rate limit, over real HTTP.

Speaks the two methods a proactive sender needs, shaped as Slack documents them:
`conversations.open` (`users` → `{"ok": true, "channel": {"id": "D…"}}`) and
`chat.postMessage` (`channel`, `text`, optional `blocks`/`metadata`; JSON or form body,
or the query string; `Authorization: Bearer xoxb-…`). Posting is limited as Slack describes it — one
message a second per channel — and strictly: a post within a second of the channel's
last accepted one gets HTTP 429, `Retry-After: <whole seconds>` and
`{"ok": false, "error": "ratelimited"}`, and is not posted.

Every accepted post is recorded by (channel, text), so a test or benchmark with
distinct texts sees lost and duplicated messages; `GET /_double/stats` reports them.
Use it in-process (`SlackDouble().start()`) or as a process:

    python -m tests.doubles.rate_limited_slack [--port 0]   # prints "listening URL"
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN_PREFIX = "xoxb-"


@dataclass
class ChannelLimit:
    """chat.postMessage's limit (also bench/soak.py's, in front of tests/doubles/slack_api.py):
    `post` accepts and counts a post, or turns it away with 429 and Retry-After."""

    per_channel_seconds: float = 1.0
    posted: Counter[tuple[str, str]] = field(default_factory=Counter)
    rate_limited: int = 0
    _last_post: dict[str, float] = field(default_factory=dict)

    def post(self, channel: str, text: str) -> web.Response:
        now = time.monotonic()
        last = self._last_post.get(channel)
        if last is not None and now - last < self.per_channel_seconds:
            self.rate_limited += 1
            wait = max(1, math.ceil(self.per_channel_seconds - (now - last)))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        self._last_post[channel] = now
        self.posted[(channel, text)] += 1
        ts = f"{time.time():.6f}"
        return web.json_response(
            {"ok": True, "channel": channel, "ts": ts, "message": {"text": text}}
        )

    def counts(self) -> dict[str, int]:
        return {
            "posted": sum(self.posted.values()),
            "unique": len(self.posted),
            "duplicated": sum(n - 1 for n in self.posted.values()),
            "rate_limited": self.rate_limited,
        }


@dataclass
class SlackDouble(ChannelLimit):
    opened: int = 0
    _runner: web.AppRunner | None = None
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/conversations.open", self.conversations_open)
        app.router.add_post("/api/chat.postMessage", self.chat_post_message)
        app.router.add_get("/_double/stats", self.stats_view)
        return app

    async def start(self, port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stats(self) -> dict[str, int]:
        return {**self.counts(), "conversations_opened": self.opened}

    async def stats_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any] | None:
        if not request.headers.get("Authorization", "").startswith(f"Bearer {TOKEN_PREFIX}"):
            return None
        # Slack takes arguments in the query string too (slack_sdk sends
        # conversations.open's that way); the body wins when both give one.
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            args.update(body if isinstance(body, dict) else {})
        else:
            args.update(await request.post())
        return args

    async def conversations_open(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        if args is None:
            return web.json_response({"ok": False, "error": "not_authed"})
        users = str(args.get("users", ""))
        if not users or "," in users:
            return web.json_response({"ok": False, "error": "users_not_found"})
        self.opened += 1
        return web.json_response({"ok": True, "channel": {"id": f"D{users}"}})

    async def chat_post_message(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        if args is None:
            return web.json_response({"ok": False, "error": "not_authed"})
        channel, text = args.get("channel"), args.get("text")
        if not isinstance(channel, str) or not channel:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if not isinstance(text, str) or not text:
            return web.json_response({"ok": False, "error": "no_text"})
        return self.post(channel, text)


async def serve(port: int) -> None:
    double = SlackDouble()
    print(f"listening {await double.start(port)}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))
