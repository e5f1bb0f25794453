"""Helpers of the batch reads: `column IN ids` written the way each database plans best,
and the columns a plain-row dataclass names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def among_batches(
    session: AsyncSession, column: InstrumentedAttribute[int], ids: Sequence[int]
) -> list[ColumnElement[bool]]:
    """Conditions that together select `column` in `ids`: on PostgreSQL one `= ANY` of
    an array (one parameter, however many ids), elsewhere IN lists of up to 5,000."""
    unique = sorted(set(ids))
    size = max(len(unique), 1) if session.get_bind().dialect.name == "postgresql" else 5000
    return [among(session, column, unique[k : k + size]) for k in range(0, len(unique), size)]


def columns_of(model: Any, row: type[Any]) -> list[Any]:
    """The columns of `model` named by the fields of the dataclass `row`, in its order."""
    return [getattr(model, name) for name in row.__dataclass_fields__]
