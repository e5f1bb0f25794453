"""`GET /metrics` and the request counter: the HTTP side of bot/metrics.py.

In production (`MENTORBOT_ENV=production`) `/metrics` answers only a request bearing
`Authorization: Bearer $MENTORBOT_METRICS_TOKEN`, and 403 to everyone while the token is
unset; in development it is open (the bot then listens on loopback only). A token that
is set is always required.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from bot.metrics import get, surface_of
from storage import outbox_stats
from storage.database import Database

log = logging.getLogger(__name__)

TOKEN_ENV = "MENTORBOT_METRICS_TOKEN"


@web.middleware
async def count_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Counts every request by surface and status (an exception counts as its HTTP error)."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as err:
        status = err.status
        raise
    finally:
        get().inbound.labels(surface_of(request.path), str(status)).inc()


def metrics_handler(
    db: Database, clock: Callable[[], datetime], *, token: str | None, production: bool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /metrics: the outbox gauges are read from the database at scrape time."""
    if production and not token:
        log.warning("%s is not set: /metrics refuses every request in production", TOKEN_ENV)

    async def serve(request: web.Request) -> web.Response:
        if token or production:
            given = request.headers.get("Authorization", "")
            if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.Response(status=403, text="forbidden\n")
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        m = get()
        try:
            async with db.transaction() as session:
                pending, oldest = await outbox_stats.backlog(session, clock())
            m.outbox_pending.set(pending)
            m.outbox_oldest.set(oldest)
        except Exception:  # a scrape still answers; the gauges keep their last values
            log.warning("could not read the outbox backlog for /metrics", exc_info=True)
        body = generate_latest(m.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return serve
