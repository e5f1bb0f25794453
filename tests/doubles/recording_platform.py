"""A chat platform double over real HTTP: records every send, and can misbehave on cue.

`POST /send` takes `{"user", "text"}` with the outbox key in an `Idempotency-Key`
header. The double counts every request that would have posted a message (`posted`)
and, like a platform that honours idempotency keys, posts a key only once
(`delivered`): a repeat is answered 200 with `duplicate: true`.

Misbehaviour, per key and by count (never by time, so tests do not depend on speed):
`script` lists answers for a key's first requests — 429 (with Retry-After) or 500 —
before it is accepted; `hang_after=N` accepts request N+1 onwards and then never
answers, until `release()`, which is how a test catches a worker mid-send.
`gather_workers=N` holds every request until N distinct workers (`X-Worker`) have
sent one, so a test knows its replicas really deliver side by side.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Request:
    key: str
    user: str
    maybe_delivered: bool
    status: int
    worker: str = ""


@dataclass
class RecordingPlatform:
    script: tuple[int, ...] = ()
    retry_after: float = 1.0
    hang_after: int | None = None
    gather_workers: int = 0
    requests: list[Request] = field(default_factory=list)
    posted: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    hanging: int = 0
    _seen: Counter[str] = field(default_factory=Counter)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _gathered: asyncio.Event = field(default_factory=asyncio.Event)
    _workers: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/send", self.send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    def release(self) -> None:
        """Stop hanging: answer held requests (whose clients may be long dead)."""
        self.hang_after = None
        self._release.set()

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.headers.get("Idempotency-Key", "")
        maybe = request.headers.get("X-Maybe-Delivered") == "1"
        worker = request.headers.get("X-Worker", "")
        if self.gather_workers:
            self._workers.add(worker)
            if len(self._workers) >= self.gather_workers:
                self._gathered.set()
            await self._gathered.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the client gave up first: nothing posted
        attempt = self._seen[key]
        self._seen[key] += 1
        if not key or not isinstance(body.get("text"), str):
            self.requests.append(Request(key, str(body.get("user")), maybe, 400, worker))
            return web.json_response({"ok": False, "error": "invalid_request"}, status=400)
        if attempt < len(self.script):
            status = self.script[attempt]
            self.requests.append(Request(key, body["user"], maybe, status, worker))
            headers = {"Retry-After": f"{self.retry_after:g}"} if status == 429 else {}
            return web.json_response({"ok": False}, status=status, headers=headers)
        self.requests.append(Request(key, body["user"], maybe, 200, worker))
        self.posted[key] += 1
        duplicate = key in self.delivered
        if not duplicate:
            self.delivered[key] += 1
        if self.hang_after is not None and sum(self.posted.values()) > self.hang_after:
            self.hanging += 1
            await self._release.wait()
        return web.json_response({"ok": True, "duplicate": duplicate})
