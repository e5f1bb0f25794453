"""What every platform's proactive sender promises the delivery worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from conversations.messages import Message


@dataclass(frozen=True)
class Recipient:
    """Where to send: the identity's platform account and its stored conversation reference,
    or a channel by name or id (`channel`; e.g. a digest to `#mentoring-hr`)."""

    platform: str
    tenant: str
    user_id: str
    reference: dict[str, Any] | None
    channel: str | None = None


@dataclass(frozen=True)
class SendResult:
    """delivered; unreachable (not now, through no fault: no open chat, no reference yet);
    retry (a transient failure, after `retry_after` seconds if the platform said so);
    failed (permanent: retrying will not help)."""

    outcome: Literal["delivered", "unreachable", "retry", "failed"]
    detail: str = ""
    retry_after: float | None = None


class Sender(Protocol):
    platform: str

    async def send(self, recipient: Recipient, message: Message) -> SendResult: ...
