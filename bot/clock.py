"""The one place the bot takes the wall clock from; everything below is handed `now`
(or, on the delivery path, the `Clock` itself: adapters/clock.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from adapters.clock import Clock, SystemClock

__all__ = ["SYSTEM", "Clock", "SystemClock", "as_clock", "utcnow"]

SYSTEM = SystemClock()


def utcnow() -> datetime:
    return SYSTEM.now()


class _WallOnly(SystemClock):
    """A bare `now` function as a Clock: its wall time, the system's monotonic time and sleep."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()


def as_clock(clock: Clock | Callable[[], datetime]) -> Clock:
    """A `Clock` as it is; a plain now-function (as the chat adapters take) wrapped in one
    that keeps real monotonic time and sleep, which is how such callers behaved before."""
    if hasattr(clock, "monotonic") and hasattr(clock, "sleep"):
        return cast(Clock, clock)
    return _WallOnly(clock)
