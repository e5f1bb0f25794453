"""Test helpers for the follow-through flows: an active pair, the outbox as people read it."""

from __future__ import annotations

from sqlalchemy import select

from conversations.followthrough.agreement import begin_agreement
from conversations.messages import Message, from_dict
from storage import people
from storage.models import OutboxMessage, Pair, Program
from storage.pairs import create_active_pair
from tests.harness import Chat


async def person_id(chat: Chat, user: str) -> int:
    async with chat.engine.db.transaction() as session:
        identity = await people.find_identity(session, people.IdentityKey("local", "", user))
        assert identity is not None
        return identity.person_id


async def make_pair(
    chat: Chat,
    mentee: str = "alice",
    mentor: str = "bob",
    *,
    mentee_tz: str = "Europe/Berlin",
    mentor_tz: str = "America/New_York",
    goals: str = "Get ready to lead a team",
) -> int:
    """Both join, then an active pair is inserted the way matching activates one."""
    await chat.say(mentee, "join mentee", timezone=mentee_tz)
    await chat.say(mentee, f'profile set goals="{goals}"', timezone=mentee_tz)
    await chat.say(mentor, "join mentor", timezone=mentor_tz)
    mentee_id, mentor_id = await person_id(chat, mentee), await person_id(chat, mentor)
    async with chat.engine.db.transaction() as session:
        program = await session.get(Program, chat.engine.program_id)
        assert program is not None
        pair = await create_active_pair(
            session,
            program_id=program.id,
            mentee_id=mentee_id,
            mentor_id=mentor_id,
            now=chat.now,
        )
        await begin_agreement(session, chat.engine.policy, program, pair, chat.now)
        return pair.id


async def inbox(chat: Chat, user: str, kind: str | None = None) -> list[Message]:
    """Every proactive message queued for `user` (optionally of one kind), oldest first."""
    pid = await person_id(chat, user)
    async with chat.engine.db.transaction() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.person_id == pid)
        if kind is not None:
            stmt = stmt.where(OutboxMessage.kind == kind)
        rows = await session.scalars(stmt.order_by(OutboxMessage.id))
        return [from_dict(row.payload) for row in rows]


async def keys(chat: Chat, prefix: str) -> list[str]:
    async with chat.engine.db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage.idempotency_key)
            .where(OutboxMessage.idempotency_key.startswith(prefix))
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def get_pair(chat: Chat, pair_id: int) -> Pair:
    async with chat.engine.db.transaction() as session:
        pair = await session.get(Pair, pair_id)
        assert pair is not None
        return pair


async def agree_both(chat: Chat, mentee: str = "alice", mentor: str = "bob") -> None:
    for user in (mentee, mentor):
        prompt = (await inbox(chat, user, "agreement"))[-1]
        await chat.click(user, prompt, "I agree")
