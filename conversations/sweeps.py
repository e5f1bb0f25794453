"""Proactive work as of a time: what a sweep finds due, and the sweepers that find it.

Each feature contributes a sweeper: a coroutine given the open transaction, the
program, the policy and `now`, that queues what is due through the outbox (whose
unique keys make a repeated sweep harmless) and returns what it found. The engine
runs every sweeper in one transaction; a dry run rolls it all back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.policy import Policy
from storage.models import Program


@dataclass(frozen=True)
class DueItem:
    """One piece of proactive work the sweep found (and queued, unless a dry run)."""

    key: str
    kind: str
    person_id: int
    text: str
    queued: bool


@dataclass(frozen=True)
class SweepContext:
    session: AsyncSession
    program: Program
    policy: Policy
    now: datetime


Sweeper = Callable[[SweepContext], Awaitable[list[DueItem]]]
