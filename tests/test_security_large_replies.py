"""A reply too large for a Teams message is never silently dropped. Files go through the
file consent flow with only a token in the card: the connector double refuses an activity
over ~100 KB (413) as Teams does, and the export still arrives, uploaded to the person's
OneDrive on Allow, to that person only, while the offer lasts. What Teams still refuses
is sent without the file and says so; a message that fails for good on any platform is
reported to its person (never its text)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from bot.app import ENGINE_KEY, WORKER_KEY
from bot.config import load_settings
from bot.scheduler import Jobs
from conversations.messages import File, Message, Text, from_dict, to_dict
from storage import outbox
from storage.database import Database
from storage.models import Identity, OfferedFile, OutboxMessage, Profile
from tests.doubles.bot_connector import (
    MAX_ACTIVITY_BYTES,
    BotConnector,
    Sent,
    TeamsUser,
    file_consent,
    message,
    post,
)
from tests.security_kit import served as served_on_loopback

ROOT = Path(__file__).resolve().parent.parent
BIG = "CANARY-BIG " + "x" * 150_000
START = datetime(2026, 11, 23, 9, tzinfo=UTC)
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"


class Now:
    """The bot's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Served:
    app: web.Application
    url: str


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
async def served(db: Database, db_url: str, now: Now) -> AsyncIterator[Served]:
    """The whole bot on a loopback port, on the test's clock; the tests run the delivery
    passes themselves."""
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    async with served_on_loopback(settings, now, deliver_in_background=False) as (url, app):
        yield Served(app, url)


async def rows(app: web.Application) -> list[OutboxMessage]:
    async with app[ENGINE_KEY].db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def offered(app: web.Application) -> list[OfferedFile]:
    async with app[ENGINE_KEY].db.transaction() as session:
        return list(await session.scalars(select(OfferedFile).order_by(OfferedFile.id)))


async def deliver(app: web.Application) -> None:
    for _ in range(100):  # a dead row's notice goes out on a later pass
        await app[WORKER_KEY].run_once()
        if all(r.status in ("sent", "dead") for r in await rows(app)):
            return
    raise AssertionError("the outbox did not empty")


def the_consent(sent: Sent) -> dict[str, Any]:
    [consent] = sent.of_type(CONSENT_CARD)
    return consent


def carried(consent: dict[str, Any]) -> dict[str, Any]:
    """What the card hands back to the bot: its filename and token, and nothing else."""
    content = consent["content"]
    assert content["acceptContext"] == content["declineContext"]
    data = content["acceptContext"]["mentorbot_file"]
    assert set(data) == {"filename", "token"} and len(data["token"]) >= 40
    return dict(data)


def assert_small_and_clean(connector: BotConnector) -> None:
    for sent in connector.sent:
        assert "CANARY-BIG" not in json.dumps(sent.activity)
        assert len(json.dumps(sent.activity)) < MAX_ACTIVITY_BYTES


async def export_for(
    http: aiohttp.ClientSession, url: str, connector: BotConnector, user: TeamsUser
) -> dict[str, Any]:
    assert await post(http, url, message(connector.url, user, "export-data")) == 200
    return the_consent(connector.sent_to(user.personal_chat)[-1])


async def test_a_large_export_in_teams_arrives_through_file_consent(
    served: Served, connector: BotConnector, now: Now
) -> None:
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    app, url = served.app, served.url
    async with aiohttp.ClientSession() as http:
        assert await post(http, url, message(connector.url, ana, "join mentee")) == 200
        async with app[ENGINE_KEY].db.transaction() as session:
            await session.execute(update(Profile).values(goals=BIG))
        consent = await export_for(http, url, connector, ana)
        name = carried(consent)["filename"]
        assert name.startswith("mentorbot-my-data-") and consent["name"] == name
        assert connector.refused == [] and await rows(app) == []  # it went at once
        [kept] = await offered(app)
        assert "CANARY-BIG" in kept.content
        assert kept.expires_at == START + timedelta(days=7)
        size = consent["content"]["sizeInBytes"]
        assert size == len(kept.content.encode()) > MAX_ACTIVITY_BYTES

        accept = file_consent(connector.url, ana, consent, upload_url=connector.upload_url(name))
        assert accept["value"]["uploadInfo"]["uploadUrl"] == connector.upload_url(name)
        assert await post(http, url, accept) == 200
        uploaded = connector.uploaded.pop(name)  # the double checked its Content-Range
        assert len(uploaded) == size
        assert json.loads(uploaded)["profiles"][0]["goals"] == BIG
        [info] = connector.sent_to(ana.personal_chat)[-1].of_type(FILE_INFO_CARD)
        assert info["name"] == name and info["content"]["fileType"] == "json"
        assert await offered(app) == []  # saved: the copy here is deleted

        assert await post(http, url, accept) == 200  # Allow pressed again
        said = connector.sent_to(ana.personal_chat)[-1].text
        assert "no longer available" in said and "export-data" in said
        assert connector.uploaded == {}
    assert_small_and_clean(connector)


