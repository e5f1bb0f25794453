"""Who a Teams account is: the roster gives the e-mail and the aadObjectId.

Activities carry a user's Bot Framework id (29:…) and usually the aadObjectId,
but never the e-mail, which is what makes a Slack account and a Teams account
one person. The roster (`GET /v3/conversations/{id}/members/{member}`) has both;
its e-mail is trusted only from an allowed tenant's roster (the endpoint lets in no
other tenant's activities) and only for a member of that same tenant;
answers are cached per member for a day (failures for ten minutes) so a busy
person costs one lookup, not one per message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

log = logging.getLogger(__name__)

HIT_SECONDS = 24 * 3600
MISS_SECONDS = 600
MAX_ENTRIES = 50_000


@dataclass(frozen=True)
class Member:
    aad_object_id: str | None
    email: str | None


class Roster:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, Member]] = {}

    async def member(self, context: TurnContext, member_id: str) -> Member:
        """The member's aadObjectId and e-mail, as far as the roster tells; never raises."""
        now = time.monotonic()
        cached = self._cache.get(member_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            account = await TeamsInfo.get_member(context, member_id)
            email = account.email or (
                account.user_principal_name if "@" in (account.user_principal_name or "") else None
            )
            if not _same_tenant(getattr(account, "tenant_id", None), context):
                email = None  # a guest's home directory is not one we trust for e-mail
            found = Member(account.aad_object_id or None, email or None)
            expires = now + HIT_SECONDS
        except Exception as err:  # the roster is a nicety: a failure must not stop the turn
            log.info("no roster entry for a Teams member: %s", err)
            found = Member(None, None)
            expires = now + MISS_SECONDS
        if len(self._cache) >= MAX_ENTRIES:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[member_id] = (expires, found)
        return found


def _same_tenant(member_tenant: str | None, context: TurnContext) -> bool:
    """The roster entry belongs to the tenant the activity came from (when it says)."""
    if not member_tenant:
        return True
    activity = context.activity
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    tenant = tenant if isinstance(tenant, dict) else {}
    activity_tenant = str(tenant.get("id") or "") or str(
        getattr(activity.conversation, "tenant_id", "") or ""
    )
    return not activity_tenant or activity_tenant.lower() == member_tenant.lower()
