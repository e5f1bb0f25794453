"""Send pacing: when may the next message go to a conversation without breaking a limit.

Each conversation (and each tenant) keeps the times of its reserved sends; a new
reservation takes the earliest time at which every sliding-window `Limit` still has
room, never earlier than the previous reservation, and never before a Retry-After
the platform gave for that conversation. Reservations are made up front, so many
messages to different people go out at once while messages to one person are spaced.

This is per process on purpose: it keeps one replica under the limits; with several
replicas the platform's 429 + Retry-After is the backstop, which the worker honours.
Losing this state (a restart) costs at most a few early sends, never a message.

It never reads a clock: every time it is given is the worker's `Clock.monotonic()`
(seconds), so on a test's virtual clock it paces in virtual time too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from adapters.delivery import Limit, Pacing

HELD_FOR = 600.0  # forget a reservation held for a deferred row after this many seconds


class Window:
    """Send times for one scope (a conversation or a tenant), oldest first, and how many
    sends are under way (their time is not known yet: see `Pacer.start`)."""

    def __init__(self, limits: tuple[Limit, ...]) -> None:
        self.limits = limits
        self.span = max((limit.seconds for limit in limits), default=0.0)
        self.times: deque[float] = deque()
        self.blocked_until = 0.0
        self.flying = 0

    def earliest(self, at: float) -> float:
        """The earliest time ≥ `at` at which one more send fits every limit; a send under
        way counts as made at `at` (it may reach the platform any time until it ends)."""
        while self.times and self.times[0] <= at - self.span:
            self.times.popleft()
        t = max(at, self.blocked_until, self.times[-1] if self.times else at)
        for limit in self.limits:
            if self.flying >= limit.count:
                t = max(t, at + limit.seconds)
            elif len(self.times) + self.flying >= limit.count:
                t = max(t, self.times[self.flying - limit.count] + limit.seconds)
        return t

    def idle(self, now: float) -> bool:
        """Nothing under way or sent within the longest window, and no Retry-After pending."""
        return (
            not self.flying
            and self.blocked_until <= now
            and (not self.times or self.times[-1] <= now - self.span)
        )

    def take(self, t: float) -> None:
        if self.limits:
            self.times.append(t)

    def land(self, t: float) -> None:
        """A send under way ended at `t`: it counts from then on, in time order."""
        self.flying -= 1
        if self.limits:
            at = len(self.times)
            while at and self.times[at - 1] > t:
                at -= 1
            self.times.insert(at, t)


class Pacer:
    """Reserves send slots for one platform: per conversation and per tenant."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._lanes: dict[Hashable, Window] = {}
        self._tenants: dict[str, Window] = {}
        self._held: dict[int, tuple[float, Hashable]] = {}
        self._started: dict[Hashable, Window] = {}

    def _windows(self, lane: Hashable, tenant: str) -> tuple[Window, Window]:
        conversation = self._lanes.get(lane)
        if conversation is None:
            conversation = self._lanes[lane] = Window(self.pacing.per_conversation)
        scope = self._tenants.get(tenant)
        if scope is None:
            scope = self._tenants[tenant] = Window(self.pacing.per_tenant)
        return conversation, scope

    def reserve(self, lane: Hashable, tenant: str, now: float, *, row_id: int) -> float:
        """The time at which row `row_id` may be sent to `lane`; a slot held for it is reused."""
        held = self._held.pop(row_id, None)
        if held is not None and held[1] == lane:
            return max(held[0], now)
        conversation, scope = self._windows(lane, tenant)
        t = now
        for _ in range(8):  # the two windows agree after a step or two
            t = max(conversation.earliest(t), scope.earliest(t))
            if conversation.earliest(t) == t and scope.earliest(t) == t:
                break
        conversation.take(t)
        scope.take(t)
        return t

    def hold(self, row_id: int, lane: Hashable, slot: float) -> None:
        """Keep a reserved slot for a row handed back to the database until then."""
        self._held[row_id] = (slot, lane)

    def _actual(self, lane: Hashable, tenant: str) -> tuple[Window, Window]:
        conversation = self._started.get(lane)
        if conversation is None:
            conversation = self._started[lane] = Window(self.pacing.per_conversation)
        scope = self._started.get(("tenant", tenant))
        if scope is None:
            scope = self._started[("tenant", tenant)] = Window(self.pacing.per_tenant)
        return conversation, scope

    def start(self, lane: Hashable, tenant: str, now: float) -> float:
        """Seconds still to wait before a send whose slot has come; 0 records it as under
        way, and the caller must call `end` when it returns.

        Slots are planned; this checks actual sends. The platform counts a message when
        it arrives, which is some time between the start of the request and its answer,
        so a send counts from its end: the next one to the conversation starts a full
        interval after the previous answer, and network or event-loop delays cannot land
        two messages in one interval (a 429 costs the conversation a whole Retry-After)."""
        conversation, scope = self._actual(lane, tenant)
        t = max(conversation.earliest(now), scope.earliest(now))
        if t > now:
            return t - now
        conversation.flying += 1
        scope.flying += 1
        return 0.0

    def end(self, lane: Hashable, tenant: str, now: float) -> None:
        """The send `start` let go has returned (whatever its outcome)."""
        conversation, scope = self._actual(lane, tenant)
        conversation.land(now)
        scope.land(now)

    def block(self, lane: Hashable, tenant: str, until: float) -> None:
        """The platform said Retry-After for this conversation: nothing before `until`."""
        conversation, _ = self._windows(lane, tenant)
        conversation.blocked_until = max(conversation.blocked_until, until)

    def forget(self, now: float) -> None:
        """Drop idle windows and stale held slots so memory follows current traffic."""
        for lane in [k for k, w in self._lanes.items() if w.idle(now)]:
            del self._lanes[lane]
        for tenant in [k for k, w in self._tenants.items() if w.idle(now)]:
            del self._tenants[tenant]
        for key in [k for k, w in self._started.items() if w.idle(now)]:
            del self._started[key]
        for row_id in [r for r, (slot, _) in self._held.items() if slot < now - HELD_FOR]:
            del self._held[row_id]
