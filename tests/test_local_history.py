"""The web chat keeps each person's last 50 lines (what they said, and the bot's messages
with their buttons) in the database: the page asks for them on load, so a reload or a
switch of user shows the conversation again. Over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import ENGINE_KEY, WORKER_KEY
from tests.test_local_web import Clock
from tests.test_local_web import clock as clock  # the fixtures, shared
from tests.test_local_web import served as served


async def say(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with session.post(url + "/local/api/messages", json=body) as response:
        assert response.status == 200
        reply: dict[str, Any] = await response.json()
        return reply


async def history(session: aiohttp.ClientSession, url: str, user: str) -> list[dict[str, Any]]:
    async with session.get(url + "/local/api/history", params={"user": user}) as response:
        assert response.status == 200
        lines: list[dict[str, Any]] = (await response.json())["lines"]
        return lines


async def test_a_reload_shows_what_was_said_and_answered_with_its_buttons(
    served: tuple[str, web.Application],
) -> None:
    url, _ = served
    async with aiohttp.ClientSession() as session:
        joined = await say(session, url, {"user": "alice", "text": "join mentee", "echo": "x"})
        [button, *_] = [
            b
            for block in joined["replies"][0]["blocks"]
            if block["type"] == "buttons"
            for b in block["buttons"]
        ]
        clicked = {"user": "alice", "action_id": button["action_id"], "value": button["value"]}
        await say(session, url, {**clicked, "echo": button["label"]})
        await say(session, url, {"user": "bob", "text": "help"})  # someone else meanwhile
        lines = await history(session, url, "alice")
        async with session.get(url + "/local/api/history", params={"user": "no one"}) as bad:
            assert bad.status == 400
        assert await history(session, url, "carol") == []
    said = [line["text"] for line in lines if line["from"] == "person"]
    assert said == ["x", button["label"]]
    first_answer = lines[1]["message"]
    assert first_answer["text"] == joined["replies"][0]["text"]
    assert first_answer["blocks"] == joined["replies"][0]["blocks"]  # buttons included
    assert all("help" not in line.get("text", "") for line in lines)  # bob's stays bob's


async def test_only_the_last_50_lines_are_kept(served: tuple[str, web.Application]) -> None:
    url, _ = served
    async with aiohttp.ClientSession() as session:
        await say(session, url, {"user": "alice", "text": "join mentee"})
        for n in range(30):
            await say(session, url, {"user": "alice", "text": f"status {n}"})
        lines = await history(session, url, "alice")
    assert len(lines) == 50
    said = [line["text"] for line in lines if line["from"] == "person"]
    assert said[-1] == "status 29" and "join mentee" not in said
    assert lines[-1]["from"] == "bot"


async def test_a_proactive_message_and_an_attachment_are_in_the_history(
    served: tuple[str, web.Application], clock: Clock
) -> None:
    url, app = served
    engine, worker = app[ENGINE_KEY], app[WORKER_KEY]
    async with aiohttp.ClientSession() as session:
        await say(session, url, {"user": "hana", "text": "join mentor"})
        await say(session, url, {"user": "hana", "text": "admin digest"})  # a chart attached
        await say(session, url, {"user": "hana", "text": "pause until tomorrow"})
        before = len(await history(session, url, "hana"))
        clock.now += timedelta(days=2)
        await engine.sweep(clock.now)
        async with session.get(url + "/local/api/stream", params={"user": "hana"}) as stream:
            assert (await stream.content.readline()).startswith(b": connected")
            clock.now += timedelta(minutes=2)
            worker.poke()
            frame = b""
            while not frame.startswith(b"data: "):
                frame = await asyncio.wait_for(stream.content.readline(), 5)
        for _ in range(100):  # recorded once the stream has written it
            lines = await history(session, url, "hana")
            proactive = [line for line in lines[before:] if line["from"] == "bot"]
            if any("pause is over" in line["message"]["text"] for line in proactive):
                break
            await asyncio.sleep(0.05)
    assert any("pause is over" in line["message"]["text"] for line in proactive)
    assert json.loads(frame.removeprefix(b"data: "))["text"] in [
        p["message"]["text"] for p in proactive
    ]
    blocks = [b for line in lines if line["from"] == "bot" for b in line["message"]["blocks"]]
    assert not any(b["type"] == "file" for b in blocks)
    assert any("digest-trend.png was attached here" in b.get("text", "") for b in blocks)


async def test_forget_me_erases_the_history(served: tuple[str, web.Application]) -> None:
    url, _ = served
    async with aiohttp.ClientSession() as session:
        await say(session, url, {"user": "alice", "text": "join mentee"})
        exported = await say(session, url, {"user": "alice", "text": "export-data"})
        [file] = [b for b in exported["replies"][0]["blocks"] if b["type"] == "file"]
        assert json.loads(file["content"])["my_web_chat"][0] == {
            "at": "2026-11-23T09:00:00+00:00",
            "from": "person",
            "text": "join mentee",
        }
        forget = await say(session, url, {"user": "alice", "text": "forget-me"})
        confirm = [
            b
            for block in forget["replies"][0]["blocks"]
            if block["type"] == "buttons"
            for b in block["buttons"]
            if b["style"] == "danger"
        ]
        action = {"action_id": confirm[0]["action_id"], "value": confirm[0]["value"]}
        await say(session, url, {"user": "alice", **action})
        assert await history(session, url, "alice") == []
