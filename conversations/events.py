"""The neutral inbound event every adapter translates its platform payload into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is speaking: an account on one platform, with what the platform knows of them."""

    platform: str
    user_id: str
    display_name: str
    tenant: str = ""
    timezone: str | None = None
    email: str | None = None
    # True when `display_name` comes from the platform's directory (Slack, Teams), so it
    # may refresh a stored name; False for a login name (the local chat), which names a
    # person only when they are first recorded (issue 13: `chat --as tom` renamed Tom).
    directory_name: bool = True

    @property
    def name_update(self) -> str:
        """The name to refresh the stored one with; empty: keep the stored one."""
        return self.display_name if self.directory_name else ""


@dataclass(frozen=True)
class Command:
    """A typed command line, e.g. `/mentor pause until 2026-12-01` (the prefix is optional)."""

    text: str


@dataclass(frozen=True)
class Action:
    """A button click or a form submission.

    `action_id` names what to do (`run` runs `value` as a command line;
    `form.submit` submits `form_id` with `fields`).
    """

    action_id: str
    value: str = ""
    form_id: str = ""
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundEvent:
    """What happened, who did it and where a reply (now or later) can be sent.

    `reference` is the adapter's own JSON-able conversation reference, stored
    so that proactive messages can reach this person later. `event_id`, when
    the platform gives one, makes retries of the same event a no-op.
    """

    actor: Actor
    payload: Command | Action
    reference: dict[str, Any] | None = None
    event_id: str | None = None
