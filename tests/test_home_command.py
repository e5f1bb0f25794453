"""`home`: the overview Slack's App Home shows: pairs, next meetings, open commitments."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conversations.engine import Engine
from storage.database import Database
from storage.models import Commitment, Identity, Meeting, Pair
from tests.harness import Chat


async def person_id(db: Database, user: str) -> int:
    async with db.transaction() as session:
        identity = await session.scalar(select(Identity).where(Identity.user_id == user))
        assert identity is not None
        return identity.person_id


async def test_home_before_joining_offers_to_join(chat: Chat) -> None:
    [home] = await chat.say("mira", "home")
    assert "not in the mentoring program yet" in home.text
    assert [b.label for b in home.buttons()][:2] == ["Join as mentee", "Join as mentor"]


async def test_home_lists_pairs_upcoming_meetings_and_open_commitments(
    chat: Chat, engine: Engine, db: Database
) -> None:
    await chat.say("mira", "join mentee")
    await chat.say("tomas", "join mentor")
    mira, tomas = await person_id(db, "mira"), await person_id(db, "tomas")
    program_id = engine.program_id
    assert program_id is not None
    async with db.transaction() as session:
        pair = Pair(
            program_id=program_id,
            mentee_id=mira,
            mentor_id=tomas,
            state="active",
            proposed_at=chat.now,
            reasons=[],
        )
        session.add(pair)
        await session.flush()
        session.add_all(
            [
                Meeting(
                    pair_id=pair.id, scheduled_at=chat.now + timedelta(days=2), created_at=chat.now
                ),
                Meeting(
                    pair_id=pair.id, scheduled_at=chat.now - timedelta(days=5), created_at=chat.now
                ),
                Meeting(
                    pair_id=pair.id,
                    scheduled_at=chat.now + timedelta(days=9),
                    status="cancelled",
                    created_at=chat.now,
                ),
                Commitment(
                    pair_id=pair.id,
                    person_id=mira,
                    text="Draft the talk outline",
                    created_at=chat.now,
                ),
                Commitment(
                    pair_id=pair.id,
                    person_id=mira,
                    text="Already done",
                    created_at=chat.now,
                    done_at=chat.now,
                ),
                Commitment(
                    pair_id=pair.id, person_id=tomas, text="Tomas's own", created_at=chat.now
                ),
            ]
        )
    [home] = await chat.say("mira", "home")
    assert "mentored by tomas (active)" in home.text
    assert "Wed 25 Nov 2026 09:00 with tomas" in home.text  # only the upcoming, scheduled one
    assert home.text.count(" with tomas") == 1
    assert "Draft the talk outline" in home.text
    assert "Already done" not in home.text and "Tomas's own" not in home.text
    assert [b.label for b in home.buttons()] == ["My status", "Edit my profile", "Pause", "Help"]
    [mentor_home] = await chat.say("tomas", "home")
    assert "mentoring mira" in mentor_home.text and "Tomas's own" in mentor_home.text
