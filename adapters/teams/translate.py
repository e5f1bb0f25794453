"""Teams activity JSON → neutral event; pure functions.

A message's text is a command line: `mentor status`, `/mentor status` and
`status` all work (the grammar strips the prefix). In a channel the bot's own
@mention is removed first, and every other mention becomes `<@aadObjectId|Name>`,
the form the command grammar reads as a person (quoted when the name has
spaces). A card submission (`value` carrying our "mentorbot" data) becomes an
Action with the form's fields.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.teams.render_adaptive_card import ACTION_KEY
from conversations.events import Action, Actor, Command, InboundEvent

PLATFORM = "teams"
_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)
_UNSAFE_LABEL = re.compile(r"[<>|\"“”]")


class NotForUs(ValueError):
    """The activity carries nothing to answer (a reaction, a foreign card's data…)."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def tenant_of(activity: Mapping[str, Any]) -> str:
    """The Azure AD tenant: channelData.tenant.id, else the conversation's tenantId."""
    tenant = _str(_dict(_dict(activity.get("channelData")).get("tenant")).get("id"))
    return tenant or _str(_dict(activity.get("conversation")).get("tenantId"))


def user_id_of(account: Mapping[str, Any]) -> str:
    """A Teams user's stable id: the aadObjectId (the admin form is teams:<aadObjectId>)."""
    return _str(account.get("aadObjectId")) or _str(account.get("id"))


def is_personal(activity: Mapping[str, Any]) -> bool:
    conversation = _dict(activity.get("conversation"))
    kind = _str(conversation.get("conversationType"))
    return kind == "personal" or (not kind and not conversation.get("isGroup"))


@lru_cache(maxsize=512)
def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def to_actor(activity: Mapping[str, Any], email: str | None = None) -> Actor:
    sender = _dict(activity.get("from"))
    user_id = user_id_of(sender)
    if not user_id:
        raise NotForUs("the activity names no sender")
    zone = _str(activity.get("localTimezone"))
    return Actor(
        platform=PLATFORM,
        user_id=user_id,
        display_name=_str(sender.get("name")) or user_id,
        tenant=tenant_of(activity),
        timezone=zone if zone and _valid_zone(zone) else None,
        email=email,
    )


def to_reference(activity: Mapping[str, Any]) -> dict[str, Any]:
    """How to reach the sender later, as a JSON ConversationReference.

    Only a personal chat is kept as the conversation: a reference taken in a
    channel names the user, and the sender opens a 1:1 chat with them. Nothing
    that changes per message (activity id) is kept, so an unchanged reference is
    not rewritten on every message. A team activity (message, install) also keeps
    the team and channel ids, so a channel post can pick that team's reference.
    """
    sender = _dict(activity.get("from"))
    bot = _dict(activity.get("recipient"))
    tenant = tenant_of(activity)
    reference: dict[str, Any] = {
        "channelId": _str(activity.get("channelId")) or "msteams",
        "serviceUrl": _str(activity.get("serviceUrl")),
        "tenantId": tenant,
        "bot": {"id": _str(bot.get("id")), "name": _str(bot.get("name"))},
        "user": {
            "id": _str(sender.get("id")),
            "name": _str(sender.get("name")),
            "aadObjectId": _str(sender.get("aadObjectId")),
        },
    }
    channel_data = _dict(activity.get("channelData"))
    team = _str(_dict(channel_data.get("team")).get("id"))
    if team:  # a team install or a channel message: a channel post can go there later
        reference["team"] = {"id": team}
        channel = _str(_dict(channel_data.get("channel")).get("id"))
        if channel:
            reference["channel"] = {"id": channel}
    if is_personal(activity):
        conversation = _dict(activity.get("conversation"))
        reference["conversation"] = {
            "id": _str(conversation.get("id")),
            "conversationType": "personal",
            "tenantId": tenant,
        }
    return reference


def mentions(activity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The mention entities, each with `mentioned` (id, name, maybe aadObjectId) and `text`."""
    found = []
    for entity in activity.get("entities") or ():
        if isinstance(entity, dict) and entity.get("type") == "mention":
            mentioned = _dict(entity.get("mentioned"))
            if _str(mentioned.get("id")):
                found.append(entity)
    return found


def _mention_token(mentioned: Mapping[str, Any], aad_ids: Mapping[str, str]) -> str:
    name = _str(mentioned.get("name")) or "someone"
    aad = _str(mentioned.get("aadObjectId")) or aad_ids.get(_str(mentioned.get("id")), "")
    if aad:
        label = _UNSAFE_LABEL.sub("", name).strip() or "someone"
        token = f"<@{aad}|{label}>"
        # Quoted, a name with spaces stays one token for the command grammar.
        return f'"{token}"' if any(ch.isspace() for ch in name) else token
    return "@" + (_SAFE_NAME.sub("", name) or "someone")


def command_text(activity: Mapping[str, Any], aad_ids: Mapping[str, str] | None = None) -> str:
    """The typed command: the bot's @mention removed, other mentions as `<@aad|Name>`.

    `aad_ids` maps a mention's Bot Framework id (29:…) to the person's
    aadObjectId when the roster gave it; a mention with neither reads `@Name`.
    """
    text = _str(activity.get("text"))
    bot_id = _str(_dict(activity.get("recipient")).get("id"))
    for entity in mentions(activity):
        mentioned = _dict(entity.get("mentioned"))
        written = _str(entity.get("text")) or f"<at>{_str(mentioned.get('name'))}</at>"
        if _str(mentioned.get("id")) == bot_id:
            replacement = " "
        else:
            replacement = _mention_token(mentioned, aad_ids or {})
        text = text.replace(written, replacement)
    text = html.unescape(_AT_TAG.sub("", text)).replace("\xa0", " ")
    return " ".join(text.split()) if "\n" not in text else text.strip()


def _action(value: Mapping[str, Any]) -> Action:
    data = _dict(value.get(ACTION_KEY))
    action_id = _str(data.get("action_id"))
    if not action_id:
        raise NotForUs("the submitted data is not from one of our cards")
    fields = {
        str(key): (item if isinstance(item, str) else "" if item is None else str(item))
        for key, item in value.items()
        if key not in (ACTION_KEY, "msteams")
    }
    return Action(
        action_id=action_id,
        value=_str(data.get("value")),
        form_id=_str(data.get("form_id")),
        fields=fields if action_id == "form.submit" else {},
    )


def event_id_of(activity: Mapping[str, Any]) -> str | None:
    """A short id for the activity, unique across conversations (retries are no-ops)."""
    activity_id = _str(activity.get("id"))
    if not activity_id:
        return None
    conversation = _str(_dict(activity.get("conversation")).get("id"))
    return hashlib.sha256(f"{conversation}\n{activity_id}".encode()).hexdigest()[:40]


def to_event(
    activity: Mapping[str, Any],
    *,
    email: str | None = None,
    aad_ids: Mapping[str, str] | None = None,
) -> InboundEvent:
    """A message activity → the neutral event; NotForUs when there is nothing to answer."""
    if activity.get("type") != "message":
        raise NotForUs(f"a {activity.get('type')!r} activity is not a message")
    actor = to_actor(activity, email)
    value = activity.get("value")
    payload: Command | Action
    if isinstance(value, dict):
        payload = _action(value)
    else:
        payload = Command(command_text(activity, aad_ids))
    return InboundEvent(actor, payload, to_reference(activity), event_id_of(activity))
