"""Apply Alembic migrations from inside the running event loop.

Alembic's command API is synchronous; it is run on an async connection via
`run_sync`, the pattern from Alembic's cookbook, so `mentorbot migrate`, start
up and the tests all share one code path.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.coordination import migration_lock
from storage.database import Database

_HERE = Path(__file__).parent


def alembic_config() -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    cfg = alembic_config()

    def _upgrade(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await migration_lock(conn)  # replicas starting together upgrade one at a time
        await conn.run_sync(_upgrade)


async def current_revision(db: Database) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
