"""Migration 0007 on a database populated at the previous head (0006): every meeting and
its feedback survive, an open lapse keeps its ladder (its start becomes `lapse_since`), and
a scheduled meeting the old `met` had hidden (`next_meeting_at` cleared) is back in the
plan: the next sweep prompts for it. On SQLite and PostgreSQL, each on a fresh database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Insert, MetaData, Table, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.sql import FromClause

from conversations.engine import Engine
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Identity, Lapse, Meeting, MeetingFeedback, Pair, Person, Program
from tests.conftest import PG_ENV

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PREVIOUS_HEAD = "0006_chat_history"


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database (no schema yet) of each kind."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'old.db'}")
        yield db
        await db.dispose()
        return
    import os

    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set; PostgreSQL tests need a server (.ci/run sets it)")
    name = f"mentorbot_migrate_{uuid.uuid4().hex[:10]}"
    await execute_autocommit(base, f'CREATE DATABASE "{name}"')
    db = Database(make_url(base).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        await db.dispose()
        await execute_autocommit(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Columns later migrations add whose Python-side default an insert would otherwise name.
LATER = {"meetings": {"uid"}}


def _row(table: FromClause, **values: object) -> Insert:
    """An insert naming only the columns the old schema has."""
    assert isinstance(table, Table)
    later = LATER.get(table.name, set())
    if later:
        kept = (c._copy() for c in table.columns if c.name not in later)
        table = Table(table.name, MetaData(), *kept)
    return insert(table).values(**values)


async def test_the_ledger_migration_keeps_every_meeting(fresh: Database) -> None:
    await upgrade(fresh, PREVIOUS_HEAD)
    assert await current_revision(fresh) == PREVIOUS_HEAD
    friday = NOW + timedelta(days=4)
    async with fresh.transaction() as s:
        await s.execute(_row(Program.__table__, id=1, slug="default", name="P", created_at=NOW))
        for pid, name in ((1, "Ann"), (2, "Bo"), (3, "Cy"), (4, "Di")):
            await s.execute(_row(Person.__table__, id=pid, display_name=name, created_at=NOW))
            await s.execute(
                _row(
                    Identity.__table__,
                    person_id=pid,
                    platform="local",
                    tenant="",
                    user_id=name.lower(),
                    display_name=name,
                    created_at=NOW,
                )
            )
        common = dict(program_id=1, state="active", proposed_at=NOW, activated_at=NOW)
        # Pair 1: the old `met` logged an ad-hoc meeting and hid Friday's scheduled one.
        await s.execute(
            _row(Pair.__table__, id=1, mentee_id=1, mentor_id=2, silent_since=NOW, **common)
        )
        # Pair 2: lapsed, on the ladder's second rung.
        began = NOW - timedelta(days=6)
        await s.execute(
            _row(
                Pair.__table__,
                id=2,
                mentee_id=3,
                mentor_id=4,
                lapse_step=2,
                due_at=NOW + timedelta(days=2),
                **common,
            )
        )
        await s.execute(
            _row(Lapse.__table__, pair_id=2, program_id=1, cycle=0, began_at=began, step=2)
        )
        rows = [
            (1, 1, friday, "scheduled", None),
            (2, 1, NOW, "held", NOW),
            (3, 2, NOW - timedelta(days=30), "held", NOW - timedelta(days=30)),
            (4, 2, NOW - timedelta(days=20), "skipped", None),
            (5, 2, NOW - timedelta(days=10), "cancelled", None),
        ]
        for mid, pair_id, at, status, held in rows:
            await s.execute(
                _row(
                    Meeting.__table__,
                    id=mid,
                    pair_id=pair_id,
                    scheduled_at=at,
                    duration_minutes=45,
                    status=status,
                    created_at=NOW - timedelta(days=40),
                    held_at=held,
                    sequence=0,
                )
            )
        await s.execute(
            _row(MeetingFeedback.__table__, meeting_id=2, person_id=1, met=True, created_at=NOW)
        )

    await upgrade(fresh)
    assert await current_revision(fresh) == head_revision()
    async with fresh.transaction() as s:
        kept = [
            (m.id, m.pair_id, m.status, m.held_at)
            for m in await s.scalars(select(Meeting).order_by(Meeting.id))
        ]
        assert kept == [(mid, p, st, held) for mid, p, _, st, held in rows]
        assert [f.meeting_id for f in await s.scalars(select(MeetingFeedback))] == [2]
        one, two = (await s.get(Pair, 1)), (await s.get(Pair, 2))
        assert one is not None and two is not None
        assert one.next_meeting_at == friday and one.due_at is not None and one.due_at <= NOW
        assert (two.lapse_step, two.lapse_since) == (2, began)
        assert one.lapse_since is None

    # The repaired meeting is in the plan again: its agenda prompt goes out on time.
    engine = Engine(fresh, Policy())
    kinds = [i.kind for i in await engine.sweep(NOW, dry_run=True)]
    assert "agenda-prompt" not in kinds
    kinds = [i.kind for i in await engine.sweep(friday - timedelta(hours=24), dry_run=True)]
    assert "agenda-prompt" in kinds
