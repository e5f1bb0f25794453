"""The Teams adapter over real HTTP: activities shaped as Teams sends them are posted to
/api/messages; what the bot sends comes out at a local double of the Bot Framework
connector (tests/doubles/bot_connector.py)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.teams.files import CONSENT_CARD, FILE_INFO_CARD
from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from conversations.events import Actor, Command, InboundEvent
from conversations.followthrough.ics import read_fields
from conversations.messages import File, Message, Text, to_dict
from storage import outbox
from storage.database import Database
from storage.models import Identity, OutboxMessage
from storage.pairs import create_active_pair
from tests.doubles.bot_connector import (
    BOT_ID,
    CHANNEL_ID,
    TENANT,
    BotConnector,
    TeamsUser,
    added_to_chat,
    file_consent,
    installed,
    message,
    post,
    submit,
)
from tests.harness import VirtualClock

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def serve(db_url: str, env: dict[str, str], clock: Clock) -> tuple[web.AppRunner, str]:
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url, **env})
    assert settings.teams is not None
    teams = dataclasses.replace(settings.teams, retry_base_seconds=0.001, pace_seconds=0)
    app = build_app(  # the tests drive delivery themselves, on their own clock
        dataclasses.replace(settings, teams=teams),
        clock=clock,
        scheduler_enabled=False,
        deliver_in_background=False,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(
    db: Database, db_url: str, clock: Clock
) -> AsyncIterator[tuple[str, web.Application]]:
    """The bot without an app id (local development): no tokens either way. (Taking `db`
    gives each test empty tables.)"""
    runner, url = await serve(db_url, {}, clock)
    yield url, runner.app
    await runner.cleanup()


ana = TeamsUser("Ana Lopez", email="ana@example.com")


async def test_commands_in_a_personal_chat(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, _ = bot
    async with aiohttp.ClientSession() as session:
        for text in ("mentor join mentee", "/mentor status", "status"):
            assert await post(session, url, message(connector.url, ana, text)) == 200
    texts = [s.text for s in connector.sent_to(ana.personal_chat)]
    assert len(texts) == 3
    assert "joined as a mentee" in texts[0]
    assert "Mentee — Active" in texts[1] and "Mentee — Active" in texts[2]


async def identities(app: web.Application) -> list[Identity]:
    async with app[ENGINE_KEY].db.transaction() as session:
        return list(await session.scalars(select(Identity).order_by(Identity.id)))


async def outbox_rows(app: web.Application) -> list[OutboxMessage]:
    async with app[ENGINE_KEY].db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def deliver_until(app: web.Application, done: Callable[[], Awaitable[bool]]) -> None:
    """Run delivery passes until `done()`."""
    for _ in range(100):
        await app[WORKER_KEY].run_once()
        if await done():
            return
    raise AssertionError("delivery did not settle")


async def all_sent(app: web.Application) -> bool:
    return all(r.status == "sent" for r in await outbox_rows(app))


async def test_replies_thread_to_the_message_without_a_token_in_local_mode(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, app = bot
    async with aiohttp.ClientSession() as session:
        assert await post(session, url, message(connector.url, ana, "help")) == 200
    [reply] = connector.sent
    assert reply.authorization is None  # no app id: the Emulator's anonymous mode
    assert reply.activity["replyToId"] and reply.activity["from"]["id"] == BOT_ID
    assert reply.card is not None and "mentorbot commands" in reply.text
    [identity] = await identities(app)
    assert (identity.platform, identity.tenant, identity.user_id) == ("teams", TENANT, ana.aad)
    assert identity.timezone == "Europe/Berlin" and identity.display_name == "Ana Lopez"


async def test_in_a_channel_the_bot_mention_is_stripped_and_people_are_resolved(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, app = bot
    bo = TeamsUser("Bo Chen", email="bo@example.com")
    connector.add_member(ana)
    connector.add_member(bo)
    async with aiohttp.ClientSession() as session:
        assert (
            await post(session, url, message(connector.url, ana, "join mentee", channel=True))
            == 200
        )
        activity = message(
            connector.url, ana, "profile set manager=<at>Bo Chen</at>", channel=True, mention=[bo]
        )
        assert await post(session, url, activity) == 200
        assert await post(session, url, message(connector.url, ana, "status", channel=True)) == 200
    joined, saved, status = connector.sent
    assert "joined as a mentee" in joined.text
    assert saved.conversation.startswith(CHANNEL_ID)
    assert "Manager: Bo Chen" in saved.text
    assert "Bo Chen" in status.text
    found = {i.user_id: i for i in await identities(app)}
    assert set(found) == {ana.aad, bo.aad}  # the mention became Bo's aadObjectId
    assert found[ana.aad].email == "ana@example.com"  # from the roster
    assert found[ana.aad].person_id != found[bo.aad].person_id


async def test_buttons_and_forms_on_cards(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, _ = bot
    async with aiohttp.ClientSession() as session:
        await post(session, url, message(connector.url, ana, "join mentee"))
        joined = connector.sent[-1]
        await post(session, url, submit(connector.url, ana, joined.submit_data("My status")))
        assert "Mentee — Active" in connector.sent[-1].text
        await post(session, url, message(connector.url, ana, "profile"))
        form = connector.sent[-1]
        data = form.submit_data("Save")
        typed = {"offers": "python, public speaking", "level": "eleven", "goals": "Speak up"}
        await post(session, url, submit(connector.url, ana, {**data, **typed}))
        again = connector.sent[-1]
        assert "need another look" in again.text
        inputs = {i["id"]: i for i in walk_inputs(again.card)}
        assert inputs["level"]["value"] == "eleven" and inputs["offers"]["value"] == typed["offers"]
        assert inputs["goals"]["value"] == "Speak up"
        await post(session, url, submit(connector.url, ana, {**data, **typed, "level": "4"}))
        assert "Saved" in connector.sent[-1].text and "Level (1–10): 4" in connector.sent[-1].text
        # A submission from a card that is not ours is ignored, not answered with an error.
        before = len(connector.sent)
        assert await post(session, url, submit(connector.url, ana, {"other": "x"})) == 200
        assert len(connector.sent) == before


def walk_inputs(node: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input."):
            found.append(node)
        for value in node.values():
            found.extend(walk_inputs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(walk_inputs(item))
    return found


async def test_a_personal_chat_greets_and_proactive_dms_arrive(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    async with aiohttp.ClientSession() as session:
        assert await post(session, url, added_to_chat(connector.url, ana)) == 200
        assert "mentoring bot" in connector.sent[-1].text
        await post(session, url, message(connector.url, ana, "join mentee"))
        await post(session, url, message(connector.url, ana, "pause until tomorrow"))
    clock.now += timedelta(days=2)
    assert [i.kind for i in await app[ENGINE_KEY].sweep(clock.now)] == ["pause-ended"]
    await deliver_until(app, lambda: all_sent(app))
    dm = connector.sent[-1]
    assert dm.conversation == ana.personal_chat and "pause is over" in dm.text
    assert "replyToId" not in dm.activity or not dm.activity["replyToId"]
    assert [(r.kind, r.status) for r in await outbox_rows(app)] == [("pause-ended", "sent")]


async def test_someone_seen_only_in_a_channel_gets_a_new_personal_chat(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    connector.add_member(ana)
    async with aiohttp.ClientSession() as session:
        await post(session, url, message(connector.url, ana, "join mentee", channel=True))
        await post(session, url, message(connector.url, ana, "pause until tomorrow", channel=True))
    clock.now += timedelta(days=2)
    await app[ENGINE_KEY].sweep(clock.now)
    await deliver_until(app, lambda: all_sent(app))
    [created] = connector.created
    assert created["members"][0]["id"] == ana.id and created["isGroup"] is False
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    assert "pause is over" in connector.sent_to(ana.personal_chat)[0].text


async def test_messages_wait_until_the_person_installs_the_app(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    bo = TeamsUser("Bo Chen")
    connector.add_member(bo)
    async with aiohttp.ClientSession() as session:
        activity = message(connector.url, ana, "profile set manager=<at>Bo Chen</at>", mention=[bo])
        await post(session, url, activity)
        bo_identity = next(i for i in await identities(app) if i.user_id == bo.aad)
        async with app[ENGINE_KEY].db.transaction() as s:
            note = Message("Ana named you as her manager.")
            await outbox.enqueue(
                s,
                key="note-for-bo",
                kind="note",
                payload=to_dict(note),
                now=clock.now,
                person_id=bo_identity.person_id,
                platform="teams",
            )

        async def waiting() -> bool:
            [row] = await outbox_rows(app)
            return row.status == "pending" and "not talked" in (row.last_error or "")

        await deliver_until(app, waiting)
        [row] = await outbox_rows(app)
        assert row.attempts == 0 and row.next_attempt_at > clock.now  # kept, not used up
        assert connector.sent_to(bo.personal_chat) == []
        assert await post(session, url, installed(connector.url, bo)) == 200
    # The install made Bo's rows due now (the clock has not moved).
    await deliver_until(app, lambda: all_sent(app))
    assert [s.text for s in connector.sent_to(bo.personal_chat)] == [note.text]
    [row] = await outbox_rows(app)
    assert row.status == "sent"


async def test_a_429_storm_delivers_every_message_exactly_once(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    people = [TeamsUser(f"Person {n}") for n in range(4)]
    async with aiohttp.ClientSession() as session:
        for person in people:
            await post(session, url, message(connector.url, person, "join mentor"))
    assert len(connector.sent) == 4
    by_aad = {i.user_id: i.person_id for i in await identities(app)}
    texts = []
    async with app[ENGINE_KEY].db.transaction() as s:
        for n in range(24):
            person = people[n % 4]
            text = f"Digest line {n} for {person.name}"
            texts.append(text)
            await outbox.enqueue(
                s,
                key=f"storm-{n}",
                kind="note",
                payload=to_dict(Message(text)),
                now=clock.now,
                person_id=by_aad[person.aad],
                platform="teams",
            )
    connector.storm([429] * 30 + [412, 502, 504, 429, 429, 503] * 3, retry_after=2)
    worker = app[WORKER_KEY]
    # Retry-After pacing takes no real time, and a send no virtual time.
    worker.clock = virtual = VirtualClock(clock.now, busy=lambda: worker.sending)
    await worker.run_once()
    waiting = [r for r in await outbox_rows(app) if r.status == "pending" and r.last_error]
    assert waiting and all("429" in (r.last_error or "") for r in waiting)
    assert all(r.next_attempt_at >= clock.now + timedelta(seconds=2) for r in waiting)
    for _ in range(40):
        virtual.advance(hours=1)
        await worker.run_once()
        if all(r.status == "sent" for r in await outbox_rows(app)):
            break
    rows = await outbox_rows(app)
    assert all(r.status == "sent" for r in rows), [(r.status, r.last_error) for r in rows]
    delivered = [s.text for s in connector.sent[4:]]
    assert sorted(delivered) == sorted(texts)  # every message, once
    assert connector.attempts == 4 + 24 + 48  # each refusal was retried, nothing skipped
    for person in people:  # and each reached its own person's chat
        assert all(person.name in s.text for s in connector.sent_to(person.personal_chat)[1:])


async def test_bad_requests_are_400_never_500(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, _ = bot
    async with aiohttp.ClientSession() as session:
        for body in (
            b"{not json",
            b"[]",
            b'{"text": "no type"}',
            b'"x"',
            b'{"type": ["message"]}',
            b'{"type": "message", "from": "x"}',
            b'{"type": "message", "timestamp": "yesterday"}',
        ):
            async with session.post(
                url + "/api/messages", data=body, headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 400
    assert connector.sent == []


async def test_a_teams_account_and_a_local_account_with_one_email_are_one_person(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    engine = app[ENGINE_KEY]
    local = Actor("local", "ana", "Ana", email="Ana@Example.com")
    replies = await engine.handle(
        InboundEvent(local, Command("join mentee"), {"user": "ana"}), clock.now
    )
    assert "joined as a mentee" in replies[0].text
    connector.add_member(ana)  # the roster gives ana@example.com
    stranger = TeamsUser("Ana Lopez")  # same name, no e-mail in the roster: someone else
    async with aiohttp.ClientSession() as session:
        await post(session, url, message(connector.url, ana, "status"))
        await post(session, url, message(connector.url, stranger, "status"))
    assert "Mentee — Active" in connector.sent_to(ana.personal_chat)[0].text
    assert "haven't joined" in connector.sent_to(stranger.personal_chat)[0].text
    by_user = {(i.platform, i.user_id): i for i in await identities(app)}
    assert by_user[("teams", ana.aad)].person_id == by_user[("local", "ana")].person_id
    assert by_user[("teams", stranger.aad)].person_id != by_user[("local", "ana")].person_id


async def test_a_reply_teams_will_not_take_waits_in_the_outbox(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    connector.storm([502, 504, 502])  # every in-place attempt at the reply fails
    async with aiohttp.ClientSession() as session:
        assert await post(session, url, message(connector.url, ana, "join mentee")) == 200
    [row] = await outbox_rows(app)
    assert row.kind == "reply" and row.status == "pending"  # queued, not sent yet
    assert connector.sent == []
    await deliver_until(app, lambda: all_sent(app))
    [reply] = connector.sent
    assert reply.conversation == ana.personal_chat and "joined as a mentee" in reply.text
    assert [r.status for r in await outbox_rows(app)] == ["sent"]


async def test_without_an_app_id_the_bot_warns_loudly_and_ignores_what_is_not_for_it(
    db: Database,
    db_url: str,
    clock: Clock,
    connector: BotConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner, url = await serve(db_url, {}, clock)
    try:
        assert any("UNAUTHENTICATED" in r.getMessage() for r in caplog.records)
        async with aiohttp.ClientSession() as session:
            typing = {**message(connector.url, ana, ""), "type": "typing"}
            invoke = {**message(connector.url, ana, ""), "type": "invoke", "name": "x"}
            removed = {**installed(connector.url, ana), "action": "remove"}
            for activity in (typing, invoke, removed):
                assert await post(session, url, activity) == 200
        assert connector.sent == [] and await identities(runner.app) == []
    finally:
        await runner.cleanup()


async def test_a_person_named_in_teams_is_the_same_person_as_their_other_account(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    url, app = bot
    engine = app[ENGINE_KEY]
    bo_local = Actor("local", "bo", "Bo", email="bo@example.com")
    await engine.handle(InboundEvent(bo_local, Command("join mentor"), {"user": "bo"}), clock.now)
    bo = TeamsUser("Bo Chen", email="bo@example.com")
    connector.add_member(bo)
    async with aiohttp.ClientSession() as session:
        activity = message(connector.url, ana, "profile set manager=<at>Bo Chen</at>", mention=[bo])
        await post(session, url, activity)
    assert "Manager: Bo" in connector.sent[-1].text
    by_user = {(i.platform, i.user_id): i for i in await identities(app)}
    assert by_user[("teams", bo.aad)].person_id == by_user[("local", "bo")].person_id


ben = TeamsUser("Ben Okafor", email="ben@example.com")


async def _pair_ana_with_ben(app: web.Application) -> None:
    async with app[ENGINE_KEY].db.transaction() as session:
        ids = {i.display_name: i.person_id for i in await session.scalars(select(Identity))}
        program_id = app[ENGINE_KEY].program_id
        assert program_id is not None
        await create_active_pair(
            session,
            program_id=program_id,
            mentee_id=ids["Ana Lopez"],
            mentor_id=ids["Ben Okafor"],
            now=Clock().now,
        )


async def test_scheduling_offers_the_ics_invite_to_both_and_uploads_it_on_allow(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    """Teams takes no .ics attachment (only images go inline): each confirmation carries a
    file consent card holding the invite; Allow uploads it to OneDrive and shows it."""
    url, app = bot
    async with aiohttp.ClientSession() as session:
        assert await post(session, url, message(connector.url, ana, "join mentee")) == 200
        assert await post(session, url, message(connector.url, ben, "join mentor")) == 200
        await _pair_ana_with_ben(app)
        assert await post(session, url, message(connector.url, ana, "schedule 2026-12-03 15:00"))
        mine = connector.sent_to(ana.personal_chat)[-1]
        assert "You scheduled a meeting with Ben Okafor" in mine.text
        assert connector.refused == []
        [consent] = mine.of_type(CONSENT_CARD)
        assert consent["name"] == "mentoring.ics"
        card_text = json.dumps(mine.card)
        assert "mentoring.ics" in card_text and "Allow" in card_text

        await deliver_until(app, lambda: all_sent(app))
        theirs = connector.sent_to(ben.personal_chat)[-1]
        assert "Ana Lopez scheduled a meeting with you" in theirs.text
        [their_consent] = theirs.of_type(CONSENT_CARD)
        # The same event for both, each offered under their own token.
        for same in ("description", "sizeInBytes"):
            assert their_consent["content"][same] == consent["content"][same]
        assert their_consent["content"]["acceptContext"] != consent["content"]["acceptContext"]

        invoke = file_consent(
            connector.url, ben, their_consent, upload_url=connector.upload_url("mentoring.ics")
        )
        assert await post(session, url, invoke) == 200
    uploaded = connector.uploaded["mentoring.ics"]
    fields = read_fields(uploaded.decode())
    assert fields["DTSTART"] == "20261203T140000Z"  # 15:00 in Berlin, where Ana is
    assert consent["content"]["sizeInBytes"] == len(uploaded)
    shown = connector.sent_to(ben.personal_chat)[-1]
    [info] = shown.of_type(FILE_INFO_CARD)
    assert info["name"] == "mentoring.ics" and info["content"]["fileType"] == "ics"


async def test_a_declined_or_failed_upload_is_answered_and_a_channel_reply_has_no_consent_card(
    bot: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, app = bot
    async with aiohttp.ClientSession() as session:
        await post(session, url, message(connector.url, ana, "join mentee"))
        await post(session, url, message(connector.url, ben, "join mentor"))
        await _pair_ana_with_ben(app)
        await post(session, url, message(connector.url, ana, "schedule 2026-12-03 15:00"))
        [consent] = connector.sent_to(ana.personal_chat)[-1].of_type(CONSENT_CARD)
        nowhere = file_consent(
            connector.url, ana, consent, upload_url="http://127.0.0.1:9/onedrive/x"
        )
        assert await post(session, url, nowhere) == 200
        assert "could not save mentoring.ics" in connector.sent_to(ana.personal_chat)[-1].text
        declined = file_consent(connector.url, ana, consent, accept=False)
        assert await post(session, url, declined) == 200
        assert "was not saved" in connector.sent_to(ana.personal_chat)[-1].text
        assert await post(session, url, nowhere) == 200  # declined: the file is gone
        assert "no longer available" in connector.sent_to(ana.personal_chat)[-1].text
        assert connector.uploaded == {}

        await post(
            session, url, message(connector.url, ana, "schedule 2026-12-04 10:00", channel=True)
        )
    in_channel = [s for s in connector.sent if s.conversation.startswith(CHANNEL_ID)][-1]
    assert "moved the meeting" in in_channel.text
    assert in_channel.of_type(CONSENT_CARD) == []
    assert "personal chat" in json.dumps(in_channel.card)
    assert connector.refused == []


async def test_a_refused_consent_card_is_dropped_not_the_message(
    bot: tuple[str, web.Application], connector: BotConnector, clock: Clock
) -> None:
    """If Teams will not take the file consent card (a 400), the words still arrive."""
    url, app = bot
    async with aiohttp.ClientSession() as session:
        await post(session, url, message(connector.url, ana, "join mentee"))
    [identity] = await identities(app)
    invite = File("mentoring.ics", "text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    note = Message("Your meeting is on Thu 3 Dec, 15:00.", (Text("Your meeting."), invite))
    async with app[ENGINE_KEY].db.transaction() as s:
        await outbox.enqueue(
            s,
            key="invite-1",
            kind="meeting-scheduled",
            payload=to_dict(note),
            now=clock.now,
            person_id=identity.person_id,
            platform="teams",
        )
    connector.storm([400])
    await deliver_until(app, lambda: all_sent(app))
    last = connector.sent_to(ana.personal_chat)[-1]
    assert last.text == note.text
    assert last.of_type(CONSENT_CARD) == []
    assert connector.attempts == 1 + 2  # the greeting reply, the refused send, the resend
