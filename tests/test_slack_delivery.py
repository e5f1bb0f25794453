"""Proactive Slack messages through the real DeliveryWorker and the Web API double:
DMs, channel posts, rate limits, server and connection errors, permanent failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.delivery import Recipient, SendResult
from adapters.slack.sender import SlackSender
from adapters.slack.webapi import make_client
from bot.delivery import DeliveryWorker
from conversations.messages import Message, Text, to_dict
from storage import outbox, people
from storage.database import Database
from storage.models import OutboxMessage
from tests.doubles.slack_api import TEAM_ID, SlackApi
from tests.harness import VirtualClock


@pytest.fixture
async def api() -> AsyncIterator[SlackApi]:
    double = SlackApi()
    async with double.serve():
        yield double


def worker_for(db: Database, url: str, clock: VirtualClock) -> DeliveryWorker:
    sender = SlackSender(make_client("xoxb-test", url))
    worker = DeliveryWorker(db, {"slack": sender}, clock)
    clock.busy = lambda: worker.sending  # a send takes no virtual time
    return worker


async def queue(
    db: Database, clock: VirtualClock, user_id: str, key: str, text: str, channel: str | None = None
) -> None:
    async with db.transaction() as session:
        person_id = None
        if channel is None:
            identity = await people.upsert_identity(
                session,
                people.IdentityKey("slack", TEAM_ID, user_id),
                display_name=user_id,
                now=clock.now(),
            )
            person_id = identity.person_id
        message = Message(text, (Text(text),))
        await outbox.enqueue(
            session,
            key=key,
            kind="test",
            payload=to_dict(message),
            now=clock.now(),
            person_id=person_id,
            platform="slack",
            channel=channel,
        )


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_dm_opens_the_conversation_once_and_posts_blocks(
    db: Database, api: SlackApi
) -> None:
    clock = VirtualClock()  # pacing and Retry-After waits take no real time
    await queue(db, clock, "U1", "k1", "Your agenda for *today*")
    await queue(db, clock, "U1", "k2", "A second note")
    worker = worker_for(db, api.url + "api/", clock)
    assert await worker.run_once() == 2
    assert [c.params["users"] for c in api.called("conversations.open")] == ["U1"]
    first, second = api.called("chat.postMessage")
    assert first.params["channel"] == "DU1"
    assert first.params["text"] == "Your agenda for *today*"
    assert first.params["blocks"][0]["text"]["text"] == "Your agenda for *today*"
    assert second.params["text"] == "A second note"
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_a_429_storm_delivers_every_message_exactly_once(db: Database, api: SlackApi) -> None:
    clock = VirtualClock()
    texts = [f"nudge {n} for U{n % 5}" for n in range(20)]
    for n, text in enumerate(texts):
        await queue(db, clock, f"U{n % 5}", f"storm-{n}", text)
    api.fail("chat.postMessage", status=429, retry_after=30, times=35)
    answered: dict[str, datetime] = {}  # outbox key → when Slack last answered its send

    class AnswerTimes(SlackSender):
        async def send(self, recipient: Recipient, message: Message) -> SendResult:
            result = await super().send(recipient, message)
            answered[recipient.key] = clock.now()
            return result

    sender = AnswerTimes(make_client("xoxb-test", api.url + "api"))
    worker = DeliveryWorker(db, {"slack": sender}, clock)
    clock.busy = lambda: worker.sending
    await worker.run_once()
    waiting = [r for r in await rows(db) if r.status == "pending"]
    assert waiting, "the storm made some messages wait"
    for row in waiting:  # Retry-After honoured (plus up to 10% jitter), never sooner
        wait = row.next_attempt_at - answered[row.idempotency_key]
        assert timedelta(seconds=30) <= wait <= timedelta(seconds=33.05)
        assert "rate limited" in (row.last_error or "")
    for _ in range(40):
        clock.advance(31)
        await worker.run_once()
        if all(r.status == "sent" for r in await rows(db)):
            break
    assert sorted(api.posted_texts()) == sorted(texts)  # each once, none lost
    assert len(api.called("chat.postMessage")) == 20 + 35
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_server_errors_are_retried_in_place_once_then_by_the_worker(
    db: Database, api: SlackApi
) -> None:
    clock = VirtualClock()
    await queue(db, clock, "U1", "k1", "one")
    api.fail("chat.postMessage", status=500, times=1)
    worker = worker_for(db, api.url + "api/", clock)
    await worker.run_once()
    assert api.posted_texts() == ["one"]  # the SDK's server-error handler retried once

    await queue(db, clock, "U1", "k2", "two")
    api.fail("chat.postMessage", status=503, times=2)
    await worker.run_once()
    [row] = [r for r in await rows(db) if r.idempotency_key == "k2"]
    assert row.status == "pending" and "server error" in (row.last_error or "")
    assert row.next_attempt_at > clock.now()  # the worker's backoff (with jitter)
    clock.advance_to(row.next_attempt_at)
    await worker.run_once()
    assert api.posted_texts() == ["one", "two"]


async def test_connection_errors_keep_the_message_queued(db: Database, api: SlackApi) -> None:
    clock = VirtualClock()
    await queue(db, clock, "U1", "k1", "hello")
    worker = worker_for(db, "http://127.0.0.1:9/api/", clock)  # nothing listens there
    await worker.run_once()
    [row] = await rows(db)
    assert row.status == "pending" and "connection" in (row.last_error or "")
    worker = worker_for(db, api.url + "api/", clock)
    clock.advance(minutes=1)
    await worker.run_once()
    assert api.posted_texts() == ["hello"]


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("conversations.open", "user_not_found"),
        ("chat.postMessage", "channel_not_found"),
        ("chat.postMessage", "account_inactive"),
    ],
)
async def test_permanent_errors_fail_the_message(
    db: Database, api: SlackApi, method: str, error: str
) -> None:
    clock = VirtualClock()
    await queue(db, clock, "U1", "k1", "hello")
    api.fail(method, error=error)
    await worker_for(db, api.url + "api/", clock).run_once()
    [row] = await rows(db)
    assert row.status == "dead" and row.last_error == error


async def test_refused_blocks_are_sent_again_as_text(db: Database, api: SlackApi) -> None:
    clock = VirtualClock()
    await queue(db, clock, "U1", "k1", "hello")
    api.fail("chat.postMessage", error="invalid_blocks")
    await worker_for(db, api.url + "api/", clock).run_once()
    first, second = api.called("chat.postMessage")
    assert "blocks" in first.params and "blocks" not in second.params
    assert second.params["text"] == "hello"
    assert [r.status for r in await rows(db)] == ["sent"]


async def test_channel_posts_for_digests(db: Database, api: SlackApi) -> None:
    clock = VirtualClock()
    await queue(db, clock, "", "digest-1", "Weekly digest", channel="C0HR")
    await worker_for(db, api.url + "api/", clock).run_once()
    [post] = api.called("chat.postMessage")
    assert post.params["channel"] == "C0HR" and post.params["text"] == "Weekly digest"
    assert api.called("conversations.open") == []
    assert [r.status for r in await rows(db)] == ["sent"]
