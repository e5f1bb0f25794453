"""Reads on the hot path, straight on the async driver: one driver call per statement.

Through an ORM session a one-statement read costs many times what the driver
call alone costs (session and transaction bookkeeping, greenlet switches,
BEGIN/COMMIT round trips, and four aiosqlite thread hops per statement). A
`Reader` runs a Core select compiled once per dialect by SQLAlchemy (`Query`) on
connections of its own, in autocommit: one round trip on PostgreSQL (asyncpg
keeps the prepared statement per connection), and on SQLite a plain `sqlite3`
call on the event loop's own thread. That is on purpose: an indexed read of a few
rows costs less than handing it to aiosqlite's worker thread and back, and on a
busy machine far less (the woken thread and the loop contend for the GIL and the
CPU). In WAL mode a reader never waits for a writer, so the call cannot block the
loop for longer than the read itself. The measurements behind this are in
docs/decisions/0002-fast-read-path.md. Rows pass through
SQLAlchemy's own result processors, so values come back typed exactly as the
ORM hands them (aware UTC datetimes, decoded JSON).

The connections are read-only (SQLite `PRAGMA query_only`, PostgreSQL
`default_transaction_read_only`): nothing read this way can write, and every
read sees what was committed before it began, by any process.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeEngine

from storage.timeouts import Timeouts

if TYPE_CHECKING:  # the driver loads when a PostgreSQL pool opens, not on SQLite
    import asyncpg

Row = tuple[Any, ...]
# URL query options SQLAlchemy's asyncpg dialect takes for itself, not asyncpg's.
_SQLALCHEMY_ONLY = frozenset(
    ("async_fallback", "prepared_statement_cache_size", "prepared_statement_name_func")
)


class Query:
    """A Core select compiled for one dialect, with its parameter order and result processors.

    Use `==` / `or_` rather than `in_()` in such a statement: an IN list is expanded per
    execution, which a statement compiled once cannot do.
    """

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.defaults: dict[str, Any] = dict(compiled.params)  # literals in the statement
        self._statement = statement
        self._dialect = dialect
        self._processors: list[tuple[int, Callable[[Any], Any]]] | None = None

    @property
    def typed(self) -> bool:
        return self._processors is not None

    def set_column_types(self, codes: Sequence[Any]) -> None:
        """Pick the result processors for the driver's column type codes (asyncpg's type
        OIDs; None on SQLite), as SQLAlchemy does from a cursor description."""
        columns = self._statement.selected_columns
        processors = [
            _result_processor(column.type, self._dialect, code)
            for column, code in zip(columns, codes, strict=True)
        ]
        self._processors = [(i, p) for i, p in enumerate(processors) if p is not None]

    def parameters(self, values: dict[str, Any]) -> list[Any]:
        """Positional parameters; values are passed as given (no bind processing: bind
        strings and numbers)."""
        return [values[name] if name in values else self.defaults[name] for name in self.names]

    def row(self, raw: Sequence[Any]) -> Row:
        assert self._processors is not None, "set_column_types first"
        if not self._processors:
            return tuple(raw)
        row = list(raw)
        for i, process in self._processors:
            row[i] = process(row[i])
        return tuple(row)


# (column type, dialect, driver type code) → its result processor, as SQLAlchemy keeps
# per dialect for its own results: a type's processor is picked once, not per query.
_PROCESSORS: dict[tuple[TypeEngine[Any], Dialect, Any], Callable[[Any], Any] | None] = {}


def _result_processor(
    kind: TypeEngine[Any], dialect: Dialect, code: Any
) -> Callable[[Any], Any] | None:
    """The function that turns the driver's value of a `kind` column into what the ORM
    hands out (None: the value is right as it is), through public API only."""
    key = (kind, dialect, code)
    if key not in _PROCESSORS:
        _PROCESSORS[key] = kind.dialect_impl(dialect).result_processor(dialect, code)
    return _PROCESSORS[key]


class Reader:
    """Read-only autocommit connections beside the engine's pool, opened on first use."""

    def __init__(
        self, engine: AsyncEngine, *, size: int = 4, timeouts: Timeouts | None = None
    ) -> None:
        self.engine = engine
        self.timeouts = timeouts or Timeouts()
        self.dialect = engine.dialect
        self.size = size
        self._queries: dict[int, tuple[Select[Any], Query]] = {}
        self._sqlite: sqlite3.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    def query(self, statement: Select[Any]) -> Query:
        """The statement compiled for this database, once per statement object (build
        statements once, at import, as module constants)."""
        found = self._queries.get(id(statement))
        if found is None or found[0] is not statement:
            found = self._queries[id(statement)] = (statement, Query(statement, self.dialect))
        return found[1]

    async def all(self, statement: Select[Any], values: dict[str, Any]) -> list[Row]:
        """Every row of `statement` with `values` bound, as the ORM would type them."""
        query = self.query(statement)
        parameters = query.parameters(values)
        if self.dialect.name == "sqlite":
            if not query.typed:
                query.set_column_types([None] * len(statement.selected_columns))
            connection = self._sqlite or self._open_sqlite()
            rows: Sequence[Sequence[Any]] = connection.execute(query.sql, parameters).fetchall()
        else:
            pool = self._pool or await self._open_pool()
            async with pool.acquire(timeout=self.timeouts.pool) as conn:
                if not query.typed:  # asyncpg keeps the prepared statement for `fetch`
                    prepared = await conn.prepare(query.sql)
                    query.set_column_types([a.type.oid for a in prepared.get_attributes()])
                rows = await conn.fetch(query.sql, *parameters)
        return [query.row(raw) for raw in rows]

    def _open_sqlite(self) -> sqlite3.Connection:
        args, kwargs = self.dialect.create_connect_args(self.engine.url)
        connection = sqlite3.connect(
            str(args[0]), isolation_level=None, uri=bool(kwargs.get("uri", False))
        )
        # A WAL reader does not wait for writers; should it ever find the file busy
        # (recovery after a crash), it fails at once and the caller takes its slow path.
        for pragma in ("busy_timeout=0", "query_only=ON"):
            connection.execute(f"PRAGMA {pragma}")
        self._sqlite = connection
        return connection

    async def _open_pool(self) -> asyncpg.Pool:
        import asyncpg

        async with self._opening:
            if self._pool is None:
                _, kwargs = self.dialect.create_connect_args(self.engine.url)
                kwargs = {k: v for k, v in kwargs.items() if k not in _SQLALCHEMY_ONLY}
                self._pool = await asyncpg.create_pool(
                    min_size=1,
                    max_size=self.size,
                    init=_json_codecs,
                    reset=_keep,  # autocommit reads leave no session state behind to reset
                    max_inactive_connection_lifetime=0,  # no timer set and cancelled per read
                    **{**kwargs, **self.timeouts.asyncpg_connect_args(read_only=True)},
                )
            return self._pool

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """Decode JSON as SQLAlchemy's asyncpg dialect does (its result processor is then a no-op)."""
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(
            kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep(connection: asyncpg.Connection) -> None:
    return None
