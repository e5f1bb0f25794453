"""Inbound auth with an app id configured: every request's JWT is checked against the
channel's signing keys (served by the connector double from our own RSA key). Missing or
bad tokens get 401, unreachable keys 503, and neither ever becomes a turn."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from bot.app import ENGINE_KEY
from storage.database import Database
from storage.models import Identity
from tests.doubles.bot_connector import ISSUED_TOKEN, BotConnector, TeamsUser, message, post
from tests.test_teams_http import Clock, serve

ana = TeamsUser("Ana Lopez", email="ana@example.com")


@pytest.fixture
async def secured(
    db: Database, db_url: str, connector: BotConnector
) -> AsyncIterator[tuple[str, web.Application]]:
    """The bot with an app id, pointed at the double. (Taking `db` empties the tables.)"""
    runner, url = await serve(db_url, connector.env(), Clock())
    yield url, runner.app
    await runner.cleanup()


async def turns_taken(app: web.Application) -> int:
    async with app[ENGINE_KEY].db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Identity)) or 0)


async def raw_post(
    session: aiohttp.ClientSession, url: str, activity: dict[str, object], authorization: str | None
) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with session.post(url + "/api/messages", json=activity, headers=headers) as response:
        assert response.content_type == "application/json"
        return response.status


async def test_missing_and_bad_tokens_get_401_and_no_turn(
    secured: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, app = secured
    now = int(time.time())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "no header": None,
        "empty": "",
        "basic": "Basic dXNlcjpwYXNz",
        "no token": "Bearer ",
        "garbage": "Bearer not.a.jwt",
        "wrong audience": "Bearer " + connector.sign({"aud": "someone-else"}),
        "wrong issuer": "Bearer " + connector.sign({"iss": "https://evil.example"}),
        "expired": "Bearer " + connector.sign({"exp": now - 3600, "nbf": now - 7200}),
        "no expiry": "Bearer " + connector.sign({"exp": None}),
        "another service url": "Bearer " + connector.sign({"serviceurl": "https://evil.example"}),
        "signed by a stranger": "Bearer " + connector.sign(key=stranger),
        "unknown key": "Bearer " + connector.sign(kid="rotated-away"),
        "hmac with the public key": "Bearer "
        + jwt.encode(
            {"iss": "https://api.botframework.com", "aud": "x", "exp": now + 60},
            "public-key-as-secret-0123456789abcdef",
            algorithm="HS256",
            headers={"kid": connector.kid},
        ),
    }
    async with aiohttp.ClientSession() as session:
        activity = message(connector.url, ana, "join mentee")
        for name, authorization in bad.items():
            assert await raw_post(session, url, activity, authorization) == 401, name
    assert connector.sent == [] and await turns_taken(app) == 0
    assert connector.key_fetches <= 2  # unknown keys do not turn into a fetch each


async def test_a_valid_token_is_accepted_and_replies_carry_the_bots_token(
    secured: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, app = secured
    async with aiohttp.ClientSession() as session:
        for text in ("join mentee", "status"):
            assert (
                await post(session, url, message(connector.url, ana, text), connector.sign()) == 200
            )
    joined, status = connector.sent
    assert "joined as a mentee" in joined.text and "Mentee — Active" in status.text
    assert joined.authorization == f"Bearer {ISSUED_TOKEN}"
    assert connector.tokens_issued == 1 and connector.key_fetches == 1  # both cached
    assert await turns_taken(app) == 1


async def test_unreachable_signing_keys_give_503_then_recover(
    secured: tuple[str, web.Application], connector: BotConnector
) -> None:
    url, app = secured
    connector.keys_available = False
    async with aiohttp.ClientSession() as session:
        activity = message(connector.url, ana, "join mentee")
        async with session.post(
            url + "/api/messages",
            json=activity,
            headers={"Authorization": f"Bearer {connector.sign()}"},
        ) as response:
            assert response.status == 503 and response.headers["Retry-After"]
        # A garbage token is still a plain 401: it never needs the keys.
        assert await post(session, url, activity, "garbage") == 401
        assert connector.sent == [] and await turns_taken(app) == 0
        connector.keys_available = True
        assert await post(session, url, activity, connector.sign()) == 200
        assert "joined as a mentee" in connector.sent[-1].text
        # Once fetched, the keys are kept: an outage of the key endpoint changes nothing.
        connector.keys_available = False
        assert (
            await post(session, url, message(connector.url, ana, "status"), connector.sign()) == 200
        )
    assert len(connector.sent) == 2
