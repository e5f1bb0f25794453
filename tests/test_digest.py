"""The HR digest on a hand-built program driven through the engine: exact figures, the
week-over-week comparison, lapses and recoveries, recognition, the at-risk list and
the privacy setting; and its posting on the schedule, once per week."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from conversations.digest.figures import Digest, compute_digest, to_json
from conversations.digest.messages import digest_message
from conversations.digest.policy import DigestSchedule, ObjectiveTarget
from conversations.digest.sweep import last_slot
from conversations.engine import Engine
from conversations.messages import File, from_dict
from conversations.policy import Policy
from storage.database import Database
from storage.models import OutboxMessage
from tests.harness import Chat

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def policy() -> Policy:
    return Policy(
        program_name="Acme mentoring",
        admins=frozenset({"local:hana"}),
        objective_target=ObjectiveTarget("Mentees from Sales", ("Sales",), 0.5),
        digest=DigestSchedule(
            weekday=0, at=time(9, 0), timezone="Europe/Berlin", channels=(("slack", "C0DIGEST"),)
        ),
    )


async def digest_at(chat: Chat, at: datetime, policy: Policy | None = None) -> Digest:
    engine = chat.engine
    async with engine.db.transaction() as session:
        program = await engine._program(session, at)
        return await compute_digest(session, program, policy or engine.policy, at)


async def build_program(chat: Chat) -> None:
    """Six people, two pairs; alice & bob meet on Tue 24 Nov and rate it 4 and 5."""
    chat.now = T0
    for user, role, department in (
        ("hana", "mentor", "People"),
        ("alice", "mentee", "Sales"),
        ("bob", "mentor", "Engineering"),
        ("carol", "mentee", "Engineering"),
        ("dan", "mentor", "Sales"),
        ("erin", "mentee", "sales"),
    ):
        await chat.say(user, f"join {role}")
        await chat.say(user, f"profile set department={department}")
    assert "Paired alice" in await chat.text("hana", "admin pair @alice @bob")
    assert "Paired carol" in await chat.text("hana", "admin pair @carol @dan")
    for user in ("alice", "bob", "carol", "dan"):
        await chat.say(user, "agreement agree")
    assert "scheduled" in await chat.text("alice", "schedule tomorrow 9am")
    chat.now = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    for user, rating in (("alice", "4"), ("bob", "5")):
        await chat.say(user, "met")
        saved = await chat.submit(user, "checkin", {"pair": "1", "rating": rating, "next": ""})
        assert f"rating {rating}/5" in saved[0].text


async def test_first_week_figures_are_exact(chat: Chat) -> None:
    await build_program(chat)
    digest = await digest_at(chat, datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    f = digest.figures
    assert {k: f[k] for k in f if k.startswith("participants.")} == {
        "participants.total": 6,
        "participants.mentors": 3,
        "participants.mentees": 3,
        "participants.both": 0,
        "participants.waiting": 1,  # erin
        "participants.new": 0,  # everyone joined on 23 Nov at 09:00, before this week began
    }
    assert (f["pairs.active"], f["pairs.proposed"], f["pairs.ended"]) == (2, 0, 0)
    assert (f["pairs.started_this_week"], f["pairs.ended_this_week"]) == (0, 0)
    assert (f["meetings.due"], f["meetings.held"], f["meetings.follow_through_rate"]) == (1, 1, 1.0)
    # alice–bob last met 6.04 days ago, carol–dan started 7.04 days ago: median 6.54.
    assert f["meetings.median_days_since_last"] == 6.5
    assert f["meetings.median_days_to_first"] == 1.0
    assert f["meetings.pairs_not_met_yet"] == 1
    assert (f["lapses.open"], f["lapses.at_risk"], f["lapses.recovered"]) == (0, 0, 0)
    # Two ratings are too few to show an average without exposing individuals.
    assert (f["ratings.average"], f["ratings.count"]) == (None, 2)
    # Sales mentees: alice and erin (department matched without regard to case) of three.
    assert (f["objective.share"], f["objective.progress"]) == (0.667, 1.333)
    # A week earlier the program had just started: the same people, nothing held yet.
    assert digest.previous["participants.total"] == 6
    assert digest.previous["participants.new"] == 6
    assert digest.previous["pairs.started_this_week"] == 2
    assert digest.change["participants.new"] == -6
    assert digest.previous["meetings.due"] == 0
    assert digest.change["participants.total"] == 0
    assert digest.change["meetings.held"] == 1
    assert digest.change["meetings.follow_through_rate"] is None  # nothing was due before
    assert len(digest.trend) == 12 and (digest.trend[-1].due, digest.trend[-1].held) == (1, 1)
    assert all(w.due == 0 for w in digest.trend[:-1])
    assert digest.recognition == () and digest.at_risk == ()


async def lapse_and_recover(chat: Chat) -> None:
    await build_program(chat)
    # Nobody meets: carol–dan lapsed on 10 Dec and reach the at-risk step on 24 Dec;
    # alice–bob lapsed on 11 Dec. The sweep runs every day (one ladder step per sweep).
    for day in range(1, 25):
        await chat.engine.sweep(datetime(2026, 12, day, 10, 0, tzinfo=UTC))
    chat.now = datetime(2026, 12, 24, 11, 0, tzinfo=UTC)
    assert "meeting again" in await chat.text("alice", "met")
    await chat.submit("alice", "checkin", {"pair": "1", "rating": "4", "next": ""})
    chat.now = datetime(2026, 12, 27, 10, 0, tzinfo=UTC)
    for user, rating in (("alice", "3"), ("bob", "5")):
        await chat.say(user, "met")
        await chat.submit(user, "checkin", {"pair": "1", "rating": rating, "next": ""})


async def test_lapses_recoveries_recognition_and_at_risk(chat: Chat) -> None:
    await lapse_and_recover(chat)
    digest = await digest_at(chat, datetime(2026, 12, 28, 10, 0, tzinfo=UTC))
    f = digest.figures
    assert (f["lapses.open"], f["lapses.step_4"], f["lapses.at_risk"]) == (1, 1, 1)
    assert (f["lapses.recovered"], f["lapses.begun"]) == (1, 0)
    # Two meetings held by alice–bob; carol–dan owed one and had none.
    assert (f["meetings.due"], f["meetings.held"], f["meetings.follow_through_rate"]) == (
        3,
        2,
        0.667,
    )
    assert f["meetings.median_days_since_last"] == 18.0  # 1.0 and 35.04 days
    assert (f["ratings.average"], f["ratings.count"]) == (4.0, 3)
    # The week before both pairs were lapsed and met not at all.
    assert (digest.previous["meetings.due"], digest.previous["meetings.held"]) == (2, 0)
    assert digest.previous["lapses.open"] == 2 and digest.previous["lapses.at_risk"] == 0
    assert digest.change["lapses.recovered"] == 1
    assert digest.recognition == (("bob", 2),)
    assert [(p.mentee, p.mentor) for p in digest.at_risk] == [("carol", "dan")]
    message = digest_message(digest)
    assert "carol & dan" in message.text and "bob (2 meetings" in message.text
    data = to_json(digest)
    assert data["at_risk_pairs"][0]["mentee"] == "carol"
    assert data["recognition"] == [{"mentor": "bob", "meetings": 2}]
    chart = next(b for b in message.blocks if isinstance(b, File))
    assert chart.mime == "image/png" and chart.data().startswith(b"\x89PNG\r\n\x1a\n")
    assert from_dict(__import__("conversations.messages").messages.to_dict(message)) == message


async def test_aggregate_privacy_shows_counts_and_no_names(chat: Chat, policy: Policy) -> None:
    await lapse_and_recover(chat)
    private = replace(policy, privacy="aggregate")
    digest = await digest_at(chat, datetime(2026, 12, 28, 10, 0, tzinfo=UTC), private)
    message = digest_message(digest)
    data = to_json(digest)
    assert data["at_risk_pairs"] is None and data["recognition"] is None
    assert data["figures"]["lapses.at_risk"] == 1
    assert "1 pair at risk" in message.text
    for name in ("alice", "bob", "carol", "dan"):
        assert name not in message.text
        assert name not in str(data)


def test_last_slot_follows_the_configured_weekday_time_and_zone() -> None:
    schedule = DigestSchedule(weekday=0, at=time(9, 0), timezone="Europe/Berlin")
    # Monday 09:00 in Berlin is 08:00 UTC in winter.
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert last_slot(schedule, "UTC", monday) == monday
    assert last_slot(schedule, "UTC", datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, 8, 0, tzinfo=UTC
    )
    friday = DigestSchedule(weekday=4, at=time(17, 30))
    assert last_slot(friday, "UTC", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)) == datetime(
        2026, 11, 27, 17, 30, tzinfo=UTC
    )


async def test_the_sweep_posts_the_digest_once_a_week_to_channels_and_local_admins(
    chat: Chat, db: Database
) -> None:
    await build_program(chat)
    engine: Engine = chat.engine
    before = await engine.sweep(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    assert not [i for i in before if i.kind == "digest" and "2026-11-30" in i.key]
    due = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)
    items = [i for i in await engine.sweep(due) if i.kind == "digest"]
    assert sorted(i.key for i in items) == [
        "digest:default:2026-11-30:local:1",
        "digest:default:2026-11-30:slack:C0DIGEST",
    ]
    again = [i for i in await engine.sweep(due.replace(minute=6)) if i.kind == "digest"]
    assert again == []
    # Too late to catch up: a sweep three days after the slot posts nothing for that week.
    late = [
        i for i in await engine.sweep(datetime(2026, 12, 3, 9, 0, tzinfo=UTC)) if i.kind == "digest"
    ]
    assert late == []
    async with db.transaction() as session:
        from sqlalchemy import select

        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest"))
        )
    by_target = {(r.platform, r.channel, r.person_id) for r in rows}
    assert by_target == {("slack", "C0DIGEST", None), ("local", None, 1)}
    payload = from_dict(rows[0].payload)
    assert payload.text.startswith("Mentoring digest: Acme mentoring")
    png = next(b for b in payload.blocks if isinstance(b, File))
    assert base64.b64decode(png.content).startswith(b"\x89PNG")


async def test_admin_digest_previews_in_chat(chat: Chat) -> None:
    await build_program(chat)
    reply = await chat.say("hana", "admin digest")
    assert reply[0].text.startswith("Preview of this week's digest")
    assert "1 held of 1 due" in reply[0].text
