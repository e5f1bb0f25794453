"""What every platform's proactive sender promises the delivery worker.

A sender implements `Sender`: `platform` and `send(recipient, message)`. It may
also declare `pacing` (a `Pacing`), the platform's published send limits, so the
worker spaces sends to stay under them instead of learning them from 429s. Senders
that declare nothing get `pacing_for(platform)`: the known limits for Slack and
Teams, none for the local chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from conversations.messages import Message


@dataclass(frozen=True)
class Recipient:
    """Where to send: the identity's platform account and its stored conversation reference,
    or a channel by name or id (`channel`; e.g. a digest to `#mentoring-hr`).

    `key` is the outbox row's idempotency key: pass it to the platform where it takes one
    (an Idempotency-Key header, message metadata) so a re-send can be recognised.
    `maybe_delivered` says an earlier attempt's outcome is unknown (its worker died or
    lost its lease mid-send): a sender that can look the key up on the platform should
    do so before sending again.
    """

    platform: str
    tenant: str
    user_id: str
    reference: dict[str, Any] | None
    channel: str | None = None
    key: str = ""
    maybe_delivered: bool = False


@dataclass(frozen=True)
class SendResult:
    """delivered; unreachable (not now, through no fault: no open chat, no reference yet);
    retry (a transient failure, after `retry_after` seconds if the platform said so — a
    retry with `retry_after` is the platform pacing us and never uses up an attempt);
    failed (permanent: retrying will not help)."""

    outcome: Literal["delivered", "unreachable", "retry", "failed"]
    detail: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class Limit:
    """At most `count` sends in any `seconds`-long window."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Pacing:
    """A platform's send limits, as the delivery worker applies them.

    `per_conversation` limits apply to each recipient's conversation (a Slack DM
    channel, a Teams 1:1 thread); `per_tenant` to all sends into one workspace or
    tenant. `concurrency` bounds sends in flight at once for this platform.
    """

    per_conversation: tuple[Limit, ...] = ()
    per_tenant: tuple[Limit, ...] = ()
    concurrency: int = 16


# chat.postMessage: "one message per second per channel", short bursts tolerated but not
# guaranteed, so we do not rely on them. No margin is needed for network jitter: the worker
# counts a send from its answer (bot/pacing.py), so two cannot arrive within a second. Its
# workspace-wide limit is not published; a 429 with Retry-After tells us when we reach it.
SLACK_PACING = Pacing(per_conversation=(Limit(1, 1.0),))
# Bot Framework in Teams: per bot per thread 7/1 s, 8/2 s, 60/30 s, 1800/3600 s; globally
# 50 requests a second per app per tenant.
TEAMS_PACING = Pacing(
    per_conversation=(Limit(7, 1.0), Limit(8, 2.0), Limit(60, 30.0), Limit(1800, 3600.0)),
    per_tenant=(Limit(50, 1.0),),
)
UNPACED = Pacing()

KNOWN_PACING = {"slack": SLACK_PACING, "teams": TEAMS_PACING}


class Sender(Protocol):
    """`send` must return within 30 s (keep HTTP timeouts below that): the worker never
    starts a send its lease cannot cover, and treats one that outlives it as a retry."""

    platform: str

    async def send(self, recipient: Recipient, message: Message) -> SendResult: ...


def pacing_for(sender: Sender) -> Pacing:
    """The sender's declared pacing, else the known limits of its platform, else none."""
    declared = getattr(sender, "pacing", None)
    if isinstance(declared, Pacing):
        return declared
    return KNOWN_PACING.get(sender.platform, UNPACED)
