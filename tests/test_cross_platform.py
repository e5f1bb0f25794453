"""A Slack–Teams pair through ONE bot (issue 7): a mentee on Slack and a mentor on
Teams talk to the same app over real HTTP (signed slash commands; Teams activities
with a valid channel token), the production delivery worker sends each of them the
follow-through messages on their own platform, and a person with accounts on both
platforms (same e-mail) is one person. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import ENGINE_KEY, SLACK_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from conversations.engine import Engine
from conversations.followthrough.agreement import begin_agreement
from storage import people
from storage.database import Database
from storage.models import Identity, OutboxMessage, Program
from storage.pairs import create_active_pair
from tests.doubles.bot_connector import (
    TENANT,
    BotConnector,
    TeamsUser,
    message,
    post,
    submit,
)
from tests.doubles.slack_api import TEAM_ID, Call, SlackApi, block_actions, slash_command

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MIA = "U1"  # the mentee, on Slack, in Berlin
theo = TeamsUser("Theo Grant", email="theo@acme.example")  # the mentor, on Teams, in New York


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Mon

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    url: str
    app: web.Application
    slack: SlackApi
    teams: BotConnector
    http: aiohttp.ClientSession
    clock: Clock

    @property
    def engine(self) -> Engine:
        return self.app[ENGINE_KEY]

    async def slash(self, user_id: str, text: str) -> str:
        """A signed /mentor command from a Slack user; the text of the bot's answer."""
        signed = slash_command(SECRET, text, user_id=user_id)
        async with self.http.post(
            self.url + "/slack/events", data=signed.body, headers=signed.headers
        ) as response:
            body = await response.text()
            assert response.status == 200, body
        return str(json.loads(body)["text"]) if body else ""

    async def teams_says(self, user: TeamsUser, text: str, zone: str) -> str:
        """A message in the user's 1:1 Teams chat, with a valid channel token; the
        text of the bot's answer there."""
        before = len(self.teams.sent_to(user.personal_chat))
        activity = message(self.teams.url, user, text)
        activity["localTimezone"] = zone
        for entity in activity["entities"]:
            if entity["type"] == "clientInfo":
                entity["timezone"] = zone
        assert await post(self.http, self.url, activity, token=self.teams.sign()) == 200
        answers = self.teams.sent_to(user.personal_chat)[before:]
        assert len(answers) == 1, [a.text for a in answers]
        return answers[0].text

    async def click(self, user_id: str, posted: Call, label: str) -> str:
        """A Slack user presses the button labelled `label` on a message the bot posted;
        the text of the answer the bot sends to the click's response_url."""
        [button] = [
            e
            for block in posted.blocks()
            for e in block.get("elements", ())
            if e.get("type") == "button" and e["text"]["text"] == label
        ]
        signed = block_actions(
            SECRET,
            button["action_id"],
            button["value"],
            user_id=user_id,
            response_url=self.slack.response_url("click"),
        )
        before = len(self.slack.called("response_url"))
        async with self.http.post(
            self.url + "/slack/events", data=signed.body, headers=signed.headers
        ) as response:
            assert response.status == 200
        await self.app[SLACK_KEY].bot.settle()
        [answer] = self.slack.called("response_url")[before:]
        return str(answer.params["text"])

    async def teams_submits(self, user: TeamsUser, data: dict[str, Any]) -> str:
        """A Teams user presses an Action.Submit; the text of the bot's answer."""
        before = len(self.teams.sent_to(user.personal_chat))
        activity = submit(self.teams.url, user, data)
        assert await post(self.http, self.url, activity, token=self.teams.sign()) == 200
        [answer] = self.teams.sent_to(user.personal_chat)[before:]
        return answer.text

    async def person(self, platform: str, tenant: str, user_id: str) -> int:
        async with self.engine.db.transaction() as session:
            key = people.IdentityKey(platform, tenant, user_id)
            identity = await people.find_identity(session, key)
            assert identity is not None
            return identity.person_id

    async def deliver(self) -> None:
        """Delivery passes until the outbox is drained."""
        for _ in range(200):
            await self.app[WORKER_KEY].run_once()
            async with self.engine.db.transaction() as session:
                statuses = set(await session.scalars(select(OutboxMessage.status)))
            if statuses <= {"sent"}:
                return
            assert "dead" not in statuses
        raise AssertionError("delivery did not settle")

    def slack_dms(self, user_id: str) -> list[str]:
        """Texts posted to the DM channel the bot opened with a Slack user."""
        opened = [c for c in self.slack.called("conversations.open") if c.status == 200]
        assert any(c.params.get("users") == user_id for c in opened)
        channel = "D" + user_id  # the double's channel for that DM
        return [
            str(c.params.get("text", ""))
            for c in self.slack.delivered()
            if c.params.get("channel") == channel
        ]


