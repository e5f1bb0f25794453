"""The HR digest posted into a Teams channel: the digest is queued as the sweep queues it,
the app's real DeliveryWorker sends it, and the Bot Framework double receives
`POST /v3/conversations` with the channel, the tenant and the card (chart inline)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.teams.channel import channel_activity, pick_reference
from bot.app import ENGINE_KEY, WORKER_KEY
from bot.delivery import UNREACHABLE_RETRY
from conversations.digest.sweep import run_digest
from conversations.messages import Context, File, Header, Message
from storage.database import Database
from storage.models import ConversationReference
from tests.doubles.bot_connector import (
    CHANNEL_ID,
    TEAM_ID,
    TENANT,
    BotConnector,
    TeamsUser,
    added_to_team,
    post,
)
from tests.test_teams_http import Clock, all_sent, deliver_until, outbox_rows, serve

ana = TeamsUser("Ana Lopez", email="ana@example.com")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(
    db: Database, db_url: str, clock: Clock
) -> AsyncIterator[tuple[str, web.Application]]:
    runner, url = await serve(db_url, {}, clock)
    yield url, runner.app
    await runner.cleanup()


async def queue_digest(app: web.Application, clock: Clock, channel: str = CHANNEL_ID) -> None:
    """`mentorbot digest --post` with a Teams channel configured: the sweep's own queuing."""
    engine = app[ENGINE_KEY]
    policy = engine.policy
    policy = dataclasses.replace(
        policy, digest=dataclasses.replace(policy.digest, channels=(("teams", channel),))
    )
    _, items = await run_digest(engine.db, policy, clock.now, post=True)
    assert [i.kind for i in items] == ["digest"]


async def install_in_team(url: str, connector: BotConnector) -> None:
    async with aiohttp.ClientSession() as session:
        assert await post(session, url, added_to_team(connector.url, ana)) == 200


def image_of(card: dict[str, object]) -> list[dict[str, str]]:
    return [e for e in card["body"] if isinstance(e, dict) and e.get("type") == "Image"]  # type: ignore[attr-defined]


async def test_the_digest_is_posted_into_the_channel_with_its_chart_inline(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    await install_in_team(url, connector)
    async with app[ENGINE_KEY].db.transaction() as session:
        [stored] = await session.scalars(select(ConversationReference.reference))
    assert stored["team"] == {"id": TEAM_ID} and stored["serviceUrl"] == connector.url

    await queue_digest(app, clock)
    await deliver_until(app, lambda: all_sent(app))

    [created] = [c for c in connector.created if c.get("isGroup")]
    assert created["channelData"]["channel"] == {"id": CHANNEL_ID}
    assert created["channelData"]["tenant"] == {"id": TENANT}
    [posted] = connector.sent_to(CHANNEL_ID)
    assert posted.activity == created["activity"]
    assert posted.card is not None and "Mentoring digest" in posted.text
    [image] = image_of(posted.card)
    assert image["url"].startswith("data:image/png;base64,")
    png = base64.b64decode(image["url"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG")
    assert not posted.of_type("application/vnd.microsoft.teams.card.file.consent")
    assert not connector.refused


async def test_without_a_known_reference_the_digest_waits_then_goes(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    await queue_digest(app, clock)
    await app[WORKER_KEY].run_once()
    [row] = await outbox_rows(app)
    assert row.status == "pending" and "no Teams conversation reference" in (row.last_error or "")
    assert row.attempts == 0 and connector.attempts == 0

    await install_in_team(url, connector)
    clock.now += UNREACHABLE_RETRY
    await deliver_until(app, lambda: all_sent(app))
    assert len(connector.sent_to(CHANNEL_ID)) == 1


async def test_a_429_is_retried_once_and_posted_once(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    await install_in_team(url, connector)
    connector.storm([429], retry_after=0)
    await queue_digest(app, clock)
    await deliver_until(app, lambda: all_sent(app))
    assert connector.attempts == 2
    assert len(connector.sent_to(CHANNEL_ID)) == 1


def test_the_reference_of_the_channels_team_is_preferred_else_one_in_the_tenant() -> None:
    other = {"serviceUrl": "https://smba/amer/", "tenantId": TENANT, "team": {"id": "19:x"}}
    team = {"serviceUrl": "https://smba/emea/", "tenantId": TENANT, "team": {"id": TEAM_ID}}
    seen = {"serviceUrl": "https://smba/apac/", "tenantId": TENANT, "channel": {"id": CHANNEL_ID}}
    foreign = {"serviceUrl": "https://smba/x/", "tenantId": "another-tenant"}
    assert pick_reference([other, team], TEAM_ID, TENANT) is team
    assert pick_reference([other, seen], f"{CHANNEL_ID};messageid=1", TENANT) is seen
    assert pick_reference([other, team], CHANNEL_ID, TENANT) is other  # newest in tenant
    assert pick_reference([foreign], CHANNEL_ID, TENANT) is None
    assert pick_reference([foreign], CHANNEL_ID) is foreign  # no tenant configured
    assert pick_reference([{"tenantId": TENANT}], CHANNEL_ID, TENANT) is None


def test_a_chart_too_large_for_a_teams_message_is_left_out_and_said_so() -> None:
    chart = File("trend.png", "image/png", base64.b64encode(b"\x89PNG" + bytes(40_000)).decode())
    chart = dataclasses.replace(chart, encoding="base64")
    digest = Message("Digest", (Header("Digest"), chart, Context("Chart: meetings")))
    activity, note = channel_activity(digest)
    card = activity["attachments"][0]["content"]
    assert not image_of(card) and "too large" in note
    assert any("was left out" in e.get("text", "") for e in card["body"])
    small = dataclasses.replace(chart, content=base64.b64encode(b"\x89PNG").decode())
    activity, note = channel_activity(Message("Digest", (Header("Digest"), small)))
    assert note == "" and len(image_of(activity["attachments"][0]["content"])) == 1


async def test_a_message_teams_finds_too_big_goes_again_without_its_chart(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    await install_in_team(url, connector)
    connector.storm([413])
    await queue_digest(app, clock)
    await deliver_until(app, lambda: all_sent(app))
    [posted] = connector.sent_to(CHANNEL_ID)
    assert posted.card is not None and not image_of(posted.card)
    assert "was left out" in str(posted.card["body"])
