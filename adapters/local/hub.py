"""Live web-chat connections, and the local platform's proactive sender.

A local user is reachable while at least one browser tab has the event
stream open; otherwise their messages stay queued in the outbox and arrive
when they next open the chat.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from adapters.delivery import Recipient, SendResult
from conversations.messages import Message, to_dict


class LocalHub:
    platform = "local"

    def __init__(self) -> None:
        self._streams: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = defaultdict(set)
        self.on_connect: Callable[[str], None] | None = None

    def subscribe(self, user_id: str) -> asyncio.Queue[dict[str, Any] | None]:
        """A queue of message payloads for one open stream; None means the server is closing."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._streams[user_id].add(queue)
        if self.on_connect is not None:
            self.on_connect(user_id)
        return queue

    def unsubscribe(self, user_id: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._streams[user_id].discard(queue)
        if not self._streams[user_id]:
            del self._streams[user_id]

    def close_all(self) -> None:
        """End every open stream so a graceful shutdown does not wait on them."""
        for queues in self._streams.values():
            for queue in queues:
                queue.put_nowait(None)

    def connected(self, user_id: str) -> bool:
        return bool(self._streams.get(user_id))

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        streams = self._streams.get(recipient.user_id)
        if not streams:
            return SendResult("unreachable", "no web chat open for this user")
        payload = to_dict(message)
        for queue in list(streams):
            queue.put_nowait(payload)
        return SendResult("delivered")
