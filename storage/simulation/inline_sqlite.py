"""SQLite for SQLAlchemy's asyncio engine without aiosqlite's worker thread.

aiosqlite runs every driver call (cursor, execute, fetch, close, commit) on its own
thread and wakes the event loop for each result: four thread hops per statement,
which cost more than the statement itself (about 1.3 ms of CPU per turn of ten
statements on the 2-core CI machine, measured by bench/simulate.py). A database file
that only one process ever uses, like `mentorbot simulate`'s throwaway one, can run
each call on the event loop's thread instead: the calls return in microseconds and
nobody else can hold the write lock, so nothing waits.

`connect(path)` is the `async_creator` for `create_async_engine` with the
`sqlite+aiosqlite` dialect: it returns an object with the shape that dialect's
adapter drives (an aiosqlite-like connection and cursors with awaitable methods).
Never use it for a file other processes write (the bot, the console, the scheduler):
a wait for their lock would block the whole event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any


class Cursor:
    """An aiosqlite-shaped cursor whose awaitables complete at once."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Connection:
    """An aiosqlite-shaped connection over a plain `sqlite3` connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        # The dialect's adapter tests `_connection` to know the connection is open.
        self._connection: sqlite3.Connection | None = connection

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], *, deterministic: bool = False
    ) -> None:
        self._conn.create_function(name, num_params, func, deterministic=deterministic)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def connect(path: str, **kwargs: Any) -> Connection:
    """Open `path` as aiosqlite would (same `sqlite3.connect` arguments), minus the thread."""
    return Connection(sqlite3.connect(path, check_same_thread=False, **kwargs))


def creator(path: str) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine`: a new connection to `path` per call."""

    async def make() -> Connection:
        return await connect(path)

    return make
