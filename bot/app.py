"""The aiohttp application: health endpoints, the local web chat, and the background
work (scheduler, delivery worker) started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.delivery import Sender
from adapters.local.hub import LocalHub
from adapters.local.web import LocalChat
from bot import metrics, metrics_http, public_pages
from bot.clock import utcnow
from bot.config import Settings
from bot.delivery import DeliveryWorker
from bot.dev_guard import dev_guard
from bot.scheduler import Jobs, sweep_interval
from conversations import timings
from conversations.engine import Engine
from storage.database import Database
from storage.migrate import upgrade

if TYPE_CHECKING:  # each platform's adapter (and SDK) loads only when it is configured
    from adapters.slack.transport import SlackTransport
    from adapters.teams.service import TeamsService

log = logging.getLogger(__name__)

DB_KEY = web.AppKey("db", Database)
ENGINE_KEY = web.AppKey("engine", Engine)
WORKER_KEY = web.AppKey("worker", DeliveryWorker)
SLACK_KEY: web.AppKey[SlackTransport] = web.AppKey("slack")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if await request.app[DB_KEY].ping():
        return web.json_response({"status": "ready", "database": "ok"})
    return web.json_response({"status": "not ready", "database": "unreachable"}, status=503)


async def platform_home(request: web.Request) -> web.Response:
    return web.Response(
        text="mentorbot is running. The local web chat is off because a chat platform is "
        "configured; talk to the bot in Slack or Teams.\n"
    )


async def settle_heap(app: web.Application) -> None:
    """An `on_startup` hook for a long-running server, after the app's own start-up
    (migrations): take what start-up built (modules, mappers, compiled statements: objects
    that live as long as the process) out of the garbage collector's sight.

    Otherwise every full collection walks them all on the event loop's thread, stalling
    every request in flight; the measurements are in docs/decisions/0003-gc-freeze.md.
    """
    gc.collect()
    gc.freeze()


def build_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    scheduler_enabled: bool = True,
    deliver_in_background: bool = True,
) -> web.Application:
    """The whole bot as one aiohttp application (one process, one port).

    `deliver_in_background=False` leaves the delivery worker's loop unstarted, for a
    caller that drives `app[WORKER_KEY]` itself (`run_once`, on a clock it moves): with
    the loop running too, both would claim and settle the same rows, and which attempts
    and states the caller saw would depend on scheduling."""
    dev_mode = settings.local_chat
    middlewares = [dev_guard(allow_remote=settings.allow_remote_dev)] if dev_mode else []
    # Counted first, so a request the dev guard refuses is counted too.
    app = web.Application(middlewares=[metrics_http.count_requests, *middlewares])
    db = Database(settings.database_url)
    engine = Engine(db, settings.policy)
    setattr(engine, "handle", metrics.timed_turns(engine.handle, engine.router))  # noqa: B010
    timings.watch(metrics.timed_job)
    senders: dict[str, Sender] = {}
    app[DB_KEY] = db
    app[ENGINE_KEY] = engine
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get(
        "/metrics",
        metrics_http.metrics_handler(
            db,
            clock,
            token=os.environ.get(metrics_http.TOKEN_ENV) or None,
            production=settings.environment == "production",
        ),
    )
    app.add_routes(public_pages.routes(settings.policy))
    if settings.local_chat:
        hub = LocalHub()
        senders["local"] = hub
        app.add_routes(LocalChat(engine, hub, clock).routes())

        async def close_streams(app: web.Application) -> None:
            hub.close_all()

        app.on_shutdown.append(close_streams)
    else:
        app.router.add_get("/", platform_home)
    slack: SlackTransport | None = None
    if settings.slack is not None:
        from adapters.slack.transport import build_slack

        slack = build_slack(engine, clock, settings.slack)
        app[SLACK_KEY] = slack
        senders["slack"] = slack.bot.sender
        app.add_routes(slack.routes())
    teams: TeamsService | None = None
    if settings.teams is not None:
        from adapters.teams.service import TeamsService

        teams = TeamsService(settings.teams, engine, clock)
        senders["teams"] = teams.sender
        app.add_routes(teams.routes())
        if not teams.settings.authenticated:
            log.warning(
                "POST /api/messages accepts UNAUTHENTICATED Teams traffic (no MICROSOFT_APP_ID): "
                "anyone who can reach it can act as any Teams user. Local development only."
            )
    worker = DeliveryWorker(db, senders, clock)
    app[WORKER_KEY] = worker
    if settings.local_chat:
        hub.on_connect = worker.reachable
    if teams is not None:
        teams.set_on_reachable(worker.reachable)

    async def background(app: web.Application) -> AsyncIterator[None]:
        metrics.get()  # prometheus_client is imported now, not on the first request
        await upgrade(db)
        every = sweep_interval(os.environ)
        jobs = Jobs(engine, worker, clock, sweep_every=every) if scheduler_enabled else None
        if jobs is not None:
            jobs.start()
        task = asyncio.create_task(worker.run(), name="delivery") if deliver_in_background else None
        yield
        if jobs is not None:
            await jobs.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await db.dispose()
        log.info("mentorbot stopped cleanly")

    app.cleanup_ctx.append(background)
    if slack is not None:  # after `background`: Socket Mode connects once migrations ran
        app.cleanup_ctx.append(slack.lifecycle)
    return app
