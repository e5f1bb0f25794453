"""Slack payloads → neutral inbound events. Pure functions, no I/O.

Shapes are those Slack documents: a slash command's form fields, an
interaction `payload` (block_actions, view_submission) and an Events API
envelope (message.im). What users.info said about the person (name, time zone,
e-mail) is passed in as a `SlackUser`, looked up by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.render_block_kit import ACTION_SEPARATOR, FORM_CALLBACK
from conversations.events import Action, Actor, Command, InboundEvent

PLATFORM = "slack"


class BadPayload(ValueError):
    """The payload is not a shape this adapter handles."""


@dataclass(frozen=True)
class SlackUser:
    """What users.info tells about a person."""

    user_id: str
    display_name: str
    timezone: str | None = None
    email: str | None = None


def reference(team_id: str, user_id: str) -> dict[str, Any]:
    """The stored conversation reference: enough to open a DM later.

    Kept free of per-event details (channel, ts) so it rarely changes and a
    read-only command writes nothing.
    """
    return {"team_id": team_id, "user_id": user_id}


def to_actor(team_id: str, user_id: str, fallback_name: str, user: SlackUser | None) -> Actor:
    if not user_id:
        raise BadPayload("no user id")
    return Actor(
        platform=PLATFORM,
        user_id=user_id,
        display_name=(user.display_name if user else "") or fallback_name or user_id,
        tenant=team_id,
        timezone=user.timezone if user else None,
        email=user.email if user else None,
    )


def team_and_user(body: dict[str, Any]) -> tuple[str, str, str]:
    """(team id, user id, name) from any of the three payload shapes."""
    if isinstance(body.get("user"), dict):  # interactions
        user = body["user"]
        team = body.get("team") or {}
        team_id = (team.get("id") if isinstance(team, dict) else None) or user.get("team_id", "")
        return str(team_id or ""), str(user.get("id", "")), str(user.get("username", ""))
    if isinstance(body.get("event"), dict):  # Events API envelope
        return str(body.get("team_id", "")), str(body["event"].get("user", "")), ""
    return (  # slash command
        str(body.get("team_id", "")),
        str(body.get("user_id", "")),
        str(body.get("user_name", "")),
    )


def _event(body: dict[str, Any], user: SlackUser | None, payload: Command | Action) -> InboundEvent:
    team_id, user_id, name = team_and_user(body)
    event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
    return InboundEvent(
        to_actor(team_id, user_id, name, user), payload, reference(team_id, user_id), event_id
    )


def _field_value(state: dict[str, Any]) -> str:
    """One input's submitted value as text, whatever the element type."""
    kind = state.get("type")
    if kind in ("static_select", "external_select"):
        option = state.get("selected_option") or {}
        return str(option.get("value", ""))
    if kind in ("multi_static_select", "multi_external_select"):
        return ",".join(str(o.get("value", "")) for o in state.get("selected_options") or [])
    if kind == "datepicker":
        return str(state.get("selected_date") or "")
    if kind == "timepicker":
        return str(state.get("selected_time") or "")
    return str(state.get("value") or "")


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def form_fields(view: dict[str, Any]) -> dict[str, str]:
    """Submitted values by input name. An empty input whose stored value was too long
    to show (`keep` in the metadata) is left out, so it stays unchanged."""
    keep = set(view_metadata(view).get("keep") or [])
    fields: dict[str, str] = {}
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        for state in actions.values():
            value = _field_value(state)
            if value or block_id not in keep:
                fields[block_id] = value
    return fields


def to_event(body: dict[str, Any], user: SlackUser | None = None) -> InboundEvent:
    """A slash command, block_actions, view_submission or message.im → a neutral event."""
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions") or []
        if not actions:
            raise BadPayload("block_actions without an action")
        action = actions[0]
        action_id = str(action.get("action_id", "")).split(ACTION_SEPARATOR, 1)[0]
        return _event(body, user, Action(action_id, str(action.get("value") or "")))
    if kind == "view_submission":
        view = body.get("view") or {}
        callback = str(view.get("callback_id", ""))
        form_id = view_metadata(view).get("form_id") or callback.removeprefix(FORM_CALLBACK)
        action = Action("form.submit", form_id=str(form_id), fields=form_fields(view))
        return _event(body, user, action)
    if kind == "event_callback":
        event = body.get("event") or {}
        if event.get("type") != "message" or not isinstance(event.get("text"), str):
            raise BadPayload(f"event {event.get('type')!r} is not a message")
        return _event(body, user, Command(event["text"]))
    if "command" in body:
        return _event(body, user, Command(str(body.get("text") or "")))
    raise BadPayload(f"unhandled payload type {kind!r}")
