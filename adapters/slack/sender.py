"""Proactive Slack messages: a DM to a person (conversations.open + chat.postMessage)
or a post to a channel (digests), for the delivery worker.

Failures are classified, never raised: rate limits, server and connection
errors are `retry` (with Slack's Retry-After when it gave one), so the worker
keeps the message queued; a gone person or channel is `failed`. Blocks Slack
refuses are sent again as plain text rather than lost.

A message's files (an .ics invite) are uploaded into the same channel after it, with
the files.uploadV2 flow (files.getUploadURLExternal, POST of the bytes,
files.completeUploadExternal). An upload that fails is logged and does not fail the
message: it went out, and its text says what the file holds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.delivery import Recipient, SendResult
from adapters.slack.render_block_kit import fallback_text, to_messages
from adapters.slack.translate import PLATFORM
from adapters.slack.webapi import classify
from conversations.messages import File, Message

log = logging.getLogger(__name__)


class SlackSender:
    platform = PLATFORM

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._dm_channels: dict[str, str] = {}  # user id → the bot's DM channel with them

    async def dm_channel(self, user_id: str) -> str:
        """The DM channel with a user (stable for the bot, so cached per process)."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self.client.conversations_open(users=user_id)
            channel = str((response.get("channel") or {}).get("id", ""))
            if not channel:
                raise ValueError(f"conversations.open gave no channel for {user_id}")
            self._dm_channels[user_id] = channel
        return channel

    async def upload(self, channel: str, files: Sequence[File]) -> list[str]:
        """Upload each file into `channel`; the names of those that did not arrive.

        Never raises: a failed upload must not cost the message it belongs to (that
        message was already posted, so retrying the whole send would post it twice).
        """
        missed: list[str] = []
        for file in files:
            try:
                await self.client.files_upload_v2(
                    channel=channel,
                    filename=file.filename,
                    title=file.filename,
                    content=file.data(),
                )
            except Exception as err:  # Web API error, upload URL refused, connection…
                log.warning("could not upload %s to %s: %s", file.filename, channel, err)
                missed.append(file.filename)
        return missed

    async def post(self, channel: str, message: Message) -> None:
        """Post the message (several posts when it has over 50 blocks); raises on failure."""
        for body in to_messages(message):
            await self.client.chat_postMessage(channel=channel, **body)

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        channel_name = recipient.channel
        try:
            channel = channel_name or await self.dm_channel(recipient.user_id)
            await self.post(channel, message)
        except Exception as err:
            verdict, detail, wait = classify(err)
            if verdict == "blocks":
                return await self._send_plain(recipient, message, detail)
            if verdict == "failed":
                log.warning("Slack refused a message for %s: %s", recipient.user_id, detail)
            return SendResult(verdict, detail, retry_after=wait)
        return await self._with_files(channel, message, "")

    async def _send_plain(self, recipient: Recipient, message: Message, why: str) -> SendResult:
        log.error("Slack refused the blocks of a message (%s); sending it as text", why)
        try:
            channel = recipient.channel or await self.dm_channel(recipient.user_id)
            body: dict[str, Any] = {"text": fallback_text(message)}
            await self.client.chat_postMessage(channel=channel, **body)
        except Exception as err:
            verdict, detail, wait = classify(err)
            return SendResult("failed" if verdict == "blocks" else verdict, detail, wait)
        return await self._with_files(channel, message, f"as text ({why})")

    async def _with_files(self, channel: str, message: Message, detail: str) -> SendResult:
        """The message is delivered; upload its files after it and note any that failed."""
        missed = await self.upload(channel, message.files())
        if missed:
            detail = "; ".join(filter(None, [detail, "not uploaded: " + ", ".join(missed)]))
        return SendResult("delivered", detail)
