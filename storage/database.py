"""One handle on the database: URL normalisation, engine, sessions.

`DATABASE_URL` may be a plain `postgresql://…` or `sqlite:///file.db`; the
async drivers (asyncpg, aiosqlite) are chosen here so operators never need to
know them. SQLite runs in WAL mode with a busy timeout so the web chat, the
console and the scheduler can share one file.
"""

from __future__ import annotations

import asyncio
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
from storage.timeouts import Timeouts

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
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


class DatabaseUnreachable(Exception):
    """The database did not answer at start: one line for the operator, no traceback."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(Timeouts.from_env().sqlite_busy * 1000)}")
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
        self.timeouts = Timeouts.from_env()
        # hide_parameters: a failing statement's error (and so a log line) never carries
        # the values bound to it, which are people's names, notes and agendas.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if not self.is_sqlite:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_timeout=self.timeouts.pool,
                connect_args=self.timeouts.asyncpg_connect_args(),
            )
        elif async_creator is not None:
            kwargs.update(async_creator=async_creator)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._ping: asyncio.Task[bool] | None = None
        # An in-memory SQLite database exists only inside the engine's own connection.
        self.reader: Reader | None = (
            None
            if self.is_sqlite and self.url.database in (None, "", ":memory:")
            else Reader(self.engine, size=pool_size, timeouts=self.timeouts)
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

    async def ping(self, within: float = 1.5) -> bool:
        """True when a trivial query succeeds within `within` seconds; used by /readyz,
        which must answer in time even while the database hangs. The query is not
        cancelled at the deadline (closing a hung connection hangs too): it ends on its
        own statement timeout, and until then later pings wait on it, not on a new one."""
        if self._ping is None or self._ping.done():
            self._ping = asyncio.create_task(self._select_one())
        ping = self._ping  # a later ping may start the next one while this one waits
        done, _ = await asyncio.wait({ping}, timeout=within)
        return bool(done) and ping.result()

    async def _select_one(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def check_reachable(self) -> None:
        """Raise DatabaseUnreachable, with the reason in one line, unless a connection opens
        and answers within the connect timeout (and a second for the query)."""
        try:
            async with asyncio.timeout(self.timeouts.connect + 1.0):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as err:
            cause = getattr(err, "orig", None) or err
            reason = (str(cause).splitlines() or [""])[0] or "no answer"
            raise DatabaseUnreachable(
                f"mentorbot: the database {self.describe()} is unreachable "
                f"({type(cause).__name__}: {reason}); start it or fix DATABASE_URL."
            ) from None

    async def dispose(self) -> None:
        if self._ping is not None and not self._ping.done():
            self._ping.cancel()
        if self.reader is not None:
            await self.reader.close()
        await self.engine.dispose()
