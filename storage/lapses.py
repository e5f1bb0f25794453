"""Lapse episodes: a pair's silence, from the day it is detected up the escalation ladder
until a meeting (or the pair's end) closes it. One open lapse per pair at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import among, columns_of
from storage.models import Lapse
from storage.states import LapseOutcome


@dataclass(slots=True)
class OpenLapse:
    """A due pair's open lapse (or one the sweep starts), as a plain row."""

    pair_id: int
    program_id: int
    cycle: int
    began_at: datetime
    step: int = 0
    at_risk_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: LapseOutcome | None = None


async def due_lapses(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, OpenLapse]:
    """Each due pair's open lapse, as plain rows."""
    if not pair_ids:
        return {}
    rows = await session.execute(
        select(*columns_of(Lapse, OpenLapse)).where(
            among(session, Lapse.pair_id, pair_ids), Lapse.closed_at.is_(None)
        )
    )
    return {lapse.pair_id: lapse for lapse in (OpenLapse(*row) for row in rows)}


async def open_lapses(session: AsyncSession, pair_ids: Sequence[int]) -> dict[int, Lapse]:
    if not pair_ids:
        return {}
    rows = await session.scalars(
        select(Lapse).where(among(session, Lapse.pair_id, pair_ids), Lapse.closed_at.is_(None))
    )
    return {row.pair_id: row for row in rows}


async def close_lapse(
    session: AsyncSession, pair_id: int, outcome: LapseOutcome, now: datetime
) -> bool:
    """Close the pair's open lapse (recovered, ended, rematch); False if none was open."""
    lapse = (await open_lapses(session, [pair_id])).get(pair_id)
    if lapse is None:
        return False
    lapse.closed_at, lapse.outcome = now, outcome
    return True


async def save_due(session: AsyncSession, lapses: Sequence[OpenLapse]) -> None:
    """Write back the sweep's lapses, new or stepped up or closed, in one upsert."""
    if not lapses:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Lapse)
    stmt = stmt.on_conflict_do_update(
        index_elements=["pair_id", "cycle"],
        set_={
            "step": stmt.excluded.step,
            "at_risk_at": stmt.excluded.at_risk_at,
            "closed_at": stmt.excluded.closed_at,
            "outcome": stmt.excluded.outcome,
        },
    )
    await session.execute(
        stmt,
        [
            {
                "pair_id": lapse.pair_id,
                "program_id": lapse.program_id,
                "cycle": lapse.cycle,
                "began_at": lapse.began_at,
                "step": lapse.step,
                "at_risk_at": lapse.at_risk_at,
                "closed_at": lapse.closed_at,
                "outcome": lapse.outcome,
            }
            for lapse in lapses
        ],
    )
