"""Issue 14, who gets in (1, 2): Teams activities only from allowed tenants; e-mail that
links accounts or grants admin rights only from a verified directory of an allowed
workspace or tenant. Over real HTTP against the connector and Slack doubles, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import DB_KEY
from bot.config import ConfigError, load_settings
from storage.database import Database
from storage.models import Identity
from tests.doubles.bot_connector import TENANT, BotConnector, TeamsUser, message, post
from tests.doubles.slack_api import SlackApi, slash_command
from tests.security_kit import OTHER_TENANT, footprint, in_tenant, served, slack_settings
from tests.test_teams_http import Clock

ROOT = Path(__file__).resolve().parent.parent
SLACK_SECRET = "tenant-test-secret"
ana = TeamsUser("Ana Lopez", email="ana@example.com")
# Another company's tenant: her roster e-mail is made to equal Ana's, then an admin's.
mallory = TeamsUser("Mallory", email="ana@example.com")
hr_lookalike = TeamsUser("Mallory HR", email="hr@example.com")


@pytest.fixture
async def connector() -> AsyncIterator[BotConnector]:
    double = BotConnector()
    await double.start()
    for user in (ana, mallory, hr_lookalike):
        double.add_member(user)
    yield double
    await double.stop()


def config(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "app.yaml"
    path.write_text((ROOT / "app.yaml").read_text() + extra)
    return str(path)


async def test_a_signed_activity_from_another_tenant_gets_403_and_changes_nothing(
    db: Database, db_url: str, connector: BotConnector, tmp_path: Path
) -> None:
    env = {**connector.env(), "DATABASE_URL": db_url, "MENTORBOT_ADMINS": "hr@example.com"}
    settings = load_settings(config(tmp_path), env=env)
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        assert (
            await post(http, url, message(connector.url, ana, "join mentee"), connector.sign())
            == 200
        )
        assert (
            await post(
                http, url, message(connector.url, ana, "met notes: private"), connector.sign()
            )
            == 200
        )
        before, sent = await footprint(app), len(connector.sent)
        for user, text in ((mallory, "export-data"), (hr_lookalike, "admin export")):
            activity = in_tenant(message(connector.url, user, text), OTHER_TENANT)
            assert await post(http, url, activity, connector.sign()) == 403
        assert await footprint(app) == before
        assert len(connector.sent) == sent  # no export, no admin answer, nothing at all
        async with app[DB_KEY].transaction() as session:
            users = set(await session.scalars(select(Identity.user_id)))
        assert users == {ana.aad}


async def test_tenants_come_from_the_app_id_app_yaml_and_the_environment(
    db: Database, db_url: str, connector: BotConnector, tmp_path: Path
) -> None:
    listed = "11111111-1111-4111-8111-111111111111"
    from_env = "22222222-2222-4222-8222-222222222222"
    env = {**connector.env(), "DATABASE_URL": db_url, "MENTORBOT_TEAMS_TENANTS": f" {from_env} ,"}
    settings = load_settings(config(tmp_path, f"teams:\n  tenants: [{listed.upper()}]\n"), env=env)
    assert settings.teams is not None
    assert settings.teams.allowed_tenants == {TENANT, listed, from_env}
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        for i, tenant in enumerate((TENANT, listed, from_env)):
            user = TeamsUser(f"User {i}")
            activity = in_tenant(message(connector.url, user, "status"), tenant)
            assert await post(http, url, activity, connector.sign()) == 200, tenant
        activity = in_tenant(message(connector.url, TeamsUser("Out"), "status"), OTHER_TENANT)
        assert await post(http, url, activity, connector.sign()) == 403
        assert (await footprint(app))["identities"] == 3


def test_an_app_id_without_any_allowed_tenant_does_not_start(tmp_path: Path) -> None:
    env = {"MICROSOFT_APP_ID": "app", "MICROSOFT_APP_PASSWORD": "pw"}
    with pytest.raises(ConfigError, match=r"MICROSOFT_APP_TENANT_ID.*MENTORBOT_TEAMS_TENANTS"):
        load_settings(config(tmp_path), env=env)
    with pytest.raises(ConfigError, match=r"teams\.tenants"):
        load_settings(config(tmp_path, "teams:\n  tenants: acme\n"), env=env)
    with pytest.raises(ConfigError, match="must be a tenant id"):
        load_settings(config(tmp_path, "teams:\n  tenants: ['not a tenant']\n"), env=env)


async def test_the_emulator_mode_has_no_tenant_rule(
    db: Database, db_url: str, connector: BotConnector, tmp_path: Path
) -> None:
    """Without an app id (Bot Framework Emulator, local development) activities carry
    whatever tenant the emulator invents; the loopback rules (devmode tests) apply."""
    settings = load_settings(config(tmp_path), env={"DATABASE_URL": db_url})
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        activity = in_tenant(message(connector.url, ana, "status"), OTHER_TENANT)
        assert await post(http, url, activity) == 200
        assert len(connector.sent) == 1 and (await footprint(app))["identities"] == 1


async def test_a_guest_roster_entry_from_another_tenant_links_no_account(
    db: Database, db_url: str, connector: BotConnector, tmp_path: Path
) -> None:
    """A roster entry whose tenant is not the activity's (a guest's home directory) gives
    no e-mail, so it is not linked to the employee with that address."""
    guest = TeamsUser("Guest", email="ana@example.com")
    connector.add_member(guest)
    connector.members[guest.id]["tenantId"] = OTHER_TENANT
    env = {**connector.env(), "DATABASE_URL": db_url}
    settings = load_settings(config(tmp_path), env=env)
    async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:
        assert (
            await post(http, url, message(connector.url, ana, "join mentee"), connector.sign())
            == 200
        )
        assert (
            await post(http, url, message(connector.url, guest, "status"), connector.sign()) == 200
        )
        async with app[DB_KEY].transaction() as session:
            rows = {
                i.user_id: (i.person_id, i.email) for i in await session.scalars(select(Identity))
            }
        assert rows[ana.aad][1] == "ana@example.com"
        assert rows[guest.aad][1] is None and rows[guest.aad][0] != rows[ana.aad][0]


async def test_slack_email_counts_only_for_members_of_the_configured_workspace(
    db: Database, db_url: str
) -> None:
    """users.info of the bot's own workspace (auth.test's team) gives a trusted e-mail;
    a Slack Connect stranger's or another workspace's e-mail links nobody and makes
    nobody an admin."""
    api = SlackApi()
    api.add_user("U1", "Alice Doe", email="alice@acme.example")
    api.add_user("UX", "Outsider", email="hr@acme.example")  # an admin's address
    api.users["UX"]["team_id"] = "T0OTHER"
    api.add_user("US", "Stranger", email="alice@acme.example")
    api.users["US"]["is_stranger"] = True
    async with api.serve():
        settings = slack_settings(db_url, api, SLACK_SECRET, MENTORBOT_ADMINS="hr@acme.example")
        async with served(settings, Clock()) as (url, app), aiohttp.ClientSession() as http:

            async def command(user_id: str, text: str) -> str:
                signed = slash_command(SLACK_SECRET, text, user_id=user_id)
                async with http.post(
                    url + "/slack/events", data=signed.body, headers=signed.headers
                ) as response:
                    assert response.status == 200
                    return str((await response.json()).get("text", ""))

            assert "joined as a mentee" in await command("U1", "join mentee")
            assert "for the program team" in await command("UX", "admin stats")
            await command("US", "status")
            async with app[DB_KEY].transaction() as session:
                rows = {
                    i.user_id: (i.person_id, i.email)
                    for i in await session.scalars(select(Identity))
                }
    assert rows["U1"][1] == "alice@acme.example"
    assert rows["UX"][1] is None and rows["US"][1] is None
    assert rows["US"][0] != rows["U1"][0]  # the stranger is not Alice
