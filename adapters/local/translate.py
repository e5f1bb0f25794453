"""Web-chat JSON ⇄ neutral model; pure functions."""

from __future__ import annotations

import re
from typing import Any

from conversations.events import Action, Actor, Command, InboundEvent

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MAX_TEXT = 20_000


class BadRequest(ValueError):
    """The request cannot become an event; the message is shown to the person."""


def to_actor(name: Any, timezone: Any = None) -> Actor:
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise BadRequest(
            "Pick a user name of letters, digits, dots, dashes or underscores "
            "(up to 40, starting with a letter or digit), e.g. alice."
        )
    tz = timezone if isinstance(timezone, str) and 0 < len(timezone) <= 64 else None
    # A login name, not a directory entry: it names a person only when first recorded.
    return Actor(
        platform="local",
        user_id=name.lower(),
        display_name=name,
        timezone=tz,
        directory_name=False,
    )


def to_event(body: Any) -> InboundEvent:
    """{"user", "text"} is a command; {"user", "action_id", "value", "form_id", "fields"}
    an action."""
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    actor = to_actor(body.get("user"), body.get("timezone"))
    reference = {"user": actor.user_id}
    event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
    if "text" in body:
        text = body["text"]
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise BadRequest(f"A message is text of at most {MAX_TEXT} characters.")
        return InboundEvent(actor, Command(text), reference, event_id)
    action_id = body.get("action_id")
    if not isinstance(action_id, str) or not action_id:
        raise BadRequest("Send either text or an action_id.")
    fields = body.get("fields") or {}
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        raise BadRequest("Form fields must be text.")
    value = body.get("value", "")
    form_id = body.get("form_id", "")
    if not isinstance(value, str) or not isinstance(form_id, str):
        raise BadRequest("Button values must be text.")
    return InboundEvent(actor, Action(action_id, value, form_id, fields), reference, event_id)
