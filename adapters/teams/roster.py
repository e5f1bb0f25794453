"""Who a Teams account is: the roster gives the e-mail and the aadObjectId.

Activities carry a user's Bot Framework id (29:…) and usually the aadObjectId,
but never the e-mail, which is what makes a Slack account and a Teams account
one person. The roster (`GET /v3/conversations/{id}/members/{member}`) has both;
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
