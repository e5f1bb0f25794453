"""`column IN ids`, written the way each database plans best."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


def among(
    session: AsyncSession,
    column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    ids: Sequence[int],
) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `= ANY(array)`: one parameter however many ids, so
    the statement is prepared once instead of once per batch size."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))
