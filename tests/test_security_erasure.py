"""What is kept, and where: a decline reason never reaches the person declined; forget-me
leaves none of the person's values in any table (messages to others that quote them
included); sent and dead outbox rows lose their text after the retention time."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.delivery import DeliveryWorker
from bot.scheduler import Jobs
from conversations import reach
from conversations.messages import File, Message, Text, from_dict, to_dict
from storage import outbox
from storage.database import Database
from storage.models import Base, OutboxMessage, Person
from storage.people import IdentityKey, find_identity
from storage.states import OutboxStatus
from tests.harness import Chat

REASON = "REASON-9f3k his-manager-is-my-ex"


async def person_of(db: Database, user: str) -> int:
    async with db.transaction() as session:
        identity = await find_identity(session, IdentityKey("local", "", user))
        assert identity is not None
        return identity.person_id


async def table_dump(db: Database) -> dict[str, str]:
    """Every row of every table as text (JSON as stored and as read back)."""
    out: dict[str, str] = {}
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            out[table.name] = "\n".join(
                json.dumps([str(v) for v in row], ensure_ascii=False) + repr(tuple(row))
                for row in rows
            )
    return out


def found_in(dump: dict[str, str], canaries: list[str]) -> list[tuple[str, str]]:
    return [(name, c) for name, text in dump.items() for c in canaries if c in text]


async def outbox_messages(db: Database, person_id: int) -> list[Message]:
    async with db.transaction() as session:
        payloads = await session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.person_id == person_id)
        )
        return [from_dict(p) for p in payloads]


def everything(messages: list[Message]) -> str:
    return json.dumps([to_dict(m) for m in messages], ensure_ascii=False)


async def test_a_decline_reason_never_reaches_the_person_declined(chat: Chat, db: Database) -> None:
    await chat.say("alice", "join mentee")
    await chat.say("bob", "join mentor")
    seen_by_alice = await chat.say("alice", "request @bob")
    assert "decline" in (await chat.text("bob", f"decline {REASON}")).lower()
    alice = await person_of(db, "alice")
    for line in ("status", "home", "export-data"):
        seen_by_alice += await chat.say("alice", line)
    seen_by_alice += await outbox_messages(db, alice)
    export = next(f for m in seen_by_alice for f in m.files() if "my-data" in f.filename)
    pairs = json.loads(export.content)["pairs"]
    assert pairs[0]["end_reason"] == "declined by mentor"
    assert REASON not in everything(seen_by_alice)
    # The one who declined still has it in their own export.
    bobs = next(f for m in await chat.say("bob", "export-data") for f in m.files())
    assert REASON in bobs.content
    # forget-me (by either of them) erases it from every table.
    await chat.say("bob", "forget-me confirm")
    assert found_in(await table_dump(db), [REASON.split()[0]]) == []


async def test_forget_me_leaves_nothing_of_them_in_any_table(chat: Chat, db: Database) -> None:
    name = "Alicia CANARY-NAME-71"
    canaries = {
        "agenda": "CANARY-AGENDA-31 my promotion case",
        "commit": "CANARY-COMMIT-44 draft the talk",
        "note": "CANARY-NOTE-58 felt stuck",
        "goals": "CANARY-GOALS-12 speak at the all-hands",
        "department": "CANARY-DEPT-90",
    }
    await chat.say("alice", "join mentee")
    await chat.say("bob", "join mentor")
    async with db.transaction() as session:  # the directory's name for her
        await session.execute(
            update(Person)
            .where(Person.id == await person_of(db, "alice"))
            .values(display_name=name)
        )
    await chat.say(
        "alice", f'profile set goals="{canaries["goals"]}" department={canaries["department"]}'
    )
    await chat.say("hana", "admin pair @alice @bob")
    await chat.say("alice", "agreement agree")
    await chat.say("bob", "agreement agree")
    await chat.say("alice", "schedule tomorrow 9am")
    await chat.say("alice", f"agenda add {canaries['agenda']}")  # bob gets a copy, queued
    await chat.say("alice", f"commit {canaries['commit']}")
    await chat.say("alice", "export-data")
    async with db.transaction() as session:  # some of bob's copies already went out
        first = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.kind == "mentor-agenda")
        )
        assert first is not None
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == first)
            .values(status=OutboxStatus.SENT, sent_at=chat.now)
        )
    chat.advance(days=1, hours=2)
    await chat.say("alice", f"met {canaries['note']}")
    values = [name, *canaries.values()]
    before = found_in(await table_dump(db), values)
    assert ("outbox", canaries["agenda"]) in before  # the copy to bob quotes her agenda
    assert ("outbox", name) in before
    done = await chat.say("alice", "forget-me confirm")
    assert done[0].text.startswith("Done: I have erased")
    assert found_in(await table_dump(db), values) == []
    # Bob is still told his partner left (without her name, which is gone).
    bob = await person_of(db, "bob")
    told = [m.text for m in await outbox_messages(db, bob) if "left the mentoring" in m.text]
    assert told


async def test_forget_me_deletes_the_files_waiting_for_them(chat: Chat, db: Database) -> None:
    """A file offered through a Teams consent card (an export) waits in `offered_files`
    until saved, declined or expired; forget-me deletes it too."""
    await chat.say("alice", "join mentee")
    await chat.say("bob", "join mentor")
    for user in ("alice", "bob"):
        export = File("my-data.json", "application/json", f'{{"note": "CANARY-OFFER-{user}"}}')
        tokens = await reach.offer_files(
            db, "local", "", user, [export], chat.now, timedelta(days=7)
        )
        assert tokens is not None and len(tokens) == 1
    assert ("offered_files", "CANARY-OFFER-alice") in found_in(
        await table_dump(db), ["CANARY-OFFER-alice"]
    )
    await chat.say("alice", "forget-me confirm")
    dump = await table_dump(db)
    assert found_in(dump, ["CANARY-OFFER-alice"]) == []
    assert found_in(dump, ["CANARY-OFFER-bob"]) == [("offered_files", "CANARY-OFFER-bob")]


async def test_sent_and_dead_messages_lose_their_text_after_the_retention(
    chat: Chat, db: Database
) -> None:
    start = chat.now
    async with db.transaction() as session:
        for key, status in (
            ("sent", OutboxStatus.SENT),
            ("dead", OutboxStatus.DEAD),
            ("pending", OutboxStatus.PENDING),
            ("fresh", OutboxStatus.SENT),
        ):
            at = start if key != "fresh" else start + timedelta(days=29)
            await outbox.enqueue(
                session,
                key=key,
                kind="test",
                payload=to_dict(Message.of(Text(f"CANARY-{key} private words"))),
                now=at,
                person_id=None,
                platform="local",
                channel="C1",
            )
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.idempotency_key == key)
                .values(status=status)
            )
    later = start + timedelta(days=30, hours=1)
    jobs = Jobs(chat.engine, DeliveryWorker(db, {}, lambda: later), lambda: later)
    assert chat.engine.policy.outbox_retention == timedelta(days=30)
    await jobs.prune()
    await jobs.prune()  # idempotent
    async with db.transaction() as session:
        rows: dict[str, Any] = {
            r.idempotency_key: r.payload for r in await session.scalars(select(OutboxMessage))
        }
    assert rows["sent"] == {} and rows["dead"] == {}
    assert "CANARY-pending" in json.dumps(rows["pending"])  # still to be delivered
    assert "CANARY-fresh" in json.dumps(rows["fresh"])  # within 30 days


async def test_privacy_command_states_the_retention(chat: Chat) -> None:
    text = await chat.text("alice", "privacy")
    assert "30 days" in text and "forget-me" in text
    assert "offer you in Teams" in text and "for 7 days" in text
