"""Storage on SQLite and PostgreSQL: one suite, parametrised over both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage import inbound, outbox, people, programs, references
from storage.database import Database, async_url
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Base, OutboxMessage, Pair, Program
from storage.simulation import single_process_database
from storage.states import PairState, ProfileStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_schema_is_at_head_and_matches_the_models(db: Database) -> None:
    assert await current_revision(db) == head_revision()

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_identities_link_to_one_person_by_email(db: Database) -> None:
    async with db.transaction() as s:
        slack = await people.upsert_identity(
            s,
            people.IdentityKey("slack", "T1", "U1"),
            display_name="Ann",
            email="Ann@Example.com",
            now=NOW,
        )
        teams = await people.upsert_identity(
            s,
            people.IdentityKey("teams", "tenant", "aad-1"),
            display_name="Ann B",
            email="ann@example.com",
            now=NOW,
        )
        other = await people.upsert_identity(
            s, people.IdentityKey("slack", "T1", "U2"), display_name="Bo", now=NOW
        )
    assert slack.person_id == teams.person_id != other.person_id
    async with db.transaction() as s:
        again = await people.upsert_identity(
            s,
            people.IdentityKey("slack", "T1", "U1"),
            display_name="Ann Smith",
            timezone="Europe/Oslo",
            now=NOW + timedelta(hours=1),
        )
        assert again.id == slack.id and again.timezone == "Europe/Oslo"
        assert len(await people.identities_of(s, slack.person_id)) == 2
        found = await people.find_identity_by_name(s, "slack", "T1", "ann smith")
        assert [i.id for i in found] == [slack.id]


async def test_datetimes_come_back_aware_utc_and_naive_ones_are_refused(db: Database) -> None:
    berlin = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).astimezone()
    async with db.transaction() as s:
        identity = await people.upsert_identity(
            s, people.IdentityKey("local", "", "a"), display_name="a", now=berlin
        )
    async with db.transaction() as s:
        fetched = await people.find_identity(s, people.IdentityKey("local", "", "a"))
        assert fetched is not None and fetched.created_at == berlin
        assert fetched.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"):
        async with db.transaction() as s:
            await people.upsert_identity(
                s, people.IdentityKey("local", "", "b"), display_name="b", now=datetime(2026, 1, 1)
            )
    assert identity.id


async def test_profiles_are_unique_per_person_and_program(db: Database) -> None:
    async with db.transaction() as s:
        program = await programs.ensure_program(s, "default", "P", None, NOW)
        ident = await people.upsert_identity(
            s, people.IdentityKey("local", "", "a"), display_name="a", now=NOW
        )
        first = await people.get_or_create_profile(s, ident.person_id, program.id, NOW)
        second = await people.get_or_create_profile(s, ident.person_id, program.id, NOW)
        assert first.id == second.id
        first.status, first.paused_until = ProfileStatus.PAUSED, NOW
        assert await people.count_profiles_by_status(s, program.id) == {"paused": 1}
        assert [p.id for p in await people.profiles_paused_until(s, program.id, NOW)] == [first.id]
        assert await people.profiles_paused_until(s, program.id, NOW - timedelta(seconds=1)) == []


async def test_pairs_hold_their_agreement_and_state(db: Database) -> None:
    async with db.transaction() as s:
        program = await programs.ensure_program(s, "default", "P", None, NOW)
        a = await people.upsert_identity(
            s, people.IdentityKey("local", "", "a"), display_name="a", now=NOW
        )
        b = await people.upsert_identity(
            s, people.IdentityKey("local", "", "b"), display_name="b", now=NOW
        )
        s.add(
            Pair(
                program_id=program.id,
                mentee_id=a.person_id,
                mentor_id=b.person_id,
                state="active",
                proposed_at=NOW,
                reasons=["you both like python"],
                cadence="weekly",
                lapse_step=0,
                lapse_cycle=0,
            )
        )
    async with db.transaction() as s:
        from storage.pairs import pairs_of

        pairs = await pairs_of(s, a.person_id, program.id)
        assert [(p.state, p.reasons) for p in pairs] == [("active", ["you both like python"])]
        assert await pairs_of(s, a.person_id, program.id, states=[PairState.ENDED]) == []


async def _person(db: Database, user: str) -> int:
    async with db.transaction() as s:
        ident = await people.upsert_identity(
            s, people.IdentityKey("local", "", user), display_name=user, now=NOW
        )
        return ident.person_id


async def test_outbox_enqueue_is_idempotent(db: Database) -> None:
    pid = await _person(db, "a")
    async with db.transaction() as s:
        assert await outbox.enqueue(
            s,
            key="k1",
            kind="nudge",
            payload={"text": "hi"},
            now=NOW,
            person_id=pid,
            platform="local",
        )
        assert not await outbox.enqueue(
            s,
            key="k1",
            kind="nudge",
            payload={"text": "again"},
            now=NOW,
            person_id=pid,
            platform="local",
        )
    async with db.transaction() as s:
        rows = list(await s.scalars(select(OutboxMessage)))
    assert [(r.idempotency_key, r.payload) for r in rows] == [("k1", {"text": "hi"})]


async def test_outbox_claim_lease_and_release(db: Database) -> None:
    pid = await _person(db, "a")
    async with db.transaction() as s:
        for i in range(3):
            await outbox.enqueue(
                s,
                key=f"k{i}",
                kind="n",
                payload={"text": str(i)},
                now=NOW + timedelta(seconds=i),
                person_id=pid,
                platform="local",
            )
        await outbox.enqueue(
            s,
            key="later",
            kind="n",
            payload={},
            now=NOW,
            person_id=pid,
            platform="local",
            not_before=NOW + timedelta(hours=1),
        )
        await outbox.enqueue(
            s, key="slack", kind="n", payload={}, now=NOW, person_id=pid, platform="slack"
        )
    async with db.transaction() as s:
        claimed = await outbox.claim(
            s, now=NOW + timedelta(minutes=1), worker="w1", platforms=["local"], limit=2
        )
    assert [r.idempotency_key for r in claimed] == ["k0", "k1"]
    assert all(r.status == "sending" and r.attempts == 1 for r in claimed)
    async with db.transaction() as s:
        assert not await outbox.mark_sent(s, claimed[0].id, "w2", NOW)  # not w2's row
        assert await outbox.mark_sent(s, claimed[0].id, "w1", NOW)
        await outbox.release(
            s, claimed[1].id, "w1", retry_at=NOW + timedelta(minutes=10), error="429"
        )
    async with db.transaction() as s:
        now = NOW + timedelta(minutes=2)
        third = await outbox.claim(s, now=now, worker="w2", platforms=["local"])
    assert [r.idempotency_key for r in third] == ["k2"]
    # w2 dies holding k2; once the lease runs out, anyone may take it again.
    async with db.transaction() as s:
        assert (
            await outbox.claim(s, now=now + timedelta(minutes=1), worker="w3", platforms=["local"])
            == []
        )
    async with db.transaction() as s:
        retaken = await outbox.claim(
            s, now=now + timedelta(minutes=11), worker="w3", platforms=["local"]
        )
    assert sorted(r.idempotency_key for r in retaken) == ["k1", "k2"]
    assert {r.idempotency_key: r.attempts for r in retaken} == {"k1": 2, "k2": 2}


async def test_concurrent_claims_take_disjoint_rows(db: Database) -> None:
    pid = await _person(db, "a")
    async with db.transaction() as s:
        for i in range(200):
            await outbox.enqueue(
                s, key=f"k{i}", kind="n", payload={}, now=NOW, person_id=pid, platform="local"
            )

    async def worker(name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with db.transaction() as s:
                rows = await outbox.claim(s, now=NOW, worker=name, platforms=["local"], limit=7)
            if not rows:
                return got
            got.extend(r.id for r in rows)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    everything = [row_id for result in results for row_id in result]
    assert len(everything) == 200 and len(set(everything)) == 200


async def test_processed_events_detect_retries(db: Database) -> None:
    async with db.transaction() as s:
        assert await inbound.first_time_seen(s, "slack", "Ev1", NOW)
        assert not await inbound.first_time_seen(s, "slack", "Ev1", NOW)
        assert await inbound.first_time_seen(s, "teams", "Ev1", NOW)
    async with db.transaction() as s:
        assert await inbound.forget_before(s, NOW + timedelta(days=1)) == 2
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            from storage.models import ProcessedEvent

            s.add(ProcessedEvent(platform="x", event_id="e", received_at=NOW))
            s.add(ProcessedEvent(platform="x", event_id="e", received_at=NOW))


async def test_conversation_references_upsert(db: Database) -> None:
    async with db.transaction() as s:
        ident = await people.upsert_identity(
            s, people.IdentityKey("teams", "t", "aad"), display_name="T", now=NOW
        )
        await references.save_reference(s, ident.id, {"conversation": {"id": "a"}}, NOW)
    async with db.transaction() as s:
        await references.save_reference(s, ident.id, {"conversation": {"id": "b"}}, NOW)
    async with db.transaction() as s:
        assert await references.get_reference(s, ident.id) == {"conversation": {"id": "b"}}
        found = await references.reachable_identity(s, ident.person_id, "teams")
        assert found is not None and found[1] == {"conversation": {"id": "b"}}
        assert await references.reachable_identity(s, ident.person_id, "slack") is None


def test_database_urls_are_mapped_to_async_drivers() -> None:
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError, match="supports sqlite"):
        async_url("mysql://u@h/db")


async def test_a_single_process_sqlite_file_commits_rolls_back_and_reports_conflicts(
    tmp_path: Path,
) -> None:
    """The simulation's driver (statements on the event loop's thread) keeps the contract
    the engine relies on: migrations, commit, rollback, IntegrityError, rowcount, datetimes."""
    db = single_process_database(f"sqlite:///{tmp_path}/one.db")
    try:
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        async with db.transaction() as s:
            ident = await people.upsert_identity(
                s, people.IdentityKey("local", "", "ann"), display_name="Ann", now=NOW
            )
            assert await outbox.enqueue(s, key="k", kind="x", payload={}, now=NOW)
            assert not await outbox.enqueue(s, key="k", kind="x", payload={}, now=NOW)
        with pytest.raises(RuntimeError):
            async with db.transaction() as s:
                await people.upsert_identity(
                    s, people.IdentityKey("local", "", "bo"), display_name="Bo", now=NOW
                )
                raise RuntimeError("roll back")
        with pytest.raises(IntegrityError):
            async with db.transaction() as s:
                await programs.ensure_program(s, "p", "P", None, NOW)
                await s.flush()
                s.add(Program(slug="p", name="again", settings={}, created_at=NOW))
        async with db.transaction() as s:
            found = await people.find_identity(s, people.IdentityKey("local", "", "ann"))
            assert found is not None and found.id == ident.id and found.created_at == NOW
            assert await people.find_identity(s, people.IdentityKey("local", "", "bo")) is None
    finally:
        await db.dispose()
