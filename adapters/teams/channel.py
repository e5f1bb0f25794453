"""Posting into a Teams channel (the HR digest): where to post from, and what to post.

A proactive channel post is `POST {serviceUrl}/v3/conversations` with `isGroup`, the
channel and tenant in `channelData`, and the message as the new thread's `activity`.
The serviceUrl and tenant are not in app.yaml: they come from the conversation
references the endpoint stores on every activity (a team install or a channel message
also records its team and channel ids).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from adapters.teams.render_adaptive_card import to_activity
from conversations import reach
from conversations.engine import Engine
from conversations.messages import Block, Context, File, Message

# Teams refuses bot messages over about 28 KB (newer docs say more and exclude base64
# images, but older tenants and clients still enforce it): stay under it.
MAX_CHANNEL_MESSAGE_BYTES = 28_000


def team_of(channel: str) -> str:
    """The channel id without a thread suffix (`19:…@thread.tacv2;messageid=…`)."""
    return channel.split(";", 1)[0]


def pick_reference(
    candidates: Iterable[dict[str, Any]], channel: str, tenant: str = ""
) -> dict[str, Any] | None:
    """The reference to post into `channel` from: one taken in the team that holds the
    channel (its team id, or a channel id seen there; a team's General channel has the
    team's id), else the newest in `tenant` (any tenant when none is configured),
    since the serviceUrl is the same for every conversation of a tenant. None when no
    reference with a serviceUrl is known: the post waits until someone talks to the bot.
    """
    channel = team_of(channel)
    fallback: dict[str, Any] | None = None
    for reference in candidates:
        if not reference.get("serviceUrl") or not reference.get("tenantId"):
            continue
        if tenant and reference["tenantId"] != tenant:
            continue
        seen = {
            str((reference.get("team") or {}).get("id") or ""),
            str((reference.get("channel") or {}).get("id") or ""),
        }
        if channel in seen:
            return reference
        if fallback is None:
            fallback = reference
    return fallback


class ChannelReferences:
    """Finds the reference to post into a channel from, among those the engine stored."""

    def __init__(self, engine: Engine, tenant: str = "") -> None:
        self.engine = engine
        self.tenant = tenant

    async def __call__(self, channel: str) -> dict[str, Any] | None:
        found = await reach.recent_references(self.engine.db, "teams", self.tenant or None)
        return pick_reference(found, channel, self.tenant)


def _without_images(message: Message) -> Message:
    blocks: list[Block] = []
    for block in message.blocks:
        if isinstance(block, File) and block.mime.startswith("image/"):
            blocks.append(
                Context(
                    f"📎 The chart ({block.filename}) was left out: it is too large for a "
                    "Teams message. Ask me in a personal chat to have it."
                )
            )
        else:
            blocks.append(block)
    return dataclasses.replace(message, blocks=tuple(blocks))


def size_of(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-8"))


def channel_activity(
    message: Message, limit: int = MAX_CHANNEL_MESSAGE_BYTES
) -> tuple[dict[str, Any], str]:
    """The message as a channel post, and a note when something was left out.

    Images are shown in the card (file consent cards only work in personal chats); if
    that makes the message larger than `limit`, the images are dropped and the card says so.
    """
    activity = to_activity(message, inline_images=True)
    if size_of(activity) <= limit or not any(f.mime.startswith("image/") for f in message.files()):
        return activity, ""
    return without_images(message), LEFT_OUT


LEFT_OUT = "without its chart (too large for a Teams message)"


def without_images(message: Message) -> dict[str, Any]:
    """The channel post with its images replaced by a line that says they were left out."""
    return to_activity(_without_images(message))
