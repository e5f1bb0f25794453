"""Shared by the security tests: settings for Slack against its double, the bot served
from given settings on a random port, activities moved to another tenant, and counts of
what a request may have changed."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.app import DB_KEY, build_app
from bot.config import Settings, load_settings
from storage.models import ConversationReference, Identity, OutboxMessage, Person
from tests.doubles.slack_api import SlackApi

OTHER_TENANT = "0badc0de-0000-4000-8000-0000000000ff"
APP_YAML = str(Path(__file__).resolve().parent.parent / "app.yaml")


def slack_settings(db_url: str, api: SlackApi, secret: str, **env: str) -> Settings:
    """The repository's app.yaml with Slack pointed at the Web API double `api`, requests
    signed with `secret`; `env` adds or overrides variables."""
    base = {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": api.url + "api/",
    }
    return load_settings(APP_YAML, env={**base, **env})


@asynccontextmanager
async def served(
    settings: Settings, clock: Any, *, deliver_in_background: bool = True
) -> AsyncIterator[tuple[str, web.Application]]:
    """The whole app on 127.0.0.1 (random port); Teams sends without pauses. A test that
    runs the delivery passes itself turns the app's own loop off."""
    if settings.teams is not None:
        teams = dataclasses.replace(settings.teams, retry_base_seconds=0.001, pace_seconds=0)
        settings = dataclasses.replace(settings, teams=teams)
    app = build_app(
        settings,
        clock=clock,
        scheduler_enabled=False,
        deliver_in_background=deliver_in_background,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", app
    finally:
        await runner.cleanup()


def in_tenant(activity: dict[str, Any], tenant: str) -> dict[str, Any]:
    """The activity as if sent from `tenant`."""
    moved = {
        **activity,
        "channelData": {**activity.get("channelData", {}), "tenant": {"id": tenant}},
    }
    moved["conversation"] = {**activity["conversation"], "tenantId": tenant}
    return moved


async def footprint(app: web.Application) -> dict[str, int]:
    """How many people, identities, references and outbox rows the database holds."""
    counts: dict[str, int] = {}
    async with app[DB_KEY].transaction() as session:
        for model in (Person, Identity, ConversationReference, OutboxMessage):
            total = await session.scalar(select(func.count()).select_from(model))
            counts[model.__tablename__] = int(total or 0)
    return counts
