"""The storage side of `mentorbot simulate`: its database, and what its people were sent.

The simulation's throwaway SQLite file is this process's alone, so its statements run on
the event loop's thread (inline_sqlite.py) instead of aiosqlite's worker thread.

A real person learns of a proposal from the bot's message; the simulation asks the
database which proposals a round just made, by the people's local user ids, so they
can answer them with `accept`/`decline` like anyone else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.database import Database, async_url
from storage.models import Identity, Pair
from storage.simulation import inline_sqlite
from storage.states import PairState


def single_process_database(url: str) -> Database:
    """A Database on `url`; a SQLite file there must be one no other process writes (a
    wait for another's lock would block the event loop). Any other database: as usual."""
    found = async_url(url)
    if found.get_backend_name() == "sqlite" and found.database not in (None, "", ":memory:"):
        return Database(url, async_creator=inline_sqlite.creator(found.database))
    return Database(url)


async def proposals_made_at(
    session: AsyncSession, program_id: int, at: datetime
) -> list[tuple[int, str, str]]:
    """(pair id, mentee's local user id, mentor's local user id) of the proposals made at `at`."""
    mentee, mentor = aliased(Identity), aliased(Identity)
    rows = await session.execute(
        select(Pair.id, mentee.user_id, mentor.user_id)
        .join(mentee, (mentee.person_id == Pair.mentee_id) & (mentee.platform == "local"))
        .join(mentor, (mentor.person_id == Pair.mentor_id) & (mentor.platform == "local"))
        .where(
            Pair.program_id == program_id, Pair.state == PairState.PROPOSED, Pair.proposed_at == at
        )
        .order_by(Pair.id)
    )
    return [(pid, a, b) for pid, a, b in rows.all()]
