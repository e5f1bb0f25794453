"""Proactive messages to Teams through stored conversation references.

A reference with a personal conversation is continued (`continue_conversation`);
one taken in a channel names only the user, so a 1:1 chat is opened first
(`POST /v3/conversations`, which returns the existing chat if there is one).
Teams throttles bots (about 7 messages a second per conversation): sends to one
conversation are paced, and 429, 412, 502 and 504 (and other 5xx) are retried a
few times in place with exponential backoff and jitter (while the waits are
short), then handed back to the delivery worker as `retry` with a wait that is
at least the Retry-After the connector asked for. Nobody to send to yet is `unreachable`,
which keeps the message queued until the person talks to the bot. A message's files
are offered (stored for the person, files.py) once per send and go as file consent
cards carrying their tokens; if the connector refuses those cards (400, or 413 for a
message still too large) the message is sent again without them, so the card with the
words still arrives, and the offers that did not go out are withdrawn. A channel post
(the HR digest) opens a new thread in the channel, from a stored reference of that team
or tenant (channel.py).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import HttpOperationError

from adapters.clock import Clock, SystemClock
from adapters.delivery import Recipient, SendResult
from adapters.teams.channel import LEFT_OUT, channel_activity, without_images
from adapters.teams.connector import TokenUnavailable
from adapters.teams.files import TOO_LARGE, OfferedFiles, too_large_note
from adapters.teams.render_adaptive_card import to_activity
from conversations.messages import Context, Message

log = logging.getLogger(__name__)

# Finds the stored reference to post into a Teams channel from (channel.py).
ChannelReferenceLookup = Callable[[str], Awaitable[dict[str, Any] | None]]

RETRY_STATUSES = frozenset({412, 429, 500, 502, 503, 504})
GONE_STATUSES = frozenset({403, 404})  # bot removed or blocked, chat deleted
MAX_RETRY_AFTER = 3600.0


def retry_after_of(err: BaseException) -> float | None:
    """The Retry-After the connector sent with an error response, in seconds."""
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER) if raw is not None else None
    except ValueError:
        return None


def _status(err: BaseException) -> int:
    response = getattr(err, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def classify(err: BaseException) -> SendResult:
    """What a failed send means for the delivery worker."""
    if isinstance(err, HttpOperationError):
        status = int(getattr(err.response, "status_code", 0) or 0)
        detail = f"connector answered {status}: {err}"
        if status in RETRY_STATUSES or status == 401:
            return SendResult("retry", detail, retry_after=retry_after_of(err))
        if status in GONE_STATUSES:
            return SendResult("unreachable", detail)
        return SendResult("failed", detail)
    if isinstance(err, TokenUnavailable):
        return SendResult("retry", str(err))
    return SendResult("retry", f"{type(err).__name__}: {err}")


class Pacer:
    """At most one send per `interval` seconds to each conversation."""

    def __init__(self, interval: float, clock: Clock | None = None) -> None:
        self.interval = interval
        self.clock = clock or SystemClock()
        self._next: dict[str, float] = {}

    async def wait(self, conversation: str) -> None:
        if self.interval <= 0:
            return
        now = self.clock.monotonic()
        slot = max(self._next.get(conversation, now), now)
        self._next[conversation] = slot + self.interval
        if len(self._next) > 10_000:  # forget conversations long idle
            self._next = {k: v for k, v in self._next.items() if v > now}
        if slot > now:
            await self.clock.sleep(slot - now)


class TeamsSender:
    platform = "teams"

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        *,
        attempts: int = 3,
        base_delay: float = 1.0,
        pace_seconds: float = 1 / 7,
        channel_reference: ChannelReferenceLookup | None = None,
        offers: OfferedFiles | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.adapter = adapter
        self.channel_reference = channel_reference
        self.offers = offers
        self.app_id = app_id
        self.attempts = attempts
        self.base_delay = base_delay
        self.clock = clock or SystemClock()  # pacing and in-place retry waits
        self.pacer = Pacer(pace_seconds, self.clock)
        self.max_inline_wait = base_delay * 2.0**attempts

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential from `base_delay`, with full jitter on top; at least Retry-After."""
        wait = self.base_delay * 2.0**attempt
        wait += random.uniform(0, wait)
        return max(wait, retry_after or 0.0)

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        if recipient.channel:
            return await self.send_to_channel(recipient.channel, message)
        reference = recipient.reference
        if not reference or not reference.get("serviceUrl"):
            return SendResult("unreachable", "the person has not talked to the bot in Teams yet")
        files = bool(message.files())
        shown = message
        offered: list[str] | None = None
        account = (recipient.platform, recipient.tenant, recipient.user_id)

        async def send() -> str:
            nonlocal offered
            if files and offered is None and self.offers is not None:
                offered = await self.offers.offer(account, message.files(), self.clock.now())
            tokens = offered if files and offered else ()
            await self.send_activity(reference, to_activity(shown, offers=tokens))
            return "" if files == bool(message.files()) else "without its file consent card"

        def lighten(err: Exception) -> bool:
            nonlocal files, shown
            if files and _status(err) == TOO_LARGE:
                # Never silently: the person is told the file could not come this way.
                log.warning(
                    "a message with %d file(s) is too large for Teams", len(message.files())
                )
                note = too_large_note(message.files())
                shown = Message(f"{message.text}\n{note}", (*message.blocks, Context(note)))
                files = False
                return True
            if files and _status(err) == 400:
                log.warning("Teams refused a message's file consent card: %s", err)
                files = False
                return True
            return False

        result = await self._with_retries("Teams send", send, lighten)
        if offered and (result.outcome != "delivered" or not files):
            await self.withdraw(offered)
        return result

    async def withdraw(self, tokens: list[str]) -> None:
        """Delete offers whose consent cards did not go out (a retry offers them anew);
        one left behind by a failure here expires with the rest."""
        if self.offers is None:
            return
        try:
            await self.offers.discard(tokens)
        except Exception as err:
            log.warning("could not withdraw %d offered file(s): %s", len(tokens), err)

    async def _with_retries(
        self,
        what: str,
        send: Callable[[], Awaitable[str]],
        lighten: Callable[[Exception], bool],
    ) -> SendResult:
        """Up to `attempts` tries of `send` (which returns the delivered note), with backoff.

        `lighten(err)` may make the next try send less (no consent card, no image) and
        says so; that try follows at once. A wait longer than `max_inline_wait` goes back
        to the outbox as `retry`: sleeping here would hold up the worker's whole batch.
        """
        result = SendResult("retry")
        for attempt in range(self.attempts):
            try:
                return SendResult("delivered", await send())
            except Exception as err:
                result = classify(err)
                log.info("%s attempt %d: %s", what, attempt + 1, result.detail)
                if lighten(err):
                    continue
                if result.outcome != "retry":
                    return result
                wait = self.backoff(attempt, result.retry_after)
                if attempt + 1 < self.attempts and wait <= self.max_inline_wait:
                    await self.clock.sleep(wait)
                    continue
                # Only a wait the connector asked for spares the row an attempt; a send
                # that keeps failing on its own (network down, 5xx) uses attempts up and
                # ends dead after the worker's limit, with the worker's backoff.
                return SendResult("retry", result.detail, retry_after=result.retry_after)
        return result

    async def send_activity(self, reference: dict[str, Any], activity: dict[str, Any]) -> None:
        """One attempt: continue the personal chat, or open one first. Raises on failure."""
        ref = ConversationReference().deserialize(reference)
        sent: list[bool] = []

        async def deliver(context: TurnContext) -> None:
            await self.pacer.wait(str(context.activity.conversation.id))
            outgoing = TurnContext.apply_conversation_reference(
                Activity().deserialize(activity),
                TurnContext.get_conversation_reference(context.activity),
            )
            outgoing.reply_to_id = None  # a new message, not a reply to the synthetic turn
            await context.adapter.send_activities(context, [outgoing])
            sent.append(True)

        callback: Callable[[TurnContext], Awaitable[None]] = deliver
        if ref.conversation is not None and ref.conversation.id:
            await self.adapter.continue_conversation(ref, callback, bot_app_id=self.app_id)
        else:
            tenant = str(reference.get("tenantId") or "")
            parameters = ConversationParameters(
                is_group=False,
                bot=ref.bot,
                members=[ChannelAccount(id=ref.user.id)],
                tenant_id=tenant or None,
                channel_data={"tenant": {"id": tenant}} if tenant else None,
            )
            await self.adapter.create_conversation(
                self.app_id,
                callback,
                parameters,
                channel_id=ref.channel_id,
                service_url=ref.service_url,
            )
        if not sent:
            raise RuntimeError("the conversation could not be continued")

    async def send_to_channel(self, channel: str, message: Message) -> SendResult:
        """Post the message as a new thread in a Teams channel (`19:…@thread.tacv2`).

        The serviceUrl and tenant come from a stored reference (`channel_reference`):
        one from the channel's team if known, else any in the configured tenant. With
        none known yet the post is `unreachable` and stays queued; nothing is lost.
        Retried in place and handed back like `send`.
        """
        reference = await self.channel_reference(channel) if self.channel_reference else None
        if reference is None:
            return SendResult(
                "unreachable",
                "no Teams conversation reference is known yet to post into the channel from: "
                "install the app in the team (or talk to the bot) first",
            )
        activity, note = channel_activity(message)

        async def send() -> str:
            await self.post_to_channel(reference, channel, activity)
            return note

        def lighten(err: Exception) -> bool:
            nonlocal activity, note
            if _status(err) == 413 and not note and message.files():
                # MessageSizeTooBig: this tenant counts the image after all.
                activity, note = without_images(message), LEFT_OUT
                return True
            return False

        return await self._with_retries("Teams channel post", send, lighten)

    async def post_to_channel(
        self, reference: dict[str, Any], channel: str, activity: dict[str, Any]
    ) -> None:
        """One attempt: `POST /v3/conversations` with isGroup, the channel and tenant in
        channelData, and the message as the thread's first activity. Raises on failure."""
        ref = ConversationReference().deserialize(reference)
        tenant = str(reference.get("tenantId") or "")
        parameters = ConversationParameters(
            is_group=True,
            bot=ref.bot,
            tenant_id=tenant,
            channel_data={"channel": {"id": channel}, "tenant": {"id": tenant}},
            activity=Activity().deserialize(activity),
        )
        created: list[str] = []

        async def opened(context: TurnContext) -> None:
            created.append(str(context.activity.conversation.id))

        await self.pacer.wait(channel)
        await self.adapter.create_conversation(
            self.app_id,
            opened,
            parameters,
            channel_id=ref.channel_id or "msteams",
            service_url=ref.service_url,
        )
        if not created:
            raise RuntimeError("the channel thread could not be opened")
