"""One handle on the database: URL normalisation, engine, sessions.

`DATABASE_URL` may be a plain `postgresql://…` or `sqlite:///file.db`; the
async drivers (asyncpg, aiosqlite) are chosen here so operators never need to
know them. SQLite runs in WAL mode with a busy timeout so the web chat, the
console and the scheduler can share one file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.reader import Reader

DEFAULT_URL = "sqlite:///mentorbot.db"


def async_url(url: str) -> URL:
    """Map an operator's URL to its asyncio driver; refuse what we do not support."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(
        f"DATABASE_URL uses {backend!r}; mentorbot supports sqlite:///FILE and postgresql://…"
    )


async def execute_autocommit(url: str, statement: str) -> None:
    """Run one statement outside any transaction (CREATE/DROP DATABASE, VACUUM), as tests
    and benches do around their throwaway PostgreSQL databases."""
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """Engine plus session factory; `transaction()` is the unit of work. `reader` runs
    hot-path reads outside any session (storage/reader.py); None for in-memory SQLite."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        echo: bool = False,
        pool_size: int = 10,
        async_creator: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """`async_creator`: for SQLite, the driver connection factory to use instead of
        aiosqlite's (storage/simulation/inline_sqlite.py for the simulation's file)."""
        self.url = async_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        elif async_creator is not None:
            kwargs.update(async_creator=async_creator)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # An in-memory SQLite database exists only inside the engine's own connection.
        self.reader: Reader | None = (
            None
            if self.is_sqlite and self.url.database in (None, "", ":memory:")
            else Reader(self.engine, size=pool_size)
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def describe(self) -> str:
        """The URL without its password, for logs and messages."""
        return self.url.render_as_string(hide_password=True)

    def session(self) -> AsyncSession:
        """A session that begins a transaction only if used; the caller commits and closes it."""
        return self._sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        """True when a trivial query succeeds; used by /readyz."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self.reader is not None:
            await self.reader.close()
        await self.engine.dispose()
