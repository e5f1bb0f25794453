"""Slack over real HTTP: signed requests in (as Slack sends them), Web API calls out
(to a local double), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from adapters.slack.listeners import SlackBot
from bot.app import DB_KEY, ENGINE_KEY, SLACK_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from conversations.followthrough.ics import read_fields
from storage import people
from storage.database import Database
from storage.models import Identity, OutboxMessage, Profile
from storage.pairs import create_active_pair
from tests.doubles.slack_api import (
    Signed,
    SlackApi,
    app_home_opened,
    block_actions,
    direct_message,
    sign,
    slash_command,
    view_submission,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Bot:
    url: str
    app: web.Application
    api: SlackApi
    http: aiohttp.ClientSession

    @property
    def slack(self) -> SlackBot:
        return self.app[SLACK_KEY].bot

    async def post(self, signed: Signed, **headers: str) -> tuple[int, str]:
        async with self.http.post(
            self.url + "/slack/events", data=signed.body, headers={**signed.headers, **headers}
        ) as response:
            return response.status, await response.text()

    async def command(self, text: str, **kwargs: Any) -> dict[str, Any]:
        status, body = await self.post(slash_command(SECRET, text, **kwargs))
        assert status == 200, body
        return json.loads(body) if body else {}

    async def count(self, model: type[Any]) -> int:
        async with self.app[DB_KEY].transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def bot(db: Database, db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    """The bot against the Slack double; `db` empties the tables first."""
    api = SlackApi()
    api.add_user("U1", "Alice Doe", tz="Europe/Berlin", email="alice@acme.example")
    api.add_user("U2", "Bob Roe", tz="America/New_York", email="bob@acme.example")
    async with api.serve():
        trailing = getattr(request, "param", True)
        env = {
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.url + "api/" if trailing else api.url + "api",
        }
        settings = load_settings(str(ROOT / "app.yaml"), env=env)
        app = build_app(
            settings, clock=Clock(), scheduler_enabled=False, deliver_in_background=False
        )
        # The answer rides in the ack however loaded the machine; the tests of the budget
        # set their own.
        app[SLACK_KEY].bot.answer_budget = 60.0
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            yield Bot(f"http://127.0.0.1:{port}", app, api, http)
        await runner.cleanup()


@pytest.mark.parametrize("bot", [True, False], indirect=True, ids=["slash", "no-slash"])
async def test_slash_command_answers_in_the_ack_with_block_kit(bot: Bot) -> None:
    """SLACK_API_URL works with and without its trailing slash."""
    reply = await bot.command("join mentee")
    assert reply["response_type"] == "ephemeral"
    assert "joined as a mentee" in reply["text"]
    assert any(b["type"] == "actions" for b in reply["blocks"])
    reply = await bot.command("status")
    assert "Mentee — Active" in reply["text"]
    # users.info once (then cached); auth.test once (bolt's single-workspace authorization)
    assert [c.params["user"] for c in bot.api.called("users.info")] == ["U1"]
    assert len(bot.api.called("auth.test")) == 1
    async with bot.app[DB_KEY].transaction() as session:
        identity = await session.scalar(select(Identity).where(Identity.user_id == "U1"))
        assert identity is not None
        assert (identity.platform, identity.tenant) == ("slack", "T0001")
        assert identity.display_name == "Alice Doe"
        assert identity.timezone == "Europe/Berlin"
        assert identity.email == "alice@acme.example"


async def test_forged_unsigned_and_stale_requests_get_401_and_touch_nothing(bot: Bot) -> None:
    good = slash_command(SECRET, "join mentee")
    forged = slash_command("not-the-secret", "join mentee")
    stale = slash_command(SECRET, "join mentee", timestamp=int(time.time()) - 6 * 60)
    tampered = Signed(good.body.replace("mentee", "mentor"), good.headers)
    unsigned = Signed(good.body, {"Content-Type": "application/x-www-form-urlencoded"})
    for signed in (forged, stale, tampered, unsigned):
        status, _ = await bot.post(signed)
        assert status == 401
    event = app_home_opened("not-the-secret")
    assert (await bot.post(event))[0] == 401
    await bot.slack.settle()
    assert bot.api.calls == []
    assert await bot.count(Identity) == 0
    assert (await bot.post(good))[0] == 200  # the same request, signed properly, works


async def test_button_click_answers_through_response_url(bot: Bot) -> None:
    await bot.command("join mentee")
    status, body = await bot.post(
        block_actions(SECRET, "run#1", "status", response_url=bot.api.response_url("a1"))
    )
    assert status == 200 and body == ""
    await bot.slack.settle()
    [answer] = bot.api.called("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] is False
    assert "Mentee — Active" in answer.params["text"]
    assert answer.params["blocks"][0]["type"] == "header"


async def test_expired_response_url_falls_back_to_a_dm(bot: Bot) -> None:
    bot.api.fail("response_url", status=404)
    await bot.post(block_actions(SECRET, "run#0", "help", response_url=bot.api.response_url()))
    await bot.slack.settle()
    [dm] = bot.api.called("chat.postMessage")
    assert dm.params["channel"] == "DU1"
    assert "mentorbot commands" in dm.params["text"]


async def test_profile_form_opens_a_modal_and_errors_show_inline(bot: Bot) -> None:
    await bot.command("join mentee")
    reply = await bot.command("profile", trigger_id="trigger-123")
    [opened] = bot.api.called("views.open")
    assert opened.params["trigger_id"] == "trigger-123"
    modal = opened.view()
    assert modal["type"] == "modal" and modal["callback_id"] == "form:profile"
    blocks = {b["block_id"] for b in modal["blocks"]}
    assert blocks >= {"wants", "level", "timezone"} and "offers" not in blocks  # a mentee's
    # the ack still says what happened, without the form (it is in the modal)
    assert "Here is your profile" in reply["text"]
    assert all(b["type"] != "input" for b in reply["blocks"])

    status, body = await bot.post(
        view_submission(SECRET, modal, {"level": "eleven", "wants": "public speaking"})
    )
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"level"}
    assert "1" in answer["errors"]["level"] and "10" in answer["errors"]["level"]
    async with bot.app[DB_KEY].transaction() as session:
        profile = await session.scalar(select(Profile))
        assert profile is not None and profile.wants == []  # nothing saved from a bad form

    status, body = await bot.post(
        view_submission(SECRET, modal, {"level": "4", "wants": "public speaking, python"})
    )
    assert status == 200 and body == ""  # the modal closes
    await bot.slack.settle()
    [dm] = bot.api.called("chat.postMessage")
    assert dm.params["channel"] == "DU1" and "Saved" in dm.params["text"]
    async with bot.app[DB_KEY].transaction() as session:
        profile = await session.scalar(select(Profile))
        assert profile is not None
        assert profile.level == 4 and profile.wants == ["public speaking", "python"]


async def test_a_failed_views_open_keeps_the_form_in_the_message(bot: Bot) -> None:
    bot.api.fail("views.open", error="expired_trigger_id")
    reply = await bot.command("profile")
    assert len(bot.api.called("views.open")) == 1
    texts = json.dumps(reply["blocks"])
    assert "Your mentoring profile" in texts and "profile set" in reply["text"]


async def test_app_home_is_published_once_per_event_id(bot: Bot) -> None:
    await bot.command("join mentor")
    status, _ = await bot.post(app_home_opened(SECRET, "U1", event_id="EvHOME1"))
    assert status == 200
    await bot.slack.settle()
    status, _ = await bot.post(
        app_home_opened(SECRET, "U1", event_id="EvHOME1"),
        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert status == 200
    await bot.slack.settle()
    [published] = bot.api.called("views.publish")
    assert published.params["user_id"] == "U1"
    view = published.view()
    assert view["type"] == "home"
    text = json.dumps(view)
    assert "Your pairs" in text and "Next meetings" in text
    assert any(b["type"] == "actions" for b in view["blocks"])


async def test_a_click_on_the_home_tab_answers_by_dm_and_refreshes_the_tab(bot: Bot) -> None:
    await bot.command("join mentee")
    await bot.post(block_actions(SECRET, "run#3", "pause", view={"id": "VHOME", "type": "home"}))
    await bot.slack.settle()
    [dm] = bot.api.called("chat.postMessage")
    assert "paus" in dm.params["text"].lower()
    [home] = bot.api.called("views.publish")
    assert "Resume" in json.dumps(home.view())


async def test_direct_messages_are_commands_and_retries_are_ignored(bot: Bot) -> None:
    await bot.post(direct_message(SECRET, "join both", event_id="EvDM1"))
    await bot.slack.settle()
    await bot.post(
        direct_message(SECRET, "join both", event_id="EvDM1"), **{"X-Slack-Retry-Num": "2"}
    )
    await bot.slack.settle()
    [reply] = bot.api.called("chat.postMessage")
    assert reply.params["channel"] == "D0U1"
    assert "both a mentee and a mentor" in reply.params["text"]


async def test_a_slow_turn_is_acked_at_once_and_answered_later(bot: Bot) -> None:
    bot.slack.answer_budget = 0.0  # as if the database were slow: ack before the answer
    reply = await bot.command("status", response_url=bot.api.response_url("slow"))
    assert reply["text"] == "One moment…"
    await bot.slack.settle()
    [answer] = bot.api.called("response_url")
    assert "haven't joined" in answer.params["text"]


async def test_mentions_resolve_to_slack_accounts(bot: Bot) -> None:
    reply = await bot.command("profile set manager=<@U2|bob>")
    assert "Saved" in reply["text"]
    async with bot.app[DB_KEY].transaction() as session:
        bob = await session.scalar(select(Identity).where(Identity.user_id == "U2"))
        assert bob is not None and bob.platform == "slack" and bob.tenant == "T0001"


async def test_the_same_email_links_a_slack_account_to_an_existing_person(bot: Bot) -> None:
    async with bot.app[DB_KEY].transaction() as session:
        teams = await people.upsert_identity(
            session,
            people.IdentityKey("teams", "tenant-1", "aad-alice"),
            display_name="Alice (Teams)",
            email="Alice@Acme.example",
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
    await bot.command("status")
    async with bot.app[DB_KEY].transaction() as session:
        slack = await session.scalar(select(Identity).where(Identity.platform == "slack"))
        assert slack is not None and slack.person_id == teams.person_id


async def test_a_proactive_message_from_the_sweep_arrives_as_a_slack_dm(bot: Bot) -> None:
    await bot.command("join mentee")
    reply = await bot.command("pause until 2026-11-30")
    assert "30" in reply["text"]
    later = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    items = await bot.app[ENGINE_KEY].sweep(later)
    assert items and items[0].queued
    worker = bot.app[WORKER_KEY]
    worker.clock = lambda: later
    await worker.run_once()
    [dm] = bot.api.called("chat.postMessage")
    assert dm.params["channel"] == "DU1"
    assert [c.params["users"] for c in bot.api.called("conversations.open")] == ["U1"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_locked_database_does_not_hold_up_the_ack(bot: Bot, db_url: str) -> None:
    """Another writer holds SQLite's write lock: the command is still acked (at the
    budget), and the real answer follows through response_url once the lock is gone."""
    bot.slack.answer_budget = 0.3
    path = db_url.removeprefix("sqlite:///")
    # In a thread: waiting for the lock must not block the event loop the bot runs on.
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    await asyncio.to_thread(blocker.execute, "BEGIN IMMEDIATE")
    try:
        reply = await bot.command("join mentee", response_url=bot.api.response_url("locked"))
        assert reply["text"] == "One moment…"
        assert bot.api.called("response_url") == []  # nothing could be written yet
    finally:
        await asyncio.to_thread(blocker.execute, "ROLLBACK")
        blocker.close()
    await bot.slack.settle()
    [answer] = bot.api.called("response_url")
    assert "joined as a mentee" in answer.params["text"]


async def test_a_failing_users_info_does_not_stop_the_command(bot: Bot) -> None:
    bot.api.fail("users.info", status=429, retry_after=30)
    reply = await bot.command("join mentee", user_id="U9", user_name="carol")
    assert "joined as a mentee" in reply["text"]
    await bot.command("status", user_id="U9", user_name="carol")
    assert len(bot.api.called("users.info")) == 1  # not asked again right after a refusal
    async with bot.app[DB_KEY].transaction() as session:
        carol = await session.scalar(select(Identity).where(Identity.user_id == "U9"))
        assert carol is not None and carol.display_name == "carol"  # the payload's name


async def test_the_events_url_verification_challenge_is_answered(bot: Bot) -> None:
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY", "type": "url_verification"}
    )
    status, answer = await bot.post(
        Signed(body, {"Content-Type": "application/json", **sign(SECRET, body)})
    )
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY" in answer
    assert bot.api.calls == []


async def _active_pair(bot: Bot, mentee: str, mentor: str) -> None:
    """An active pair of two Slack users who joined, as matching would make it."""
    async with bot.app[DB_KEY].transaction() as session:
        ids = []
        for user in (mentee, mentor):
            key = people.IdentityKey("slack", "T0001", user)
            identity = await people.find_identity(session, key)
            assert identity is not None
            ids.append(identity.person_id)
        program_id = bot.app[ENGINE_KEY].program_id
        assert program_id is not None
        await create_active_pair(
            session,
            program_id=program_id,
            mentee_id=ids[0],
            mentor_id=ids[1],
            now=Clock().now,
        )


async def _deliver_queued(bot: Bot) -> None:
    worker = bot.app[WORKER_KEY]
    worker.clock = Clock()
    await worker.run_once()


async def test_scheduling_uploads_the_ics_invite_to_both_people(bot: Bot) -> None:
    """The slash command's answer is ephemeral (no file can ride in it): the invite is
    uploaded into the DM with files.uploadV2; the partner's confirmation goes out as a DM
    from the outbox, with the same invite uploaded after it."""
    await bot.command("join mentee")
    await bot.command("join mentor", user_id="U2", user_name="bob")
    await _active_pair(bot, "U1", "U2")
    reply = await bot.command("schedule 2026-12-03 15:00", response_url=bot.api.response_url())
    assert "You scheduled a meeting with Bob Roe" in reply["text"]
    lines = [e["text"] for b in reply["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert any("mentoring.ics" in line and "calendar invite" in line for line in lines)
    await bot.slack.settle()
    [mine] = bot.api.uploads()
    assert (mine.channel, mine.filename) == ("DU1", "mentoring.ics")
    fields = read_fields(mine.content.decode())
    assert fields["DTSTART"] == "20261203T140000Z"  # 15:00 in Berlin
    assert fields["METHOD"] == "REQUEST"
    [ticket] = bot.api.called("files.getUploadURLExternal")
    assert int(ticket.params["length"]) == len(mine.content)

    await _deliver_queued(bot)
    [dm] = [c for c in bot.api.delivered() if c.params["channel"] == "DU2"]
    assert "Alice Doe scheduled a meeting with you" in dm.params["text"]
    mine_again, theirs = bot.api.uploads()
    assert mine_again == mine
    assert (theirs.channel, theirs.filename) == ("DU2", "mentoring.ics")
    assert theirs.content == mine.content  # one event, the same UID for both calendars
    # The upload follows its message in the DM.
    to_bob = [
        c.method
        for c in bot.api.calls
        if "DU2" in (c.params.get("channel"), c.params.get("channel_id"))
    ]
    assert to_bob == ["chat.postMessage", "files.completeUploadExternal"]


async def test_a_failed_upload_loses_neither_message(bot: Bot) -> None:
    await bot.command("join mentee")
    await bot.command("join mentor", user_id="U2", user_name="bob")
    await _active_pair(bot, "U1", "U2")
    bot.api.fail("upload", status=500, times=10)
    reply = await bot.command("schedule 2026-12-03 15:00", response_url=bot.api.response_url())
    assert "You scheduled a meeting with Bob Roe" in reply["text"]
    await bot.slack.settle()
    await _deliver_queued(bot)
    assert bot.api.uploads() == []
    assert bot.api.called("upload")  # it was tried
    [dm] = [c for c in bot.api.delivered() if c.params["channel"] == "DU2"]
    assert "scheduled a meeting with you" in dm.params["text"]
    async with bot.app[DB_KEY].transaction() as session:
        [row] = await session.scalars(select(OutboxMessage))
        assert row.status == "sent"  # delivered once, not retried (that would post it twice)


async def test_a_typed_dm_gets_the_invite_in_that_dm(bot: Bot) -> None:
    await bot.command("join mentee")
    await bot.command("join mentor", user_id="U2", user_name="bob")
    await _active_pair(bot, "U1", "U2")
    status, _ = await bot.post(direct_message(SECRET, "schedule 2026-12-03 15:00"))
    assert status == 200
    await bot.slack.settle()
    [mine] = bot.api.uploads()
    assert (mine.channel, mine.filename) == ("D0U1", "mentoring.ics")
    posted = [c.method for c in bot.api.calls if c.params.get("channel") == "D0U1"]
    assert posted == ["chat.postMessage"]  # the answer, in the DM it was typed in
