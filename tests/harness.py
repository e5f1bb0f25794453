"""A chat harness in errbot's spirit: say something as someone, get the replies back.

Time is explicit: `chat.now` is what the engine is told, and tests move it. The delivery
path takes a whole clock instead (adapters/clock.py): `VirtualClock` is the tests' one.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from conversations.engine import Engine
from conversations.events import Action, Actor, Command, InboundEvent
from conversations.messages import Message


@dataclass
class Chat:
    engine: Engine
    platform: str = "local"
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def actor(self, user: str, timezone: str | None = None) -> Actor:
        # Like the local adapter, a local login name is not a directory name.
        return Actor(
            self.platform,
            user.lower(),
            user,
            timezone=timezone,
            directory_name=self.platform != "local",
        )

    async def say(self, user: str, line: str, *, timezone: str | None = None) -> list[Message]:
        event = InboundEvent(self.actor(user, timezone), Command(line), {"user": user.lower()})
        return await self.engine.handle(event, self.now)

    async def text(self, user: str, line: str) -> str:
        """All reply texts joined: the plain-text fallback a person would read."""
        return "\n".join(m.text for m in await self.say(user, line))

    async def click(self, user: str, message: Message, label: str) -> list[Message]:
        button = next(b for b in message.buttons() if b.label == label)
        action = Action(button.action_id, button.value)
        return await self.engine.handle(
            InboundEvent(self.actor(user), action, {"user": user.lower()}), self.now
        )

    async def submit(self, user: str, form_id: str, fields: dict[str, str]) -> list[Message]:
        action = Action("form.submit", form_id=form_id, fields=fields)
        return await self.engine.handle(
            InboundEvent(self.actor(user), action, {"user": user.lower()}), self.now
        )

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class VirtualClock:
    """A `Clock` on virtual time, so waits cost a test nothing (trio's MockClock, for asyncio).

    `sleep` returns once the clock has been moved past its deadline: by `advance` /
    `advance_to`, or by itself: with `autojump` (seconds of real time, the default) the
    clock jumps to the earliest deadline when no sleep has begun or ended for that long,
    that is when every task is waiting (on the clock, or on I/O slower than `autojump`).
    Real I/O takes no virtual time only while `busy()` says it is under way: give it the
    worker's `sending`, or virtual time may run past a lease during a send on a loaded
    machine. `autojump=None` moves it only when told. Calling it gives `now()`, so it
    also serves as a now-function.
    """

    def __init__(
        self,
        start: datetime = START,
        *,
        autojump: float | None = 0.002,
        busy: Callable[[], object] | None = None,
    ) -> None:
        self.start = start
        self.autojump = autojump
        self.busy = busy
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._changes = 0
        self._jumper: asyncio.Task[None] | None = None

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._elapsed)

    def __call__(self) -> datetime:
        return self.now()

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._order), waiter))
        self._changes += 1
        if self.autojump is not None and (self._jumper is None or self._jumper.done()):
            self._jumper = asyncio.get_running_loop().create_task(self._jump_when_idle())
        try:
            await waiter
        finally:
            self._changes += 1

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move time on by `seconds` (or `timedelta` keywords) and wake the sleeps now due."""
        self._elapsed += seconds + timedelta(**delta).total_seconds()
        self._wake()

    def advance_to(self, moment: datetime) -> None:
        """Move time on to `moment` (never back)."""
        self.advance(max((moment - self.now()).total_seconds(), 0.0))

    def _wake(self) -> None:
        while self._sleepers and (
            self._sleepers[0][0] <= self._elapsed or self._sleepers[0][2].done()
        ):
            _, _, waiter = heapq.heappop(self._sleepers)
            if not waiter.done():
                waiter.set_result(None)

    async def _jump_when_idle(self) -> None:
        assert self.autojump is not None
        while True:
            self._wake()  # also drops sleeps that were cancelled
            if not self._sleepers:
                return
            seen = self._changes
            await asyncio.sleep(self.autojump)  # real time: is anything still moving?
            self._wake()
            if seen == self._changes and self._sleepers and not (self.busy and self.busy()):
                self._elapsed = max(self._elapsed, self._sleepers[0][0])
                self._wake()
