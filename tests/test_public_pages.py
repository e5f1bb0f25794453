"""The pages a Teams app listing links to: /privacy and /terms are served by the bot, say
what the `privacy` command says, and escape every text."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters.teams.manifest import MAX_COMMANDS, build_manifest, build_package
from bot.app import build_app
from bot.config import load_settings
from bot.public_pages import page
from conversations.engine import build_router
from tests.harness import Chat

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[str]:
    settings = load_settings(
        str(ROOT / "app.yaml"), env={"DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}
    )
    app = build_app(settings, scheduler_enabled=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def visible_text(markup: str) -> str:
    body = markup.split("</style>", 1)[1]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", body).split()))


async def test_privacy_and_terms_pages_say_what_the_privacy_command_says(
    served: str, chat: Chat
) -> None:
    [answer] = await chat.say("alice", "privacy")
    async with aiohttp.ClientSession() as session:
        async with session.get(served + "/privacy") as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            privacy = await response.text()
        async with session.get(served + "/terms") as response:
            assert response.status == 200
            terms = await response.text()
    assert "<h1>Privacy statement</h1>" in privacy and "<h1>Terms of use</h1>" in terms
    shown = visible_text(privacy)
    for paragraph in answer.text.split("\n\n"):
        title, body = paragraph.split(": ", 1)
        assert title in shown and body.replace("`", "").split(" (")[0] in shown
    assert "<code>/mentor export-data</code>" in privacy and "`" not in privacy
    assert "no bearing on performance reviews" in terms and "What I store" in visible_text(terms)


def test_page_text_is_escaped() -> None:
    markup = page("A <b>title</b>", "R&D <mentoring>", [("<script>", "x < y & `a<b>`")])
    assert "<b>" not in markup and "<script>" not in markup.split("</style>")[1]
    assert "&lt;b&gt;title&lt;/b&gt;" in markup and "R&amp;D &lt;mentoring&gt;" in markup
    assert "x &lt; y &amp; <code>a&lt;b&gt;</code>" in markup


def test_the_teams_manifest_lists_the_commands_people_use_most_and_real_pages() -> None:
    manifest = build_manifest(APP_ID, url="https://mentor.example.org/")
    [commands] = manifest["bots"][0]["commandLists"]
    titles = [c["title"] for c in commands["commands"]]
    assert len(titles) <= MAX_COMMANDS == 10 and len(set(titles)) == len(titles)
    for used_most in ("status", "schedule", "met", "agenda", "home", "help"):
        assert used_most in titles
    known = {spec.name for spec in build_router().specs} | {"help"}
    assert set(titles) <= known
    assert manifest["developer"]["privacyUrl"] == "https://mentor.example.org/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://mentor.example.org/terms"
    with zipfile.ZipFile(io.BytesIO(build_package(APP_ID))) as package:
        packed = json.loads(package.read("manifest.json"))
    assert packed["developer"]["privacyUrl"].endswith("/privacy")
