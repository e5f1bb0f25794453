"""Where people can be reached, as a platform adapter learns it outside a conversation turn.

An adapter never writes the database itself (an import-linter contract keeps it so):
when Teams tells it of an install, of people named in a message, or refuses a reply,
it calls these. Each runs in its own transaction on the engine's database. Files offered
through a Teams consent card wait here too (`offer_files`, `claim_offered_file`,
`discard_offered_files`): the card carries only a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from conversations.events import Actor
from conversations.messages import File, Message, to_dict
from storage import offered_files, outbox, people, references
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


async def offer_files(
    db: Database,
    platform: str,
    tenant: str,
    user_id: str,
    files: Sequence[File],
    now: datetime,
    keep_for: timedelta,
) -> list[str] | None:
    """Keep `files` for the account's person until `now + keep_for`; their tokens, in
    order. None when the database does not know the account (nothing is kept)."""
    async with db.transaction() as session:
        identity = await people.find_identity(
            session, people.IdentityKey(platform, tenant, user_id)
        )
        if identity is None:
            return None
        return [
            await offered_files.offer(
                session,
                person_id=identity.person_id,
                filename=f.filename,
                mime=f.mime,
                content=f.content,
                encoding=f.encoding,
                now=now,
                expires_at=now + keep_for,
            )
            for f in files
        ]


@dataclass(frozen=True)
class Offered:
    """What a token finds for the account answering a consent card: its `file` ("yours"),
    a file offered to someone else ("not-yours"), or nothing ("gone": expired, already
    saved or declined, never offered)."""

    status: Literal["yours", "not-yours", "gone"]
    file: File | None = None


async def claim_offered_file(
    db: Database, platform: str, tenant: str, user_id: str, token: str, now: datetime
) -> Offered:
    """The file offered under `token`, if it was offered to this account's person. It stays
    until `discard_offered_files` (after a successful upload) or it expires."""
    async with db.transaction() as session:
        row = await offered_files.find(session, token, now)
        if row is None:
            return Offered("gone")
        identity = await people.find_identity(
            session, people.IdentityKey(platform, tenant, user_id)
        )
        if identity is None or identity.person_id != row.person_id:
            return Offered("not-yours")
        encoding: Literal["text", "base64"] = "base64" if row.encoding == "base64" else "text"
        return Offered("yours", File(row.filename, row.mime, row.content, encoding))


async def discard_offered_files(
    db: Database, tokens: Sequence[str], account: tuple[str, str, str] | None = None
) -> int:
    """Delete offered files: only the person's when `account` (platform, tenant, user id)
    answers for them (saved or declined), any when the offer is withdrawn (the card never
    went out). Returns how many were deleted."""
    async with db.transaction() as session:
        person_id: int | None = None
        if account is not None:
            identity = await people.find_identity(session, people.IdentityKey(*account))
            if identity is None:
                return 0
            person_id = identity.person_id
        return await offered_files.discard(session, tokens, person_id)
