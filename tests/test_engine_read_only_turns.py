"""Read-only turns (`status`, help): answered from one read outside any transaction, yet
exactly what the transactional turn answers, never stale, and still recording what
changed about the speaker."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from sqlalchemy import event, select

from conversations.engine import Engine
from conversations.events import Actor, Command, InboundEvent
from conversations.messages import Message
from conversations.policy import Policy
from storage import people
from storage.database import Database
from storage.models import ConversationReference, Identity
from storage.pairs import pairs_of
from storage.speaker_reads import read_speaker
from tests.harness import Chat


async def setup_pairs(chat: Chat) -> None:
    """Alice mentored by Bob (active: agreement, next meeting, agenda, a commitment, a
    manager), Carol unpaired in the pool."""
    for user, role in (("hana", "mentor"), ("alice", "mentee"), ("bob", "mentor")):
        await chat.say(user, f"join {role}")
    await chat.say("carol", "join mentor")
    await chat.say("alice", "profile set manager=@hana level=3 languages=en,de")
    await chat.say("hana", "admin pair @alice @bob")
    await chat.say("alice", "agreement agree")
    await chat.say("bob", "agreement agree")
    await chat.say("alice", "schedule tomorrow 9am")
    await chat.say("alice", "agenda add Feedback on my talk")
    await chat.say("alice", "commit Draft the talk outline")


async def transactional_status(db: Database, policy: Policy, chat: Chat, user: str) -> Message:
    """`status` through an engine with no reader: the ordinary transactional turn."""
    plain = Database(db.url.render_as_string(hide_password=False))
    plain.reader = None
    try:
        engine = Engine(plain, policy)
        event = InboundEvent(Actor("local", user, user), Command("status"), {"user": user})
        return (await engine.handle(event, chat.now))[0]
    finally:
        await plain.dispose()


async def test_status_answers_exactly_what_a_transactional_turn_answers(
    chat: Chat, db: Database, policy: Policy
) -> None:
    await setup_pairs(chat)
    assert db.reader is not None
    for user in ("alice", "bob", "carol", "hana", "dave"):
        fast = (await chat.say(user, "status"))[0]
        assert fast == await transactional_status(db, policy, chat, user)
    alice = (await chat.say("alice", "status"))[0].text
    assert "mentored by bob" in alice and "agenda: 1 point" in alice
    assert "Draft the talk outline" in alice and "Manager: hana" in alice


async def test_status_with_nothing_to_write_begins_no_transaction(chat: Chat, db: Database) -> None:
    await setup_pairs(chat)
    begun: list[object] = []

    def on_begin(connection: object) -> None:
        begun.append(connection)

    event.listen(db.engine.sync_engine, "begin", on_begin)
    try:
        assert "pool for the next matching round" in await chat.text("carol", "status")
        assert "help" in await chat.text("carol", "help")
        assert begun == []
        assert "mentored by bob" in await chat.text("alice", "status")  # names, agenda: reads
        chat.advance(minutes=11)  # last seen is due a refresh: a write, so a transaction
        assert "Mentor — Active" in await chat.text("carol", "status")
        assert len(begun) == 2
    finally:
        event.remove(db.engine.sync_engine, "begin", on_begin)


async def test_a_read_only_command_still_records_what_changed_about_the_speaker(
    chat: Chat, db: Database
) -> None:
    await chat.say("alice", "join mentee")
    key = people.IdentityKey("local", "", "alice")

    async def identity() -> tuple[Identity, dict[str, object] | None]:
        async with db.transaction() as session:
            found = await people.find_identity(session, key)
            assert found is not None
            reference = await session.scalar(
                select(ConversationReference.reference).where(
                    ConversationReference.identity_id == found.id
                )
            )
            return found, reference

    joined_seen = (await identity())[0].last_seen_at
    chat.advance(minutes=1)
    await chat.say("alice", "status")
    assert (await identity())[0].last_seen_at == joined_seen  # a read writes nothing

    renamed = InboundEvent(
        Actor("local", "alice", "Alice Liddell", timezone="Europe/Berlin"),
        Command("status"),
        {"user": "alice", "channel": "new"},
    )
    assert "Mentee — Active" in (await chat.engine.handle(renamed, chat.now))[0].text
    found, reference = await identity()
    assert (found.display_name, found.timezone) == ("Alice Liddell", "Europe/Berlin")
    assert reference == {"user": "alice", "channel": "new"}

    chat.advance(minutes=11)
    await chat.engine.handle(renamed, chat.now)
    assert (await identity())[0].last_seen_at == chat.now


async def test_status_sees_what_another_replica_wrote_at_once(
    chat: Chat, db: Database, policy: Policy
) -> None:
    other = Database(db.url.render_as_string(hide_password=False))
    try:
        replica = Chat(Engine(other, policy), now=chat.now)
        await chat.say("alice", "join mentee")
        assert "Mentee — Active" in await replica.text("alice", "status")
        await chat.say("alice", "pause until 2026-12-01")
        assert "Paused until" in await replica.text("alice", "status")
        await chat.say("alice", "profile set wants=kotlin")
        assert "kotlin" in await replica.text("alice", "status")
    finally:
        await other.dispose()


async def test_the_one_statement_read_types_values_as_the_orm_does(
    chat: Chat, db: Database
) -> None:
    await setup_pairs(chat)
    assert db.reader is not None and chat.engine.program_id is not None
    key = people.IdentityKey("local", "", "alice")
    read = await read_speaker(db.reader, key, chat.engine.program_id)
    assert read is not None and read.pairs is not None and read.profile is not None
    async with db.transaction() as session:
        loaded = await people.load_speaker(session, key, chat.engine.program_id)
        assert loaded is not None and loaded.profile is not None
        pairs = await pairs_of(session, loaded.person.id, chat.engine.program_id)

        def values(obj: object) -> dict[str, object]:
            return {a.key: getattr(obj, a.key) for a in type(obj).__mapper__.column_attrs}  # type: ignore[attr-defined]

        assert values(read.identity) == values(loaded.identity)
        assert values(read.person) == values(loaded.person)
        assert values(read.profile) == values(loaded.profile)
        assert [values(p) for p in read.pairs] == [values(p) for p in pairs]
    assert read.reference == loaded.reference
    assert read.profile.languages == ["en", "de"]
    assert read.identity.last_seen_at is not None
    assert read.identity.last_seen_at.tzinfo == UTC
    assert [p.state for p in read.pairs] == ["active"]
    assert read.pairs[0].next_meeting_at is not None
    assert read.pairs[0].next_meeting_at > chat.now - timedelta(days=1)
    nobody = people.IdentityKey("local", "", "nobody")
    assert await read_speaker(db.reader, nobody, chat.engine.program_id) is None


async def test_statuses_asked_together_each_get_their_own_answer(chat: Chat) -> None:
    """On PostgreSQL the reads of turns arriving together share one statement."""
    users = [f"user{n}" for n in range(12)]
    for n, user in enumerate(users):
        await chat.say(user, "join mentee")
        await chat.say(user, f"profile set wants=topic-{n}-x")
    askers = [*users, *users[:3], "stranger"]
    replies = await asyncio.gather(*(chat.text(user, "status") for user in askers))
    for user, reply in zip(askers[:-1], replies, strict=False):
        assert f"topic-{users.index(user)}-x" in reply
        assert reply.count("topic-") == 1
    assert "haven't joined" in replies[-1]