async def test_an_offered_file_is_for_its_person_only_and_only_until_it_expires(
    served: Served, connector: BotConnector, now: Now
) -> None:
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    ben = TeamsUser("Ben Okafor", email="ben@example.com")
    app, url = served.app, served.url
    async with aiohttp.ClientSession() as http:
        for user in (ana, ben):
            assert await post(http, url, message(connector.url, user, "join mentee")) == 200
        async with app[ENGINE_KEY].db.transaction() as session:
            await session.execute(update(Profile).values(goals=BIG))
        consent = await export_for(http, url, connector, ana)
        name = carried(consent)["filename"]

        # Ben answers with Ana's card (its token): nothing is uploaded, nothing deleted.
        stolen = file_consent(connector.url, ben, consent, upload_url=connector.upload_url(name))
        assert await post(http, url, stolen) == 200
        said = connector.sent_to(ben.personal_chat)[-1].text
        assert "offered to someone else" in said and "CANARY" not in said
        declined = file_consent(connector.url, ben, consent, accept=False)
        assert await post(http, url, declined) == 200
        assert connector.uploaded == {} and len(await offered(app)) == 1

        # Ana declines: her file is deleted.
        assert await post(http, url, file_consent(connector.url, ana, consent, accept=False))
        assert "was not saved" in connector.sent_to(ana.personal_chat)[-1].text
        assert await offered(app) == []

        # A new offer, answered after it expired: nothing is uploaded.
        consent = await export_for(http, url, connector, ana)
        now.at += timedelta(days=7, minutes=1)
        late = file_consent(connector.url, ana, consent, upload_url=connector.upload_url(name))
        assert await post(http, url, late) == 200
        said = connector.sent_to(ana.personal_chat)[-1].text
        assert "no longer available: type `export-data`" in said
        assert connector.uploaded == {}
        assert len(await offered(app)) == 1  # until the housekeeping job runs
        await Jobs(app[ENGINE_KEY], app[WORKER_KEY], now).prune()
        assert await offered(app) == []
    assert_small_and_clean(connector)


async def test_a_refused_reply_and_a_queued_message_offer_their_files_when_they_go(
    served: Served, connector: BotConnector, now: Now
) -> None:
    """A reply Teams refuses waits in the outbox; its file is offered anew when the worker
    sends it (the first offer is withdrawn), and so is a queued proactive message's."""
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    app, url = served.app, served.url
    async with aiohttp.ClientSession() as http:
        assert await post(http, url, message(connector.url, ana, "join mentee")) == 200
        connector.storm([403])  # the reply is refused: queued
        assert await post(http, url, message(connector.url, ana, "export-data")) == 200
        assert [r.kind for r in await rows(app)] == ["reply"]
        assert await offered(app) == []  # its offer was withdrawn
        async with app[ENGINE_KEY].db.transaction() as session:
            person = await session.scalar(select(Identity.person_id))
            big = File("notes.txt", "text/plain", BIG)
            await outbox.enqueue(
                session,
                key="notes-1",
                kind="notes",
                payload=to_dict(Message.of(Text("Your notes."), big)),
                now=START,
                person_id=person,
                platform="teams",
            )
        await deliver(app)
        consents = [the_consent(s) for s in connector.sent_to(ana.personal_chat)[-2:]]
        names = sorted(c["name"] for c in consents)
        assert names[0].startswith("mentorbot-my-data-") and names[1] == "notes.txt"
        assert len(await offered(app)) == 2
        for consent in consents:
            name = consent["name"]
            accept = file_consent(
                connector.url, ana, consent, upload_url=connector.upload_url(name)
            )
            assert await post(http, url, accept) == 200
        assert connector.uploaded["notes.txt"] == BIG.encode()
        assert json.loads(connector.uploaded[names[0]])["identities"]
        assert await offered(app) == []
    assert_small_and_clean(connector)


async def test_a_file_teams_still_refuses_is_reported_not_dropped(
    served: Served, connector: BotConnector, now: Now
) -> None:
    """Whatever Teams still refuses as too large (413) goes again without the file, with a
    note saying what did not come and what to try; the offer is withdrawn."""
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    app, url = served.app, served.url
    async with aiohttp.ClientSession() as http:
        assert await post(http, url, message(connector.url, ana, "join mentee")) == 200
    async with app[ENGINE_KEY].db.transaction() as session:
        person = await session.scalar(select(Identity.person_id))
        export = File("mentorbot-my-data-20261123.json", "application/json", '{"a": 1}')
        await outbox.enqueue(
            session,
            key="export-1",
            kind="reply",
            payload=to_dict(Message.of(Text("Here is everything."), export)),
            now=START,
            person_id=person,
            platform="teams",
        )
    connector.storm([413])
    await deliver(app)
    last = connector.sent_to(ana.personal_chat)[-1]
    assert "I couldn't deliver" in last.text and "my-data" in last.text
    assert last.of_type(CONSENT_CARD) == []
    assert await offered(app) == []


async def test_a_message_that_fails_for_good_is_reported_to_its_person(
    served: Served, connector: BotConnector, now: Now
) -> None:
    ana = TeamsUser("Ana Lopez", email="ana@example.com")
    app, url = served.app, served.url
    async with aiohttp.ClientSession() as http:
        assert await post(http, url, message(connector.url, ana, "join mentee")) == 200
    async with app[ENGINE_KEY].db.transaction() as session:
        person = await session.scalar(select(Identity.person_id))
        await outbox.enqueue(
            session,
            key="nudge-1",
            kind="agenda-prompt",
            payload=to_dict(Message.of(Text("CANARY-LOST private words"))),
            now=datetime(2026, 11, 23, 9, tzinfo=UTC),
            person_id=person,
            platform="teams",
        )
    connector.storm([400])  # refused for good
    for _ in range(100):  # the dead row's notice goes out on a later pass
        await app[WORKER_KEY].run_once()
        queued = await rows(app)
        if len(queued) == 3 and all(r.status in ("sent", "dead") for r in queued):
            break
    by_kind = {r.kind: r for r in queued}
    assert by_kind["agenda-prompt"].status == "dead"
    notice = by_kind["undeliverable"]
    assert notice.person_id == by_kind["agenda-prompt"].person_id
    text = from_dict(notice.payload).text
    assert "I couldn't deliver a message (agenda-prompt)" in text and "CANARY" not in text
    said = [s.text for s in connector.sent_to(ana.personal_chat)]
    assert any("I couldn't deliver" in t for t in said)
