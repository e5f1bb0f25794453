"""The local web chat's history, as the chat adapter records and reads it.

What a person said and every message the bot showed them (replies and proactive
messages, buttons included) is kept per person, the last 50, so a reload or a
switch of user shows the conversation again. An attached file is not kept (an
export or a chart would fill the table): a line says it was there. Each call runs
in its own transaction on the engine's database (adapters never write it themselves).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from conversations.messages import Block, Context, File, Message, from_dict, to_dict
from storage import chat_history, people
from storage.database import Database

log = logging.getLogger(__name__)

# Recording waits at most this long: a reply must not wait on a hanging database for it.
RECORD_SECONDS = 2.0

PERSON = "person"
BOT = "bot"


def _without_files(message: Message) -> Message:
    blocks: list[Block] = [
        Context(f"📎 {block.filename} was attached here (not kept in the history).")
        if isinstance(block, File)
        else block
        for block in message.blocks
    ]
    return dataclasses.replace(message, blocks=tuple(blocks))


async def remember(
    db: Database, user_id: str, said: str | None, shown: Sequence[Message], now: datetime
) -> None:
    """Record what local user `user_id` said (None: nothing, e.g. a proactive message)
    and the messages shown to them, in that order. Nothing when they are not known.
    The history is a convenience: when the database refuses (locked, gone) or does not
    answer within RECORD_SECONDS, the reply still reaches the person and only a warning,
    without the lines, is logged."""
    lines: list[tuple[str, dict[str, Any]]] = []
    if said:
        lines.append((PERSON, {"text": said}))
    lines += [(BOT, to_dict(_without_files(message))) for message in shown]
    if not lines:
        return
    try:
        async with asyncio.timeout(RECORD_SECONDS), db.transaction() as session:
            key = people.IdentityKey("local", "", user_id)
            identity = await people.find_identity(session, key)
            if identity is not None:
                await chat_history.append(session, identity.person_id, lines, now)
    except (SQLAlchemyError, OSError, TimeoutError) as err:
        log.warning("web chat history not recorded: %s", type(err).__name__)


async def recent(db: Database, user_id: str) -> list[dict[str, Any]]:
    """The local user's last lines, oldest first: {"from": "person", "text"} or
    {"from": "bot", "message": <to_dict form>}; empty for someone unknown."""
    async with db.transaction() as session:
        identity = await people.find_identity(session, people.IdentityKey("local", "", user_id))
        if identity is None:
            return []
        lines = await chat_history.recent(session, identity.person_id)
    return [
        {"from": PERSON, "text": str(payload.get("text", ""))}
        if speaker == PERSON
        else {"from": BOT, "message": to_dict(from_dict(payload))}
        for speaker, payload in lines
    ]
