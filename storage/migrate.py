"""Apply Alembic migrations from inside the running event loop.

Alembic's command API is synchronous; it is run on an async connection via
`run_sync`, the pattern from Alembic's cookbook, so `mentorbot migrate`, start
up and the tests all share one code path.

Every command brings the schema to head first, and almost always it is there already.
Loading Alembic to find that out would cost most of a `mentorbot chat`'s start-up, so
`upgrade` first compares the stored revision with the head named in the migration files,
and only loads Alembic when they differ (or when the files are not a plain line of
revisions it can read without Alembic).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from storage.coordination import migration_lock
from storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).parent
_VERSIONS = _HERE / "migrations" / "versions"
# `revision: str = "0002_matching"`, `down_revision: str | None = "0001"` (or None), as
# Alembic's script template writes them; anything else leaves the question to Alembic.
_ASSIGNMENT = re.compile(
    r"^(revision|down_revision|depends_on)\b[^=\n]*=\s*(None|\"[^\"\n]+\"|'[^'\n]+')\s*$",
    re.MULTILINE,
)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    if revision == "head" and await _at_head(db):
        return
    from alembic import command

    cfg = alembic_config()

    def _upgrade(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with _migrating(db) as conn:
        await migration_lock(conn)  # replicas starting together upgrade one at a time
        await conn.run_sync(_upgrade)


@asynccontextmanager
async def _migrating(db: Database) -> AsyncIterator[AsyncConnection]:
    """A transaction for the migration. On PostgreSQL its own connection, without the
    per-statement bound every other query has (Timeouts: `migrating`): with it, a replica
    waiting its turn for the lock gave up after 5 s while another migrated a loaded
    server (seen in CI's soak, December 2026)."""
    if db.is_sqlite:
        async with db.engine.begin() as conn:
            yield conn
        return
    engine = create_async_engine(
        db.url,
        poolclass=NullPool,
        hide_parameters=True,
        connect_args=db.timeouts.asyncpg_connect_args(migrating=True),
    )
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def script_head(versions: Path = _VERSIONS) -> str | None:
    """The head revision read from the migration files without loading Alembic: the one
    `revision` no file names as its `down_revision`. None unless every file is a plain
    `revision = "…"`, `down_revision = "…" | None`, `depends_on = None` step of one
    unbranched line (a merge, a branch or a dependency: only Alembic knows then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        if path.name == "__init__.py":
            continue
        found: dict[str, str | None] = {}
        for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
            if name in found:
                return None
            found[name] = None if value == "None" else value[1:-1]
        revision, parent = found.get("revision"), found.get("down_revision", "")
        if revision is None or parent == "" or found.get("depends_on") is not None:
            return None
        if revision in revisions or (parent is not None and parent in parents):
            return None  # the same id twice, or a branch point
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


async def _at_head(db: Database) -> bool:
    """Whether the database already stands at the head revision (a cheap read; False when
    unsure, e.g. a new database without Alembic's version table)."""
    head = script_head()
    if head is None:
        return False
    try:
        async with db.engine.connect() as conn:
            stored = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:
        return False
    return [row[0] for row in stored] == [head]
