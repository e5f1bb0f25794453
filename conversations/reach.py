"""Where people can be reached, as a platform adapter learns it outside a conversation turn.

An adapter never writes the database itself (an import-linter contract keeps it so):
when Teams tells it of an install, of people named in a message, or refuses a reply,
it calls these. Each runs in its own transaction on the engine's database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from conversations.events import Actor
from conversations.messages import Message, to_dict
from storage import outbox, people, references
from storage.database import Database


def _key(actor: Actor) -> people.IdentityKey:
    return people.IdentityKey(actor.platform, actor.tenant, actor.user_id)


async def introduce(db: Database, named: Sequence[Actor], now: datetime) -> None:
    """Record people named in a message, with the e-mail the platform's directory gave,
    before the engine meets them as mentions: an account is then created as the same
    person as another platform's account with that e-mail, not as a stranger. Known
    accounts are left as they are; none counts as seen."""
    async with db.transaction() as session:
        for actor in named:
            key = _key(actor)
            if await people.find_identity(session, key) is None:
                await people.upsert_identity(
                    session,
                    key,
                    display_name=actor.display_name,
                    email=actor.email,
                    now=now,
                    seen=False,
                )


async def remember(db: Database, actor: Actor, reference: dict[str, Any], now: datetime) -> None:
    """Record the account (seen now) and the conversation reference to reach it by."""
    for _ in range(2):  # a first message racing this one may create the identity first
        try:
            async with db.transaction() as session:
                identity = await people.upsert_identity(
                    session,
                    _key(actor),
                    display_name=actor.display_name,
                    email=actor.email,
                    timezone=actor.timezone,
                    now=now,
                )
                await references.save_reference(session, identity.id, reference, now)
            return
        except IntegrityError:
            continue


async def queue_replies(
    db: Database, actor: Actor, turn: str, replies: Sequence[Message], now: datetime
) -> None:
    """Put replies the platform would not take into the outbox (keys `{platform}-reply:
    {turn}:{index}`), for the delivery worker to send to the person's chat later. Nothing
    is queued for an account the database does not know."""
    async with db.transaction() as session:
        identity = await people.find_identity(session, _key(actor))
        if identity is None:
            return
        for index, reply in enumerate(replies):
            await outbox.enqueue(
                session,
                key=f"{actor.platform}-reply:{turn}:{index}",
                kind="reply",
                payload=to_dict(reply),
                now=now,
                person_id=identity.person_id,
                platform=actor.platform,
            )


async def recent_references(
    db: Database, platform: str, tenant: str | None = None
) -> list[dict[str, Any]]:
    """The latest stored conversation references on `platform` (in `tenant` if given),
    newest first: a channel post borrows one for its service URL and tenant."""
    async with db.transaction() as session:
        return await references.recent_references(session, platform, tenant)
