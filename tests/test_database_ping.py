"""/readyz's ping under overlapping calls: every call gets its own answer."""

from __future__ import annotations

import asyncio

from storage.database import Database


async def test_overlapping_pings_each_get_an_answer(db: Database) -> None:
    """A ping that starts while an earlier one is waking up starts the next query; the
    earlier one still answers from its own (it used to read the newer, unfinished one:
    InvalidStateError, a 500 from /readyz under a load balancer's health checks)."""

    async def keep_pinging() -> list[bool]:
        return [await db.ping() for _ in range(25)]

    answers = await asyncio.gather(*(keep_pinging() for _ in range(20)))
    assert all(all(a) for a in answers)
