"""Bulk writes that cost one statement, not one per row: inserts (proposals, outbox rows)
and the sweep's updates of pairs and meetings. The only place that writes bulk SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

_SQLITE_VARIABLES = 32766  # SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32


async def insert_many(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_duplicate: str | None = None,
    returning: str | None = None,
) -> list[Any]:
    """Insert rows (all with the same keys) in bulk, skipping any whose `skip_duplicate`
    column (a unique one) is taken.

    Values go through each column type's own bind processing (as in any insert), once
    per distinct value: a round's rows share their timestamps and many payloads. Then
    on PostgreSQL one statement over arrays, a column each (INSERT … SELECT FROM
    unnest): the server plans and runs one insert, not one per row. On SQLite the
    driver's executemany (in process: no round trips to save), or, when `returning` names
    a column, multi-row VALUES within SQLite's variable limit. Returns that column of the
    rows actually inserted (a skipped duplicate returns nothing), else [].
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = list(rows[0])
    columns = [_bound([row[name] for row in rows], table.c[name].type, dialect) for name in names]
    into = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
    conflict = f" ON CONFLICT ({quote(skip_duplicate)}) DO NOTHING" if skip_duplicate else ""
    tail = f"{conflict} RETURNING {quote(returning)}" if returning else conflict
    await session.flush()  # pending ORM rows first, as a session.execute would (autoflush)
    conn = await session.connection()
    if dialect.name == "postgresql":
        arrays = ", ".join(
            f"CAST(:c{k} AS {table.c[n].type.compile(dialect)}[])" for k, n in enumerate(names)
        )
        result = await conn.execute(
            text(f"{into}SELECT * FROM unnest({arrays}){tail}"),
            {f"c{k}": values for k, values in enumerate(columns)},
        )
        return list(result.scalars()) if returning else []
    marks = "(" + ", ".join("?" for _ in names) + ")"
    tuples = list(zip(*columns, strict=True))
    if not returning:
        await conn.exec_driver_sql(f"{into}VALUES {marks}{conflict}", tuples)
        return []
    found: list[Any] = []
    step = _SQLITE_VARIABLES // len(names)
    for k in range(0, len(tuples), step):
        part = tuples[k : k + step]
        flat = tuple(value for row in part for value in row)
        result = await conn.exec_driver_sql(
            f"{into}VALUES {', '.join(marks for _ in part)}{tail}", flat
        )
        found += result.scalars()
    return found


async def update_many(
    session: AsyncSession, model: type[Any], rows: Sequence[Any], columns: Sequence[str]
) -> None:
    """Write `columns` of many rows (objects with an `id` and those attributes) to the
    mapped class `model`'s table, by id.

    On PostgreSQL one statement, one round trip, one cached plan: the values go as
    arrays, a column each, typed and bound like `insert_many`'s, unnested into a join.
    On SQLite the ORM's bulk UPDATE by primary key, an executemany (in process: no
    round trips to save).
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        await session.execute(
            update(model), [{"id": r.id, **{n: getattr(r, n) for n in columns}} for r in rows]
        )
        return
    table: Table = model.__table__
    names = ["id", *columns]
    kinds = {n: table.c[n].type for n in names}
    arrays = ", ".join(f"CAST(:{n} AS {kinds[n].compile(dialect)}[])" for n in names)
    sets = ", ".join(f"{n} = v.{n}" for n in columns)
    # `t.id = ANY(:id)` as well as the join: it gives the planner an index condition
    # on the table, so it probes the primary key instead of hashing every row.
    sql = (
        f"UPDATE {table.name} AS t SET {sets} "
        f"FROM unnest({arrays}) AS v({', '.join(names)}) "
        f"WHERE t.id = v.id AND t.id = ANY(CAST(:id AS {kinds['id'].compile(dialect)}[]))"
    )
    params = {n: _bound([getattr(r, n) for r in rows], kinds[n], dialect) for n in names}
    await session.execute(text(sql), params)


def _bound(values: list[Any], kind: TypeEngine[Any], dialect: Dialect) -> list[Any]:
    """A column's values as the driver takes them; each distinct value processed once
    (unhashable ones, such as JSON documents, by identity; the type is part of the key,
    so True and 1 stay apart)."""
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    done: dict[Any, Any] = {}
    out: list[Any] = []
    for value in values:
        try:
            key: Any = (type(value), value)
            hash(key)
        except TypeError:
            key = (None, id(value))
        if key not in done:
            done[key] = process(value)
        out.append(done[key])
    return out
