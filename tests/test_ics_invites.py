"""Issue 13 item 8: .ics invites carry ORGANIZER and ATTENDEE (RFC 5546 §3.2.2 for
REQUEST, §3.2.5 for CANCEL), a UID unique across installs and databases, and a SEQUENCE
that rises on every change. Read back with the `icalendar` library."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conversations.engine import Engine
from conversations.events import Actor, Command, InboundEvent
from conversations.messages import Message
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from tests.conftest import PG_ENV
from tests.followthrough_kit import inbox, make_pair
from tests.harness import Chat


def _event(message: Message) -> tuple[str, Any]:
    [invite] = message.files()
    assert invite.mime == "text/calendar"
    calendar = Calendar.from_ical(invite.content)
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def _attendees(event: Any) -> dict[str, str]:
    found: Any = event["ATTENDEE"]
    found = found if isinstance(found, list) else [found]
    return {str(a.params["CN"]): str(a) for a in found}


async def test_request_and_cancel_carry_organizer_attendees_uid_and_sequence(chat: Chat) -> None:
    # Alice's platform gave her e-mail; Bob's gave none.
    alice = Actor("local", "alice", "Alice Liddell", email="Alice@Example.com")
    await chat.engine.handle(InboundEvent(alice, Command("status")), chat.now)
    await make_pair(chat)

    [scheduled] = await chat.say("alice", "schedule 2026-12-03 15:00")
    method, event = _event(scheduled)
    assert method == "REQUEST" and event["SEQUENCE"] == 0
    uid = str(event["UID"])
    assert uuid.UUID(uid).version == 4  # random, not the row id
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:mentorbot@default.invalid"
    assert str(organizer.params["CN"]) == "Acme mentoring"
    assert _attendees(event) == {
        "Alice Liddell": "mailto:alice@example.com",
        "bob": "invalid:nomail",
    }

    [moved] = await chat.say("bob", "reschedule next tue 10:00 with @alice")
    method, event = _event(moved)
    assert method == "REQUEST" and str(event["UID"]) == uid and event["SEQUENCE"] == 1
    assert len(_attendees(event)) == 2 and "ORGANIZER" in event

    [cancelled] = await chat.say("alice", "schedule cancel")
    method, event = _event(cancelled)
    assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 2
    assert str(event["ORGANIZER"]) == "mailto:mentorbot@default.invalid"
    assert set(_attendees(event)) == {"Alice Liddell", "bob"}

    [again] = await chat.say("alice", "schedule 2026-12-04 15:00")
    _, event = _event(again)
    assert str(event["UID"]) != uid  # a new meeting is a new event


async def test_a_meeting_held_early_moves_both_invites_to_when_it_took_place(
    chat: Chat,
) -> None:
    """Both calendars hold Friday's meeting; it took place on Thursday: the invite is
    updated (same UID, SEQUENCE up, DTSTART when they met), so Friday is free again.
    Held at its planned time, nothing is re-sent."""
    await make_pair(chat)
    [scheduled] = await chat.say("alice", "schedule 2026-11-27 10:00")  # Fri, Berlin
    _, planned = _event(scheduled)
    thursday = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    chat.now = thursday
    [ask] = await chat.say("alice", "met with @bob")
    [logged] = await chat.click("alice", ask, "Yes, today")
    assert "the planned time is free again" in logged.text
    method, event = _event(logged)
    assert method == "REQUEST" and str(event["UID"]) == str(planned["UID"])
    assert event["SEQUENCE"] == planned["SEQUENCE"] + 1
    assert event["DTSTART"].dt == thursday
    [notice] = await inbox(chat, "bob", "meeting-logged")
    assert "the planned time is free again" in notice.text
    _, told = _event(notice)
    assert (str(told["UID"]), told["SEQUENCE"], told["DTSTART"].dt) == (
        str(planned["UID"]),
        event["SEQUENCE"],
        thursday,
    )

    # The next meeting, held as planned: the calendar was right, no invite comes again.
    [nxt] = await chat.say("alice", "schedule 2026-12-04 10:00")
    chat.now = datetime(2026, 12, 4, 9, 30, tzinfo=UTC) + timedelta(minutes=5)
    [logged] = await chat.say("alice", "met with @bob")
    assert logged.files() == [] and "free again" not in logged.text
    assert _event(nxt)[1]["SEQUENCE"] == 0


async def _first_uid(url: str, policy: Policy) -> str:
    db = Database(url)
    try:
        chat = Chat(Engine(db, policy))
        await make_pair(chat)
        [scheduled] = await chat.say("alice", "schedule 2026-12-03 15:00")
        return str(_event(scheduled)[1]["UID"])
    finally:
        await db.dispose()


async def test_the_same_meeting_row_in_two_databases_gets_two_uids(
    sqlite_template: Path, tmp_path: Path, policy: Policy
) -> None:
    """A pilot moved to a new database (or a second install) never reissues a UID."""
    uids = set()
    for name in ("first.db", "second.db"):
        shutil.copyfile(sqlite_template, tmp_path / name)
        uids.add(await _first_uid(f"sqlite:///{tmp_path / name}", policy))
    assert len(uids) == 2


async def _migrate_keeps_meetings(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db, "0005_agreement_reminder")
        async with db.transaction() as session:
            for statement in (
                "INSERT INTO programs (id, slug, name, settings, created_at)"
                " VALUES (1, 'p', 'P', '{}', '2026-01-01')",
                "INSERT INTO people (id, display_name, created_at) VALUES (1, 'A', '2026-01-01')",
                "INSERT INTO people (id, display_name, created_at) VALUES (2, 'B', '2026-01-01')",
                "INSERT INTO pairs (id, program_id, mentee_id, mentor_id, state, reasons,"
                " proposed_at, lapse_step, lapse_cycle)"
                " VALUES (1, 1, 1, 2, 'active', '[]', '2026-01-01', 0, 0)",
                "INSERT INTO meetings (id, pair_id, scheduled_at, duration_minutes, status,"
                " created_at, sequence) VALUES (1, 1, '2026-02-01', 45, 'held', '2026-01-01', 0),"
                " (2, 1, '2026-03-01', 45, 'scheduled', '2026-01-01', 3)",
                "INSERT INTO meeting_feedback (id, meeting_id, person_id, met, rating,"
                " created_at) VALUES (1, 1, 1, true, 4, '2026-02-01')",
            ):
                await session.execute(text(statement))
        await upgrade(db)
        async with db.transaction() as session:
            rows = (await session.execute(text("SELECT id, uid, sequence FROM meetings"))).all()
        assert sorted((r[0], r[2]) for r in rows) == [(1, 0), (2, 3)]
        assert len({uuid.UUID(r[1]) for r in rows}) == 2
        async with db.transaction() as session:  # nothing cascaded away on the way
            kept = await session.execute(text("SELECT meeting_id, rating FROM meeting_feedback"))
            assert kept.all() == [(1, 4)]
            assert (await session.execute(text("SELECT count(*) FROM pairs"))).scalar() == 1
    finally:
        await db.dispose()


async def test_existing_meetings_get_their_own_uid_on_upgrade(tmp_path: Path) -> None:
    await _migrate_keeps_meetings(f"sqlite:///{tmp_path / 'old.db'}")


async def test_existing_meetings_get_their_own_uid_on_upgrade_postgresql() -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set; PostgreSQL tests need a server (.ci/run sets it)")
    name = f"mentorbot_uid_{uuid.uuid4().hex[:10]}"
    await execute_autocommit(base, f'CREATE DATABASE "{name}"')
    try:
        await _migrate_keeps_meetings(make_url(base).set(database=name).render_as_string(False))
    finally:
        await execute_autocommit(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
