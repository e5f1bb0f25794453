"""Fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

Migrations run once per session, never per test. SQLite: a migrated template file is
copied for each test. PostgreSQL uses MENTORBOT_TEST_DATABASE_URL (set by .ci/run;
without it those tests are skipped with that reason): a throwaway database is created
on that server for the run, migrated once and dropped afterwards, and each test starts
from it emptied with one statement (DELETE every table, restart every sequence). A copy
per test (CREATE DATABASE … TEMPLATE) was measured and is slower here: the copy takes
0.13 s but each DROP DATABASE forces a checkpoint (about 2 s), and TRUNCATE takes 0.45 s
against this statement's 0.01 s (PostgreSQL 15, December 2026).

Under pytest-xdist (`make test` runs three workers on two cores) every session fixture
here is made once per worker: each worker migrates its own SQLite template (in its own
basetemp) and its own uniquely named PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conversations.engine import Engine
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from storage.models import Base
from tests.doubles.bot_connector import BotConnector
from tests.harness import Chat

PG_ENV = "MENTORBOT_TEST_DATABASE_URL"
PG_SKIP = f"{PG_ENV} is not set; PostgreSQL tests need a server (.ci/run sets it)"
# Where the summary points for that skip: the line above (0-based, as pytest counts).
_PG_SKIP_LINE = (
    Path(__file__)
    .read_text()
    .splitlines()
    .index('PG_SKIP = f"{PG_ENV} is not set; PostgreSQL tests need a server (.ci/run sets it)"')
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Every test skipped for want of PostgreSQL is reported at one place (the skip in
    `postgres_url`), so `-ra` sums them up in one line instead of one line per test file
    and parameter."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and isinstance(report.longrepr, tuple) and PG_SKIP in report.longrepr[2]:
        report.longrepr = (__file__, _PG_SKIP_LINE, report.longrepr[2])


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per core and one more, for the soak's worker, which mostly
    waits on its replicas (two cores, three workers: 2:25-2:38 for the suite against
    2:48 with two, December 2026). `make test` caps it with --maxprocesses."""
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The soak first: under `make test` one worker runs it, a minute mostly spent waiting
    on three replicas, while the others work through the rest; last, it would run alone
    at the end."""
    items.sort(key=lambda item: item.get_closest_marker("soak") is None)


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    name = f"mentorbot_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(execute_autocommit(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(execute_autocommit(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "mentorbot.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_reset(postgres_url: str) -> str:
    """One statement that empties every table and restarts every sequence."""

    async def sequences() -> list[str]:
        db = Database(postgres_url)
        try:
            async with db.transaction() as session:
                found = await session.scalars(
                    text(
                        "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name)"
                        " FROM information_schema.sequences"
                    )
                )
                return list(found)
        finally:
            await db.dispose()

    deletes = [f'DELETE FROM "{t.name}";' for t in reversed(Base.metadata.sorted_tables)]
    restarts = [f"PERFORM setval('{name}', 1, false);" for name in asyncio.run(sequences())]
    return "DO $$ BEGIN " + " ".join(deletes + restarts) + " END $$"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of each kind for this test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "mentorbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("postgres_url"))
    reset = str(request.getfixturevalue("postgres_reset"))

    async def empty() -> None:
        db = Database(url)
        try:
            async with db.transaction() as session:
                await session.execute(text(reset))
        finally:
            await db.dispose()

    asyncio.run(empty())
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
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


@pytest.fixture
async def connector() -> AsyncIterator[BotConnector]:
    """The Bot Framework connector double on a loopback port (tests/doubles/bot_connector.py)."""
    double = BotConnector()
    await double.start()
    yield double
    await double.stop()
