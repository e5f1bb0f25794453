"""Fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL tests use MENTORBOT_TEST_DATABASE_URL (set by .ci/run); without it
they are skipped with that reason. A throwaway database is created on that
server for the run and dropped afterwards; tables are emptied between tests.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conversations.engine import Engine
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from storage.models import Base
from tests.harness import Chat

PG_ENV = "MENTORBOT_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set; PostgreSQL tests need a server (.ci/run sets it)")
    name = f"mentorbot_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(execute_autocommit(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)

    async def migrate() -> None:
        db = Database(url)
        await upgrade(db)
        await db.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(execute_autocommit(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db')}/mentorbot.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await upgrade(database)
    if not database.is_sqlite:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with database.transaction() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def policy() -> Policy:
    return Policy(program_name="Acme mentoring", admins=frozenset({"local:hana"}))


@pytest.fixture
def engine(db: Database, policy: Policy) -> Engine:
    return Engine(db, policy)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)
