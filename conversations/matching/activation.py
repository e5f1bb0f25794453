"""The one place a pair becomes active (both said yes, or the program team paired them).

Whatever must start with an active pair hooks in here: the follow-through engine's
agreement step, whose message to both people is also their news that the pair is on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.followthrough.agreement import begin_agreement
from conversations.policy import Policy
from storage import audit
from storage.models import Pair, Program
from storage.people import set_match_priority
from storage.states import PairState


async def activate_pair(
    session: AsyncSession, policy: Policy, program: Program, pair: Pair, now: datetime
) -> None:
    """→ active: stamp it, clear both people's waiting priority, and start the agreement
    (which tells both and starts the follow-through clock)."""
    pair.state = PairState.ACTIVE
    pair.activated_at = now
    pair.proposal_expires_at = None
    await set_match_priority(session, program.id, [pair.mentee_id, pair.mentor_id], None)
    await audit.record(
        session, actor_id=None, action="pair.activated", now=now, details={"pair": pair.id}
    )
    await begin_agreement(session, policy, program, pair, now)
