"""The rate-limited Slack double and the bench's path through it, at small scale.

The double must refuse a second post to a channel within a second (429 with a
whole-second Retry-After) and count what it posted; the delivery worker, paced for
Slack, with the production Slack sender (as the bench builds it), must get every
message through it exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bench.delivery import make_sender, seed
from bot.clock import utcnow
from bot.delivery import DeliveryWorker
from storage import outbox
from storage.database import Database
from tests.doubles.rate_limited_slack import SlackDouble

AUTH = {"Authorization": "Bearer xoxb-test"}


@pytest.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble()
    await double.start()
    yield double
    await double.stop()


async def test_the_double_limits_each_channel_to_one_post_a_second(slack: SlackDouble) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{slack.url}/api/conversations.open", data={"users": "U1"}) as r:
            assert (await r.json()) == {"ok": False, "error": "not_authed"}
        async with http.post(
            f"{slack.url}/api/conversations.open", data={"users": "U1"}, headers=AUTH
        ) as r:
            channel = (await r.json())["channel"]["id"]
        post = f"{slack.url}/api/chat.postMessage"
        async with http.post(post, json={"channel": channel, "text": "a"}, headers=AUTH) as r:
            assert r.status == 200 and (await r.json())["ok"]
        async with http.post(post, json={"channel": channel, "text": "b"}, headers=AUTH) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"
            assert (await r.json())["error"] == "ratelimited"
        async with http.post(post, json={"channel": "D2", "text": "a"}, headers=AUTH) as r:
            assert r.status == 200  # another channel is not limited
    assert slack.stats() == {
        "posted": 2,
        "unique": 2,
        "duplicated": 0,
        "rate_limited": 1,
        "conversations_opened": 1,
    }


async def test_paced_delivery_through_the_double_sends_each_message_once(
    db: Database, slack: SlackDouble
) -> None:
    await seed(db, messages=12, channels=4)
    worker = DeliveryWorker(db, {"slack": make_sender(db, f"{slack.url}/api/")}, utcnow)
    task = asyncio.create_task(worker.run())
    for _ in range(3000):
        async with db.transaction() as s:
            counts = await outbox.counts(s)
        if counts.get("sent") == 12:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert counts == {"sent": 12}
    stats = slack.stats()
    assert (stats["unique"], stats["duplicated"], stats["conversations_opened"]) == (12, 0, 4)
