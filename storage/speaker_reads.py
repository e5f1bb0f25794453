"""The speaker of a turn, read on the hot path: one Core statement on the `Reader`.

`read_speakers` returns what `people.load_speaker` returns, plus the speaker's
open pairs, for any number of speakers in one statement, outside any session or
transaction. The objects are built as the ORM's loader builds them but belong
to no session: a turn that changes the speaker must use `load_speaker` in its
transaction instead.

`SpeakerBatches` gathers the reads that turns ask for in one pass of the event
loop into one statement. On PostgreSQL every statement is a round trip that
wakes a server process, and on a busy machine that wake-up costs more CPU than
the query (bench/slack_load.py: ~130 µs of PostgreSQL CPU per one-speaker
read under 50 clients); N speakers then share one. On SQLite a read is a plain
call with no round trip, so each is made at once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select

from storage.models import Base, ConversationReference, Identity, Pair, Person, Profile
from storage.pairs import OPEN_STATES
from storage.people import IdentityKey, Speaker, speaker_joins
from storage.reader import Reader, Row

ModelT = TypeVar("ModelT", bound=Base)
MAX_BATCH = 64  # speakers in one statement; batches are padded to a power of two


def _attributes(model: type[Base]) -> list[tuple[str, ColumnElement[Any]]]:
    return [(attr.key, attr.columns[0]) for attr in model.__mapper__.column_attrs]


_SPEAKER_MODELS: tuple[type[Base], ...] = (Identity, Person, Profile)
_SPEAKER_ATTRIBUTES = [_attributes(model) for model in _SPEAKER_MODELS]
_PAIR_ATTRIBUTES = _attributes(Pair)
_REFERENCE_AT = sum(len(attributes) for attributes in _SPEAKER_ATTRIBUTES)
_IDENTITY_KEYS = [k for k, _ in _SPEAKER_ATTRIBUTES[0]]
_KEY_AT = tuple(_IDENTITY_KEYS.index(k) for k in ("platform", "tenant", "user_id"))


@functools.cache
def _statement(size: int) -> Select[Any]:
    """`size` speakers with their open pairs: one row per pair (one row, its pair columns
    NULL, for a speaker with none). Built once per size, so compiled and prepared once."""
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
            or_(
                *(
                    and_(
                        Identity.platform == bindparam(f"platform_{i}"),
                        Identity.tenant == bindparam(f"tenant_{i}"),
                        Identity.user_id == bindparam(f"user_id_{i}"),
                    )
                    for i in range(size)
                )
            )
        )
        .order_by(Identity.id, Pair.id)
    )


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


async def _rows_by_key(
    reader: Reader, keys: Sequence[IdentityKey], program_id: int
) -> dict[IdentityKey, list[Row]]:
    size = 1
    while size < len(keys):
        size *= 2
    padded = [*keys, *[keys[0]] * (size - len(keys))]  # a repeated key matches nothing new
    values: dict[str, Any] = {"program_id": program_id}
    for i, key in enumerate(padded):
        values[f"platform_{i}"], values[f"tenant_{i}"] = key.platform, key.tenant
        values[f"user_id_{i}"] = key.user_id
    found: dict[IdentityKey, list[Row]] = {}
    for row in await reader.all(_statement(size), values):
        found.setdefault(IdentityKey(*(row[i] for i in _KEY_AT)), []).append(row)
    return found


async def read_speaker(reader: Reader, key: IdentityKey, program_id: int) -> Speaker | None:
    """`people.load_speaker` plus the open pairs, in one driver call; None if unknown."""
    rows = (await _rows_by_key(reader, [key], program_id)).get(key)
    return _speaker(rows) if rows else None


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
        by_program: dict[int, list[tuple[IdentityKey, asyncio.Future[Speaker | None]]]] = {}
        for key, program_id, future in waiting:
            by_program.setdefault(program_id, []).append((key, future))
        for program_id, batch in by_program.items():
            for start in range(0, len(batch), MAX_BATCH):
                task = asyncio.ensure_future(
                    self._read(program_id, batch[start : start + MAX_BATCH])
                )
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _read(
        self, program_id: int, batch: list[tuple[IdentityKey, asyncio.Future[Speaker | None]]]
    ) -> None:
        keys = list(dict.fromkeys(key for key, _ in batch))
        try:
            found = await _rows_by_key(self.reader, keys, program_id)
        except Exception as err:  # every turn waiting on it falls back on its own
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        for key, future in batch:
            if not future.done():  # a turn cancelled meanwhile
                rows = found.get(key)
                future.set_result(_speaker(rows) if rows else None)
