"""Live web-chat connections, and the local platform's proactive sender.

A local user is reachable while at least one browser tab has the event
stream open. A message counts as delivered only once a stream has written it
to its socket; otherwise it stays queued in the outbox and arrives when the
person next opens the chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.delivery import Recipient, SendResult
from conversations.messages import Message, to_dict

log = logging.getLogger(__name__)
WRITE_CONFIRM_SECONDS = 5.0


@dataclass
class Delivery:
    """A payload for one stream, and the future that stream resolves once it is written."""

    payload: dict[str, Any]
    written: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


Stream = asyncio.Queue[Delivery | None]


class LocalHub:
    platform = "local"

    def __init__(self) -> None:
        self._streams: dict[str, set[Stream]] = defaultdict(set)
        self.on_connect: Callable[[str, str], None] | None = None
        # Told once per delivered message (however many tabs showed it): the chat history.
        self.on_delivered: Callable[[str, Message], Awaitable[None]] | None = None

    def subscribe(self, user_id: str) -> Stream:
        """A queue for one open stream; None on it means the server is closing."""
        queue: Stream = asyncio.Queue()
        self._streams[user_id].add(queue)
        if self.on_connect is not None:
            self.on_connect(self.platform, user_id)
        return queue

    def unsubscribe(self, user_id: str, queue: Stream) -> None:
        self._streams[user_id].discard(queue)
        if not self._streams[user_id]:
            del self._streams[user_id]
        while not queue.empty():  # anything still waiting was not written: say so
            item = queue.get_nowait()
            if item is not None and not item.written.done():
                item.written.set_result(False)

    def close_all(self) -> None:
        """End every open stream so a graceful shutdown does not wait on them."""
        for queues in self._streams.values():
            for queue in queues:
                queue.put_nowait(None)

    def connected(self, user_id: str) -> bool:
        return bool(self._streams.get(user_id))

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        streams = list(self._streams.get(recipient.user_id, ()))
        if not streams:
            return SendResult("unreachable", "no web chat open for this user")
        payload = to_dict(message)
        deliveries = [Delivery(payload) for _ in streams]
        for queue, delivery in zip(streams, deliveries, strict=True):
            queue.put_nowait(delivery)
        done, pending = await asyncio.wait(
            [d.written for d in deliveries], timeout=WRITE_CONFIRM_SECONDS
        )
        for future in pending:
            future.cancel()
        if any(f.result() for f in done if not f.cancelled()):
            if self.on_delivered is not None:
                try:
                    await self.on_delivered(recipient.user_id, message)
                except Exception:  # the message was shown: a history miss must not resend it
                    log.warning("could not add a delivered message to the chat history")
            return SendResult("delivered")
        return SendResult("unreachable", "the web chat closed before the message was written")


async def write_to(delivery: Delivery, write: Awaitable[object]) -> None:
    """Await the stream's write and tell the sender whether it reached the socket."""
    try:
        await write
    except BaseException:
        if not delivery.written.done():
            delivery.written.set_result(False)
        raise
    if not delivery.written.done():
        delivery.written.set_result(True)
