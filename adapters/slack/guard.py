"""What `POST /slack/events` checks before bolt sees a request.

Bolt verifies signatures too, but answers some signed-yet-malformed requests with a
500 (a garbage X-Slack-Request-Timestamp, a body that is not UTF-8, a `payload` that
is not an object, `actions: [null]`). Here each gets a 4xx and a word, never more:
a bad signature or timestamp is 401 "unauthorized"; a signed body the adapter cannot
read is 400. A signed slash command also gets its replay key: Slack sends no event id
for commands, so the key is a hash of the signed timestamp and body, and the same
signed request replayed within the signature's five minutes acts once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.payload_shape import lists_of_objects_or_absent, objects_or_absent, too_deep

MAX_SKEW_SECONDS = 300
_OBJECT_KEYS = (
    *("user", "team", "enterprise", "channel", "container", "view", "message", "event"),
    *("state", "authorizations_info"),
)


class Unauthorized(Exception):
    """Not signed with our secret, or not within five minutes."""


class Malformed(Exception):
    """Signed, but not a payload Slack sends."""


@dataclass(frozen=True)
class Checked:
    text: str
    replay_key: str | None  # set for slash commands


def verify(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> None:
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("no usable timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise Unauthorized("stale timestamp")
    # Computed over the raw bytes: slack_sdk's verifier decodes the body first and raises
    # on bytes that are not UTF-8.
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Unauthorized("bad signature")


def _payload_shape(payload: Any) -> None:
    if not isinstance(payload, dict) or too_deep(payload):
        raise Malformed("the payload is not an object Slack sends")
    if not isinstance(payload.get("type", ""), str):
        raise Malformed("the payload's type is not text")
    if not objects_or_absent(payload, _OBJECT_KEYS):
        raise Malformed("the payload has a value where an object belongs")
    if not lists_of_objects_or_absent(payload, ("actions", "authorizations")):
        raise Malformed("the payload's actions are not objects")
    for action in payload.get("actions") or ():
        if not isinstance(action.get("action_id", ""), str):
            raise Malformed("an action id is not text")
    view = payload.get("view") or {}
    if not isinstance(view.get("callback_id", ""), str) or not objects_or_absent(view, ("state",)):
        raise Malformed("the view is not shaped as Slack sends it")


def check(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> Checked:
    """The request's text and replay key; raises Unauthorized or Malformed."""
    verify(raw, headers, secret, now)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            _payload_shape(json.loads(text))
            return Checked(text, None)
        form = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        if "payload" in form:
            _payload_shape(json.loads(form["payload"]))
            return Checked(text, None)
    except (ValueError, RecursionError):
        raise Malformed("the body is not JSON Slack sends") from None
    if "command" in form:
        signed = f"{headers.get('X-Slack-Request-Timestamp', '')}:{text}".encode()
        return Checked(text, "command:" + hashlib.sha256(signed).hexdigest())
    return Checked(text, None)
