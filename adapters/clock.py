"""Time for the delivery path: wall time, a monotonic reading and sleeping, as one object.

The delivery worker, its pacer and the senders' in-place retries all take a `Clock`
instead of calling `datetime.now`, `time.monotonic` and `asyncio.sleep` themselves, so a
test can run them on virtual time (tests/harness.py's `VirtualClock`) and a 30-second
Retry-After costs it nothing. Production uses `SystemClock` (also `bot.clock.SYSTEM`).
It lives in adapters because the senders (adapters) and the worker (bot) share it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall time, timezone-aware UTC: what rows are stamped and compared with."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: what pacing and waits are measured on."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time (at once for 0 or less, but still yield)."""
        ...


class SystemClock:
    """The real clock: `datetime.now(UTC)`, `time.monotonic()` and `asyncio.sleep`."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))
