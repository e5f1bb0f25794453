"""The one place a proposed pair becomes active (both said yes).

Whatever must start with an active pair hooks in here: the follow-through engine's
agreement step (`conversations/agreement.py: begin_agreement`) is called from
`activate_pair` at merge, so there is exactly one transition to extend.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.matching.messages import simple
from conversations.messages import Button
from conversations.policy import Policy
from conversations.turn import enqueue_for_person
from storage import audit, people
from storage.matching import set_priority
from storage.models import Pair, Program


async def activate_pair(
    session: AsyncSession, policy: Policy, program: Program, pair: Pair, now: datetime
) -> None:
    """proposed → active: stamp it, clear both people's waiting priority, tell both."""
    pair.state = "active"
    pair.activated_at = now
    pair.proposal_expires_at = None
    await set_priority(session, program.id, [pair.mentee_id, pair.mentor_id], None)
    await audit.record(
        session, actor_id=None, action="pair.activated", now=now, details={"pair": pair.id}
    )
    names = await people.display_names(session, [pair.mentee_id, pair.mentor_id])
    for person, other, role in (
        (pair.mentee_id, pair.mentor_id, "your mentor"),
        (pair.mentor_id, pair.mentee_id, "your mentee"),
    ):
        text = (
            f"You and {names.get(other, 'your partner')} both said yes: "
            f"{names.get(other, 'they')} is now {role} in {program.name}. "
            "Next step: agree on your first meeting."
        )
        await enqueue_for_person(
            session,
            person,
            f"pair-active:{pair.id}:{person}",
            "pair-active",
            simple(text, Button("My status", value="status")),
            now,
        )
