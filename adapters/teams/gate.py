"""Which Teams activities may reach the bot at all, before anything is read or written.

With an app id, an activity must come from an allowed tenant (TeamsSettings.admits):
a validly signed activity from any other Microsoft 365 tenant is refused with 403, so
an outsider whose roster e-mail equals an employee's is never linked to her.
Without an app id (the Bot Framework Emulator, local development only) there is no
tenant to trust, so the rule is instead where the bot may call back: only a loopback
`serviceUrl` or upload URL, so a forged activity cannot make the bot post or upload
people's data to another host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.loopback import is_loopback_url
from adapters.payload_shape import lists_of_objects_or_absent, objects_or_absent, too_deep
from adapters.teams.settings import TeamsSettings
from adapters.teams.translate import tenant_of


class Refused(Exception):
    """The activity is not let in: `status` is 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.status = 403
        self.reason = reason


def admit(settings: TeamsSettings, activity: Mapping[str, Any]) -> None:
    """Raise Refused unless the (authenticated) activity may be handled."""
    if settings.authenticated:
        if not settings.admits(tenant_of(activity)):
            raise Refused("the activity's tenant is not allowed")
        return
    service_url = activity.get("serviceUrl")
    if not isinstance(service_url, str) or not is_loopback_url(service_url):
        raise Refused("without an app id only a loopback serviceUrl is answered")


def well_formed(activity: Mapping[str, Any]) -> bool:
    """An activity the adapter can read: a type, objects where objects belong."""
    kind = activity.get("type")
    return (
        isinstance(kind, str)
        and bool(kind)
        and not too_deep(activity)
        and objects_or_absent(activity, ("from", "recipient", "conversation", "channelData"))
        and lists_of_objects_or_absent(activity, ("entities", "attachments", "membersAdded"))
        and all(
            activity.get(key) is None or isinstance(activity[key], str)
            for key in ("serviceUrl", "channelId", "text", "name", "action")
        )
    )
