"""Pairs as the engine reads them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Pair, Person
from storage.states import PairState

OPEN_STATES = (PairState.PROPOSED, PairState.ACTIVE, PairState.PAUSED)

# Built once: `status` runs this on every call, and building it costs more than running it.
# The state test reads `state || ''` so no planner can use the state index for it: SQLite,
# which keeps no statistics unless asked, took that index and read every active pair of
# the program (thousands) on each command, instead of the person's few through the
# mentee and mentor indexes.
_PAIRS_OF = (
    select(Pair)
    .where(
        Pair.program_id == bindparam("program_id"),
        or_(Pair.mentee_id == bindparam("person_id"), Pair.mentor_id == bindparam("person_id")),
        (Pair.state + "").in_(bindparam("states", expanding=True)),
    )
    .order_by(Pair.id)
)


async def pairs_of(
    session: AsyncSession,
    person_id: int,
    program_id: int,
    states: Sequence[PairState] = OPEN_STATES,
) -> list[Pair]:
    rows = await session.scalars(
        _PAIRS_OF, {"program_id": program_id, "person_id": person_id, "states": list(states)}
    )
    return list(rows)


# The same pairs, each with the other person's display name (one read instead of two, for
# the commands that name the partner in their answer).
_PAIRS_WITH_PARTNER = _PAIRS_OF.add_columns(Person.display_name).outerjoin(
    Person,
    Person.id
    == case((Pair.mentee_id == bindparam("person_id"), Pair.mentor_id), else_=Pair.mentee_id),
)


async def pairs_with_partner_names(
    session: AsyncSession,
    person_id: int,
    program_id: int,
    states: Sequence[PairState] = OPEN_STATES,
) -> list[tuple[Pair, str | None]]:
    """`pairs_of`, each with the partner's display name."""
    rows = await session.execute(
        _PAIRS_WITH_PARTNER,
        {"program_id": program_id, "person_id": person_id, "states": list(states)},
    )
    return [(pair, name) for pair, name in rows.all()]
