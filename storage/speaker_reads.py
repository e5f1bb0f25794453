"""The speaker of a turn, read on the hot path: one Core statement on the `Reader`.

`read_speaker` returns what `people.load_speaker` returns, plus the speaker's
open pairs, in one statement outside any session or transaction. The objects
are built as the ORM's loader builds them but belong to no session: a turn that
changes the speaker must use `load_speaker` in its transaction instead.

`SpeakerBatches` gathers the reads that turns ask for in one pass of the event
loop into one statement (`user_id = ANY(…)`: one prepared statement for any
number). On PostgreSQL every statement is a round trip that wakes a server
process, and on a busy machine that wake-up costs more CPU than the query
(measured in docs/decisions/0002-fast-read-path.md). On SQLite a read is a
plain call with no round trip, so each is made at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Select, String, any_, bindparam, or_, select

from storage.models import Base, ConversationReference, Identity, Pair, Person, Profile
from storage.pairs import OPEN_STATES
from storage.people import IdentityKey, Speaker, speaker_joins
from storage.reader import Reader, Row

ModelT = TypeVar("ModelT", bound=Base)
MAX_BATCH = 100  # speakers in one statement


def _attributes(model: type[Base]) -> list[tuple[str, ColumnElement[Any]]]:
    return [(attr.key, attr.columns[0]) for attr in model.__mapper__.column_attrs]


_SPEAKER_MODELS: tuple[type[Base], ...] = (Identity, Person, Profile)
_SPEAKER_ATTRIBUTES = [_attributes(model) for model in _SPEAKER_MODELS]
_PAIR_ATTRIBUTES = _attributes(Pair)
_REFERENCE_AT = sum(len(attributes) for attributes in _SPEAKER_ATTRIBUTES)
_IDENTITY_KEYS = [k for k, _ in _SPEAKER_ATTRIBUTES[0]]
_USER_ID_AT = _IDENTITY_KEYS.index("user_id")


def _speakers_where(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Speakers with their open pairs: one row per pair (one row, its pair columns NULL,
    for a speaker with none), speakers in identity order."""
    return (
        speaker_joins(
            select(
                *(column for attributes in _SPEAKER_ATTRIBUTES for _, column in attributes),
                ConversationReference.reference,
                *(column for _, column in _PAIR_ATTRIBUTES),
            )
        )
        .outerjoin(
            Pair,
            (Pair.program_id == bindparam("program_id"))
            & or_(Pair.mentee_id == Person.id, Pair.mentor_id == Person.id)
            & or_(*(Pair.state == state for state in OPEN_STATES)),
        )
        .where(
            Identity.platform == bindparam("platform"),
            Identity.tenant == bindparam("tenant"),
            *conditions,
        )
        .order_by(Identity.id, Pair.id)
    )


_ONE = _speakers_where(Identity.user_id == bindparam("user_id"))
# PostgreSQL only (SQLite has no arrays, and reads each speaker at once anyway): one
# statement for any number of users, so one prepared statement per connection.
_MANY = _speakers_where(Identity.user_id == any_(bindparam("user_ids", type_=ARRAY(String))))


def _loaded(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """An instance built the way the ORM's loader builds one (no __init__, no change
    events) that belongs to no session: for reading; changes to it are not saved."""
    instance: ModelT = model.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def _speaker(rows: Sequence[Row]) -> Speaker:
    """One speaker's rows (one per open pair) → a Speaker with fresh objects."""
    first = rows[0]
    objects: list[Any] = []
    at = 0
    for model, attributes in zip(_SPEAKER_MODELS, _SPEAKER_ATTRIBUTES, strict=True):
        values = dict(
            zip((k for k, _ in attributes), first[at : at + len(attributes)], strict=True)
        )
        objects.append(_loaded(model, values) if values["id"] is not None else None)
        at += len(attributes)
    reference = first[_REFERENCE_AT]
    pair_keys = [k for k, _ in _PAIR_ATTRIBUTES]
    pairs = [
        _loaded(Pair, dict(zip(pair_keys, row[_REFERENCE_AT + 1 :], strict=True)))
        for row in rows
        if row[_REFERENCE_AT + 1] is not None
    ]
    identity, person, profile = objects
    return Speaker(
        identity, person, profile, dict(reference) if reference is not None else None, pairs
    )


def _by_user(rows: Sequence[Row]) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row[_USER_ID_AT], []).append(row)
    return found


async def read_speaker(reader: Reader, key: IdentityKey, program_id: int) -> Speaker | None:
    """`people.load_speaker` plus the open pairs, in one driver call; None if unknown."""
    values = {"platform": key.platform, "tenant": key.tenant, "user_id": key.user_id}
    rows = await reader.all(_ONE, {**values, "program_id": program_id})
    return _speaker(rows) if rows else None


async def _rows_of_users(
    reader: Reader, platform: str, tenant: str, user_ids: list[str], program_id: int
) -> dict[str, list[Row]]:
    """The rows of many users of one platform and tenant, by user id (PostgreSQL)."""
    values = {"platform": platform, "tenant": tenant, "user_ids": user_ids}
    return _by_user(await reader.all(_MANY, {**values, "program_id": program_id}))


Waiting = tuple[str, "asyncio.Future[Speaker | None]"]  # a user id and the turn awaiting it


class SpeakerBatches:
    """`read_speaker` for every turn that asks within one pass of the event loop, as one
    statement (on PostgreSQL; on SQLite each read is made at once)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._waiting: list[tuple[IdentityKey, int, asyncio.Future[Speaker | None]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def read(self, key: IdentityKey, program_id: int) -> Speaker | None:
        if self.reader.dialect.name == "sqlite":
            return await read_speaker(self.reader, key, program_id)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Speaker | None] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send)  # after the turns already ready in this pass
        self._waiting.append((key, program_id, future))
        return await future

    def _send(self) -> None:
        waiting, self._waiting = self._waiting, []
        batches: dict[tuple[int, str, str], list[Waiting]] = {}
        for key, program_id, future in waiting:
            batches.setdefault((program_id, key.platform, key.tenant), []).append(
                (key.user_id, future)
            )
        for (program_id, platform, tenant), batch in batches.items():
            for start in range(0, len(batch), MAX_BATCH):
                task = asyncio.ensure_future(
                    self._read(program_id, platform, tenant, batch[start : start + MAX_BATCH])
                )
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _read(
        self, program_id: int, platform: str, tenant: str, batch: list[Waiting]
    ) -> None:
        user_ids = list(dict.fromkeys(user_id for user_id, _ in batch))
        try:
            rows = await _rows_of_users(self.reader, platform, tenant, user_ids, program_id)
        except Exception as err:  # every turn waiting on it falls back on its own
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        for user_id, future in batch:
            if not future.done():  # a turn cancelled meanwhile
                found = rows.get(user_id)
                future.set_result(_speaker(found) if found else None)
