"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on the way in and out, whatever the backend.

    SQLite keeps no offset, so values are stored as naive UTC and handed back
    aware; a naive value from the caller is refused rather than guessed at.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class StrEnumType(TypeDecorator[E]):
    """A `StrEnum` (storage.states) kept as its value in a plain VARCHAR.

    The schema stays the string column it always was (no database enum type, no
    migration), and rows come back as members. Mypy, not this type, refuses a wrong
    state in code; a value this release does not know (written by a later release
    before a rollback, or by hand) is stored and read back as the plain string, so
    reading a row never fails.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length
        self._members: dict[str, E] = {member.value: member for member in enum}

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self._members.get(value, value)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        """Only the other side of a comparison is a state: text joined to one (the
        `state || ''` that keeps a planner off an index) is plain text."""
        if op in (operators.concat_op, operators.add):
            return self.impl_instance
        return self
