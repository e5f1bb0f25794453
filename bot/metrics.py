"""Prometheus metrics: what an operator watches (served by bot/metrics_http.py).

Every label has a bounded set of values (surfaces, HTTP statuses, command names,
platforms, outcomes): never a user, channel or text. `prometheus_client` is imported
on first use, not with this module (its HTTP server modules cost ~0.1 s), so the CLI's
other commands never pay for it.
Recording needs no HTTP library: the delivery worker and the scheduler call in here.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from conversations.events import Action, Command, InboundEvent
from conversations.grammar import parse_line

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    from conversations.router import Router
# Chat turns are fast (most < 50 ms); matching rounds and sweeps can take seconds.
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
SURFACES = (
    ("/slack/", "slack"),
    ("/api/messages", "teams"),
    ("/healthz", "health"),
    ("/readyz", "health"),
    ("/metrics", "metrics"),
)


@dataclass
class Metrics:
    registry: CollectorRegistry
    inbound: Counter
    turn_seconds: Histogram
    outbox_pending: Gauge
    outbox_oldest: Gauge
    deliveries: Counter
    rate_limited: Counter
    sweep_seconds: Histogram
    match_round_seconds: Histogram
    digest_posted: Counter


@functools.cache
def get() -> Metrics:
    """The process's metrics, created (and prometheus_client imported) on first use."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    registry = CollectorRegistry()
    p = "mentorbot_"
    return Metrics(
        registry=registry,
        inbound=Counter(
            p + "inbound_requests",
            "HTTP requests received, by surface (slack, teams, local, health, metrics, other) "
            "and HTTP status.",
            ["surface", "status"],
            registry=registry,
        ),
        turn_seconds=Histogram(
            p + "turn_seconds",
            "Time to answer one chat event, by command.",
            ["command"],
            buckets=TURN_BUCKETS,
            registry=registry,
        ),
        outbox_pending=Gauge(
            p + "outbox_pending",
            "Outbox messages not yet delivered (pending or being sent), all replicas.",
            registry=registry,
        ),
        outbox_oldest=Gauge(
            p + "outbox_oldest_seconds",
            "How long the most overdue outbox message has waited past its due time.",
            registry=registry,
        ),
        deliveries=Counter(
            p + "deliveries",
            "Outbox send attempts by this replica, by platform and outcome "
            "(delivered, retry, unreachable, failed, dead).",
            ["platform", "outcome"],
            registry=registry,
        ),
        rate_limited=Counter(
            p + "rate_limited",
            "Sends the platform refused with a rate limit (HTTP 429 / Retry-After).",
            ["platform"],
            registry=registry,
        ),
        sweep_seconds=Histogram(
            p + "sweep_seconds",
            "Duration of one scheduled sweep (what is due, queued in the outbox).",
            buckets=JOB_BUCKETS,
            registry=registry,
        ),
        match_round_seconds=Histogram(
            p + "match_round_seconds",
            "Duration of one matching round (scheduled or started by an admin).",
            buckets=JOB_BUCKETS,
            registry=registry,
        ),
        digest_posted=Counter(
            p + "digest_posted",
            "Digest messages delivered to a channel or an admin by this replica.",
            registry=registry,
        ),
    )


# -- recording (each a no-op cost of a dict look-up and a lock) ------------------------------


def surface_of(path: str) -> str:
    for prefix, surface in SURFACES:
        if path.startswith(prefix):
            return surface
    return "local" if path == "/" or path.startswith(("/local/", "/static/")) else "other"


def delivery(platform: str, outcome: str, *, rate_limited: bool = False, kind: str = "") -> None:
    m = get()
    m.deliveries.labels(platform or "none", outcome).inc()
    if rate_limited:
        m.rate_limited.labels(platform or "none").inc()
    if kind == "digest" and outcome == "delivered":
        m.digest_posted.inc()


def timed_job(name: str, seconds: float) -> None:
    """A long step finished: `sweep` or `match_round` (others are ignored)."""
    m = get()
    if name == "sweep":
        m.sweep_seconds.observe(seconds)
    elif name == "match_round":
        m.match_round_seconds.observe(seconds)


def command_label(router: Router, event: InboundEvent) -> str:
    """The command's registered name (bounded: the router's table), never what was typed."""
    payload = event.payload
    if isinstance(payload, Action):
        if payload.action_id != "run":
            return "form" if payload.action_id == "form.submit" else "action"
        line = payload.value
    elif isinstance(payload, Command):
        line = payload.text
    else:  # pragma: no cover - the two payload kinds are exhaustive
        return "other"
    verb = parse_line(line).verb
    if not verb:
        return "overview"
    if verb == "help":
        return "help"
    spec = router.by_word.get(verb)
    return spec.name if spec is not None else "unknown"


Handle = Callable[[InboundEvent, datetime], Awaitable[Any]]


def timed_turns(handle: Handle, router: Router) -> Handle:
    """`handle` (the engine's) observed in mentorbot_turn_seconds by command."""

    async def timed(event: InboundEvent, now: datetime) -> Any:
        start = time.perf_counter()
        try:
            return await handle(event, now)
        finally:
            get().turn_seconds.labels(command_label(router, event)).observe(
                time.perf_counter() - start
            )

    return timed
