"""Admin commands and the person's data rights, through the engine.

The leak test plants a unique string in a private note and follows it everywhere a
person other than its writer could see something: replies to others, the outbox,
the digest (text and JSON), the admin commands, another person's data export, the
audit log and every log line.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.cli import quiet_third_party_loggers
from conversations.digest.figures import compute_digest, to_json
from conversations.digest.messages import digest_message
from conversations.messages import File, Message, from_dict
from storage.database import Database
from storage.models import (
    AuditEntry,
    Identity,
    OutboxMessage,
    Pair,
    Person,
    PrivateNote,
    Profile,
)
from tests.harness import Chat

SECRET = "ZEBRA-7731-only-alice-knows"


def everything(messages: list[Message]) -> str:
    """All a reader could get from messages: text, blocks and attached files."""
    return json.dumps([{"text": m.text, "blocks": repr(m.blocks)} for m in messages])


async def setup_pair(chat: Chat) -> None:
    chat.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for user, role in (("hana", "mentor"), ("alice", "mentee"), ("bob", "mentor")):
        await chat.say(user, f"join {role}")
    await chat.say("hana", "admin pair @alice @bob")
    await chat.say("alice", "agreement agree")
    await chat.say("bob", "agreement agree")
    await chat.say("alice", "schedule tomorrow 9am")
    chat.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_admin_commands_are_refused_politely_to_others_and_audited(
    chat: Chat, db: Database
) -> None:
    await chat.say("alice", "join mentee")
    await chat.say("bob", "join mentor")
    for line in ("admin stats", "admin pair @alice @bob", "admin export", "admin digest", "admin"):
        reply = await chat.text("bob", line)
        assert reply.startswith("Sorry, `admin` commands are for the program team")
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Pair)) == 0
        refused = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "admin.refused")
        )
        assert len(list(refused)) == 5


async def test_admin_pair_validates_and_starts_the_agreement(chat: Chat, db: Database) -> None:
    await chat.say("alice", "join mentee")
    await chat.say("bob", "join mentor")
    await chat.say("carl", "join mentee")
    assert "`/mentor admin pair @mentee @mentor`" in await chat.text("hana", "admin pair")
    assert "not as a mentor" in await chat.text("hana", "admin pair @alice @carl")
    assert "has not joined" in await chat.text("hana", "admin pair @alice @zed")
    assert "cannot mentor themselves" in await chat.text("hana", "admin pair @alice @alice")
    assert "not “frobnicate”" in await chat.text("hana", "admin frobnicate")
    done = await chat.text("hana", "admin pair @alice @bob")
    assert done.startswith("Paired alice (mentee) with bob (mentor)")
    assert "already paired" in await chat.text("hana", "admin pair @alice @bob")
    # Both got the agreement proposal: the follow-through engine takes it from here.
    async with db.transaction() as session:
        kinds = list(await session.scalars(select(OutboxMessage.kind)))
        pair = await session.scalar(select(Pair))
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert kinds.count("agreement") == 2
    assert pair is not None and pair.state == "active" and pair.activated_at == chat.now
    assert "admin.pair" in actions
    # Every admin action is audited, the attempts that changed nothing too, with the reason.
    async with db.transaction() as session:
        failed = list(
            await session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "admin.failed")
            )
        )
    assert [d["command"] for d in failed] == ["pair"] * 4 + ["frobnicate", "pair"]
    assert "already paired" in failed[-1]["reason"]
    reply = await chat.say("alice", "agreement")
    assert [b.label for b in reply[0].buttons()][:1] == ["I agree"]


async def test_admin_stats_and_export(chat: Chat, db: Database) -> None:
    await setup_pair(chat)
    await chat.say("alice", "met")
    stats = await chat.text("hana", "admin stats")
    assert "3: 2 mentors, 1 mentee," in stats and "1 held of 1 due" in stats
    reply = await chat.say("hana", "admin export")
    export = next(b for b in reply[0].blocks if isinstance(b, File))
    assert export.mime == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.content)))
    assert rows == [
        {
            "pair_id": "1",
            "mentee": "alice",
            "mentor": "bob",
            "state": "active",
            "proposed_at": "2026-11-23T09:00Z",
            "activated_at": "2026-11-23T09:00Z",
            "ended_at": "",
            "meetings_held": "1",
            "first_meeting_at": "2026-11-24T09:00Z",
            "last_meeting_at": "2026-11-24T09:00Z",
            "next_meeting_at": "",
        }
    ]
    async with db.transaction() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {"admin.stats", "admin.export", "admin.pair"} <= actions


async def test_a_private_note_never_leaves_its_writer(
    chat: Chat, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger at DEBUG, as with LOG_LEVEL=DEBUG …
    quiet_third_party_loggers()  # … and configured as `mentorbot` configures it
    await setup_pair(chat)
    seen_by_others: list[Message] = []
    mine = await chat.say("alice", f"met {SECRET}")
    assert "saved privately" in mine[0].text and SECRET not in everything(mine)
    mine = await chat.submit(
        "alice", "checkin", {"pair": "1", "rating": "2", "note": f"form {SECRET}", "next": ""}
    )
    assert SECRET not in everything(mine)
    # The partner, the admin and every program-wide view.
    for user, line in (
        ("bob", "met"),
        ("bob", "status"),
        ("bob", "agreement"),
        ("bob", "agenda"),
        ("bob", "export-data"),
        ("hana", "admin stats"),
        ("hana", "admin export"),
        ("hana", "admin digest"),
        ("hana", "admin match --dry-run"),
        ("hana", "status"),
    ):
        seen_by_others += await chat.say(user, line)
    await chat.engine.sweep(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await chat.engine.sweep(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
    async with db.transaction() as session:
        program = await chat.engine._program(session, chat.now)
        digest = await compute_digest(session, program, chat.engine.policy, chat.now)
        outbox = [
            from_dict(r.payload)
            for r in await session.scalars(select(OutboxMessage))
            if r.person_id != 2  # alice is person 2
        ]
        audit = [json.dumps(a.details) for a in await session.scalars(select(AuditEntry))]
    assert outbox, "the partner and the admin were sent proactive messages"
    assert SECRET not in everything(seen_by_others + outbox + [digest_message(digest)])
    assert SECRET not in json.dumps(to_json(digest))
    assert SECRET not in "".join(audit)
    assert not [r for r in caplog.records if SECRET in r.getMessage()]
    # Positive control: alice's own export has both notes; bob's has none.
    own = await chat.say("alice", "export-data")
    data = json.loads(next(b for b in own[0].blocks if isinstance(b, File)).content)
    assert [n["text"] for n in data["my_private_notes"]] == [SECRET, f"form {SECRET}"]
    assert data["my_meeting_feedback"][0]["rating"] == 2
    bobs = next(
        b
        for m in seen_by_others
        for b in m.blocks
        if isinstance(b, File) and "my-data" in b.filename
    )
    assert SECRET not in bobs.content and '"rating": 2' not in bobs.content
    # One rating alone is never shown as an average: it would be that person's rating.
    assert digest.figures["ratings.count"] == 1 and digest.figures["ratings.average"] is None


async def test_forget_me_asks_first_then_erases_and_tells_the_partner(
    chat: Chat, db: Database
) -> None:
    await setup_pair(chat)
    await chat.say("alice", f"met {SECRET}")
    await chat.say("alice", 'profile set goals="public speaking" department=Sales')
    ask = await chat.say("alice", "forget-me")
    assert "cannot be undone" in ask[0].text
    assert [b.label for b in ask[0].buttons()] == ["Yes, forget me", "Export my data first"]
    assert "not “please”" in await chat.text("alice", "forget-me please")
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PrivateNote)) == 1
    done = await chat.click("alice", ask[0], "Yes, forget me")
    assert done[0].text.startswith("Done: I have erased your personal data")
    async with db.transaction() as session:
        notes = await session.scalar(select(func.count()).select_from(PrivateNote))
        person = await session.get(Person, 2)
        identities = list(await session.scalars(select(Identity.user_id)))
        profile = await session.scalar(select(Profile).where(Profile.person_id == 2))
        pair = await session.get(Pair, 1)
        told = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "partner-left")
        )
    assert notes == 0
    assert person is not None and person.display_name == "Former participant"
    assert person.email is None and person.forgotten_at == chat.now
    assert "alice" not in identities
    assert profile is not None and profile.goals is None and profile.department is None
    assert profile.status == "left" and profile.role == "mentee"  # anonymous count kept
    assert pair is not None and pair.state == "ended" and pair.goals is None
    assert told is not None and told.person_id == 3
    assert "alice has left the mentoring program" in from_dict(told.payload).text
    # The digest still counts the meeting that happened, anonymously.
    digest = await chat.say("hana", "admin digest")
    assert "1 held of 1 due" in digest[0].text and "alice" not in digest[0].text
    # Writing again starts afresh, as a new person.
    again = await chat.text("alice", "export-data")
    assert SECRET not in again and "0 private notes" in again


async def test_privacy_says_exactly_what_hr_sees(chat: Chat) -> None:
    text = await chat.text("alice", "privacy")
    assert "weekly digest" in text and "names of pairs" in text
    assert "export-data" in text and "forget-me" in text