@pytest.fixture
async def world(db: Database, db_url: str) -> AsyncIterator[World]:
    """The bot with both Slack and Teams configured against their doubles, on loopback.
    (Taking `db` gives each test empty tables.)"""
    slack = SlackApi()
    slack.add_user(MIA, "Mia Park", tz="Europe/Berlin", email="mia@acme.example")
    slack.add_user("U2", "Rae Lin", tz="Asia/Tokyo", email="Rae@Acme.example")
    teams = BotConnector()
    await teams.start()
    teams.add_member(theo)
    clock = Clock()
    async with slack.serve():
        env = {
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url + "api/",
            **teams.env(),
        }
        settings = load_settings(str(ROOT / "app.yaml"), env=env)
        assert settings.slack is not None and settings.teams is not None
        assert settings.teams.authenticated and not settings.local_chat
        fast = dataclasses.replace(settings.teams, retry_base_seconds=0.001, pace_seconds=0)
        app = build_app(
            dataclasses.replace(settings, teams=fast),
            clock=clock,
            scheduler_enabled=False,
            deliver_in_background=False,
        )
        app[SLACK_KEY].bot.answer_budget = 60.0  # the answer rides in the ack, under any load
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{runner.addresses[0][1]}"
                yield World(url, app, slack, teams, http, clock)
        finally:
            await runner.cleanup()
            await teams.stop()


async def pair_up(world: World) -> int:
    """Mia (Slack) and Theo (Teams) join on their platforms; then an active pair is made
    the way matching activates one, and the agreement begins."""
    assert "joined as a mentee" in await world.slash(MIA, "join mentee")
    assert "Saved" in await world.slash(MIA, 'profile set goals="Lead my first team"')
    assert "joined as a mentor" in await world.teams_says(theo, "join mentor", "America/New_York")
    mentee = await world.person("slack", TEAM_ID, MIA)
    mentor = await world.person("teams", TENANT, theo.aad)
    assert mentee != mentor
    now = world.clock.now
    async with world.engine.db.transaction() as session:
        program = await session.get(Program, world.engine.program_id)
        assert program is not None
        pair = await create_active_pair(
            session, program_id=program.id, mentee_id=mentee, mentor_id=mentor, now=now
        )
        await begin_agreement(session, world.engine.policy, program, pair, now)
        return pair.id


async def test_a_slack_mentee_and_a_teams_mentor_each_get_their_messages_on_their_platform(
    world: World,
) -> None:
    await pair_up(world)
    await world.deliver()
    [slack_prompt] = [t for t in world.slack_dms(MIA) if "Lead my first team" in t]
    assert "Theo Grant" in slack_prompt and "every two weeks" in slack_prompt
    theirs = [s for s in world.teams.sent_to(theo.personal_chat) if "Lead my first team" in s.text]
    [teams_prompt] = theirs
    assert "Mia Park" in teams_prompt.text
    card = teams_prompt.card
    assert card is not None and "I agree" in json.dumps(card)
    assert not [c for c in world.slack.delivered() if c.params.get("channel") != "D" + MIA]

    # Each agrees on their own platform: a Block Kit button, an Adaptive Card submit.
    [posted] = [c for c in world.slack.delivered() if "Lead my first team" in c.params["text"]]
    assert "Waiting for Theo Grant" in await world.click(MIA, posted, "I agree")
    confirmed = await world.teams_submits(theo, teams_prompt.submit_data("I agree"))
    assert "Agreement confirmed with Mia Park" in confirmed
    await world.deliver()
    assert any("Theo Grant agreed too" in t for t in world.slack_dms(MIA))

    # The mentee schedules from Slack; her partner is on Teams, so she names no one
    # (a Slack @-mention cannot name a Teams account; the pair has one partner).
    answer = await world.slash(MIA, "schedule tomorrow 3pm")
    assert "Tue 24 Nov 2026, 15:00 (Europe/Berlin)" in answer
    await world.deliver()
    [confirmation] = [
        s for s in world.teams.sent_to(theo.personal_chat) if "scheduled a meeting" in s.text
    ]
    # 15:00 in Berlin is 09:00 in New York, the time zone Theo's Teams client gave.
    assert "Mia Park scheduled a meeting with you" in confirmation.text
    assert "Tue 24 Nov 2026, 09:00 (America/New_York)" in confirmation.text
    status = await world.teams_says(theo, "status", "America/New_York")
    assert "next meeting Tue 24 Nov 2026, 09:00 (America/New_York)" in status
    # Nothing for Theo went to Slack, nothing for Mia to Teams.
    assert not any("scheduled a meeting with you" in t for t in world.slack_dms(MIA))
    assert {s.conversation for s in world.teams.sent} == {theo.personal_chat}


async def test_one_person_with_a_slack_and_a_teams_account_is_one_person(world: World) -> None:
    rae_teams = TeamsUser("Rae Lin", email="rae@acme.example")
    world.teams.add_member(rae_teams)
    assert "joined as a mentor" in await world.slash("U2", "join mentor")
    from_teams = await world.teams_says(rae_teams, "status", "Asia/Tokyo")
    assert "Mentor — Active" in from_teams
    assert "Mentor — Active" in await world.slash("U2", "status")
    slack_person = await world.person("slack", TEAM_ID, "U2")
    assert slack_person == await world.person("teams", TENANT, rae_teams.aad)
    async with world.engine.db.transaction() as session:
        rows = await session.scalars(select(Identity).where(Identity.person_id == slack_person))
        found: list[Any] = sorted((i.platform, i.email) for i in rows)
    assert found == [("slack", "rae@acme.example"), ("teams", "rae@acme.example")]
    # Someone on Teams with the same name but another e-mail is someone else.
    namesake = TeamsUser("Rae Lin", email="rae.lin@other.example")
    world.teams.add_member(namesake)
    assert "haven't joined" in await world.teams_says(namesake, "status", "Asia/Tokyo")
