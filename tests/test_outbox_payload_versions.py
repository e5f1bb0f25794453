"""Queued messages carry the version of their JSON shape, and rows written by an older
release still deliver: a version-1 payload (written before payloads had versions) goes
through the real delivery worker and the Slack sender like one written today."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from adapters.slack.render_block_kit import to_messages
from adapters.slack.sender import SlackSender
from adapters.slack.webapi import make_client
from bot.delivery import DeliveryWorker
from conversations.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Header,
    Message,
    Text,
    from_dict,
    to_dict,
)
from conversations.payload_versions import CURRENT_VERSION, UPGRADES, upgrade
from storage import outbox, people
from storage.database import Database
from storage.models import OutboxMessage
from storage.states import OutboxStatus
from tests.doubles.slack_api import TEAM_ID, SlackApi

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# Exactly what `to_dict` wrote before payloads had a version (version 1): keep this
# fixture as it is, whatever the current shape becomes.
VERSION_1 = """{"text": "Time to meet Ravi again: your last meeting was on 02 Nov.", "blocks": [
{"type": "header", "text": "No meeting since 02 Nov"},
{"type": "text", "text": "It has been *3 weeks* since you met <@U2|Ravi>."},
{"type": "fields", "items": [["Pair", "Mia Park and Ravi Shah"], ["Last meeting", "Mon 02 Nov"]]},
{"type": "divider"},
{"type": "buttons", "buttons": [
 {"label": "Schedule", "action_id": "run", "value": "schedule", "style": "primary"},
 {"label": "Pause us", "action_id": "pair.pause", "value": "pair:7", "style": "default"}]},
{"type": "context", "text": "You can pause a pairing any time."}]}"""

NUDGE = Message(
    "Time to meet Ravi again: your last meeting was on 02 Nov.",
    (
        Header("No meeting since 02 Nov"),
        Text("It has been *3 weeks* since you met <@U2|Ravi>."),
        Fields((("Pair", "Mia Park and Ravi Shah"), ("Last meeting", "Mon 02 Nov"))),
        Divider(),
        Buttons(
            (
                Button("Schedule", value="schedule", style="primary"),
                Button("Pause us", "pair.pause", "pair:7"),
            )
        ),
        Context("You can pause a pairing any time."),
    ),
)


@pytest.fixture
async def api() -> AsyncIterator[SlackApi]:
    double = SlackApi()
    async with double.serve():
        yield double


async def _queue(db: Database, key: str, payload: dict[str, Any]) -> None:
    async with db.transaction() as session:
        identity = await people.upsert_identity(
            session, people.IdentityKey("slack", TEAM_ID, "U1"), display_name="Mia", now=NOW
        )
        await outbox.enqueue(
            session,
            key=key,
            kind="lapse-nudge-mentee",
            payload=payload,
            now=NOW,
            person_id=identity.person_id,
            platform="slack",
        )


def test_todays_payloads_name_their_version_and_read_back() -> None:
    payload = to_dict(NUDGE)
    assert payload["version"] == CURRENT_VERSION == 2
    assert from_dict(json.loads(json.dumps(payload))) == NUDGE


def test_a_version_1_payload_upgrades_to_the_current_shape() -> None:
    old = json.loads(VERSION_1)
    assert "version" not in old
    assert upgrade(old) == json.loads(json.dumps(to_dict(NUDGE)))
    assert from_dict(old) == NUDGE
    assert json.loads(VERSION_1) == old  # the stored document is not changed in place


async def test_a_row_queued_by_the_previous_release_still_delivers(
    db: Database, api: SlackApi
) -> None:
    await _queue(db, "lapse:7:1:1", json.loads(VERSION_1))
    await _queue(db, "lapse:7:1:2", to_dict(NUDGE))
    worker = DeliveryWorker(
        db, {"slack": SlackSender(make_client("xoxb-test", api.url + "api/"))}, lambda: NOW
    )
    assert await worker.run_once() == 2
    old, new = api.called("chat.postMessage")
    (expected,) = to_messages(NUDGE)
    for call in (old, new):
        assert call.params["text"] == expected["text"]
        assert call.params["blocks"] == expected["blocks"]
    async with db.transaction() as session:
        statuses = set(await session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.SENT}


def test_a_later_rename_is_one_more_step_in_the_chain() -> None:
    """How the next shape change is made: version 3 renames `text` to `fallback`; a
    version-1 row goes through both steps, a version-3 row through none."""

    def v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in payload.items() if k != "text"}
        return {**rest, "fallback": payload["text"], "version": 3}

    steps = {**UPGRADES, 2: v2_to_v3}
    upgraded = upgrade(json.loads(VERSION_1), upgrades=steps, current=3)
    assert upgraded["version"] == 3 and "text" not in upgraded
    assert upgraded["fallback"] == NUDGE.text
    assert upgrade(upgraded, upgrades=steps, current=3) == upgraded


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"text": None, "blocks": None},
        {"text": "hi", "blocks": "not a list"},
        {"text": "hi", "version": "two", "blocks": [None, 3, "x"]},
        {"text": "hi", "version": -4, "blocks": [{"type": "fields", "items": 5}]},
        {"text": "hi", "version": 99, "blocks": [{"type": "header"}]},
        {"text": 42, "blocks": [{"type": "buttons", "buttons": [{"label": "Go", "style": "x"}]}]},
        {"text": "hi", "blocks": [{"type": "form", "form_id": "f", "title": "T", "inputs": [7]}]},
    ],
)
def test_a_payload_that_does_not_read_is_its_text_and_never_raises(
    payload: dict[str, Any],
) -> None:
    message = from_dict(payload)
    assert message.blocks == ()
    assert message.text == ("" if payload.get("text") is None else str(payload["text"]))


def test_an_unreadable_block_among_good_ones_gives_way_to_the_text() -> None:
    payload = to_dict(NUDGE)
    payload["blocks"][1] = {"type": "hologram", "text": "?"}
    payload["blocks"][3] = {"type": "header", "text": 7}  # ill-typed: not a header
    message = from_dict(payload)
    assert message.blocks[1] == Text(NUDGE.text)  # once, where the first one was
    assert message.blocks == (
        NUDGE.blocks[0],
        Text(NUDGE.text),
        *NUDGE.blocks[2:3],
        *NUDGE.blocks[4:],
    )
    extra = {**to_dict(NUDGE)["blocks"][0], "level": 1}  # a field from a later release
    assert from_dict({"text": "t", "blocks": [extra]}).blocks == (NUDGE.blocks[0],)
