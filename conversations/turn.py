"""One turn of conversation: who is speaking, in which program, as of when.

Command handlers receive a Turn and use its helpers instead of touching
storage directly for the common things (naming people, time zones, queuing a
message for someone else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.events import Actor
from conversations.grammar import Mention
from conversations.messages import Message, to_dict
from conversations.partners import Paired, partner_of
from conversations.policy import Policy
from storage import audit as audit_log
from storage import outbox, people
from storage.models import Identity, Pair, Person, Profile, Program
from storage.pairs import pairs_of


class Refusal(Exception):
    """Raised by a handler to answer with a message and change nothing."""

    def __init__(self, message: Message | str) -> None:
        super().__init__(message if isinstance(message, str) else message.text)
        self.message = message if isinstance(message, Message) else Message(message)


@dataclass
class Turn:
    session: AsyncSession
    now: datetime
    policy: Policy
    program: Program
    actor: Actor
    identity: Identity
    person: Person
    profile: Profile | None
    pairs: list[Pair] | None = None  # the speaker's open pairs, when read with the speaker
    _names: dict[int, str] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        """The speaker's zone: their profile's, else the platform's, else the program's."""
        if self.profile and self.profile.timezone:
            return self.profile.timezone
        return self.identity.timezone or self.policy.default_timezone

    async def open_pairs(self) -> list[Pair]:
        """The speaker's proposed, active and paused pairs in this program, by id."""
        if self.pairs is None:
            self.pairs = await pairs_of(self.session, self.person.id, self.program.id)
        return self.pairs

    async def ensure_profile(self) -> Profile:
        if self.profile is None:
            self.profile = await people.get_or_create_profile(
                self.session, self.person.id, self.program.id, self.now
            )
        return self.profile

    async def resolve_mention(self, mention: Mention) -> Identity:
        """The identity a mention names on the speaker's platform.

        A Slack or Teams mention carries the user id, so an account the bot has
        not met yet is recorded. In the local chat a name is the user id. A
        bare @name elsewhere must match someone the bot already knows.
        """
        platform, tenant = self.actor.platform, self.actor.tenant
        user_id = mention.user_id or (
            mention.name.lower() if platform == "local" and mention.name else None
        )
        if user_id:
            return await people.upsert_identity(
                self.session,
                people.IdentityKey(platform, tenant, user_id),
                display_name=mention.name or user_id,
                now=self.now,
                seen=False,
            )
        assert mention.name is not None
        found = await people.find_identity_by_name(self.session, platform, tenant, mention.name)
        if len(found) == 1:
            return found[0]
        if not found:
            raise Refusal(
                f"I don't know anyone called {mention.label()} yet. "
                "Pick them from the @-mention list so I get their account."
            )
        raise Refusal(
            f"Several people are called {mention.label()}; pick them from the @-mention list."
        )

    async def display_name(self, person_id: int) -> str:
        if person_id == self.person.id:
            return self.person.display_name
        if person_id not in self._names:
            await self.prefetch_names([person_id])
        return self._names.get(person_id, "someone who left")

    async def partner_name(self, pair: Paired) -> str:
        """The name of the speaker's partner in `pair`."""
        return await self.display_name(partner_of(pair, self.person.id))

    async def audit(self, action: str, **details: Any) -> None:
        """Record in the audit log that the speaker did `action` now (never a note's text)."""
        await audit_log.record(
            self.session, actor_id=self.person.id, action=action, now=self.now, details=details
        )

    def know_names(self, names: dict[int, str]) -> None:
        """Names read along with something else; display_name then answers from memory."""
        self._names.update(names)

    async def prefetch_names(self, person_ids: list[int]) -> None:
        """Load many people's names in one query; display_name then answers from memory."""
        wanted = [
            pid for pid in set(person_ids) if pid not in self._names and pid != self.person.id
        ]
        if wanted:
            self._names.update(await people.display_names(self.session, wanted))

    async def mention_of(self, person_id: int) -> str:
        """How to name a person in a command on the speaker's platform (`@name`, `<@U1|name>`)."""
        for identity in await people.identities_of(self.session, person_id):
            if identity.platform == self.actor.platform and identity.tenant == self.actor.tenant:
                if identity.platform == "local":
                    return f"@{identity.user_id}"
                return f"<@{identity.user_id}|{identity.display_name}>"
        return f"@{await self.display_name(person_id)}"


async def enqueue_for_person(
    session: AsyncSession,
    person_id: int,
    key: str,
    kind: str,
    message: Message,
    now: datetime,
    *,
    platform: str | None = None,
) -> bool:
    """Queue `message` for the person's most recently seen identity; False if already queued.

    `platform`: that identity's platform when the caller has it already (a
    `storage.people.Recipient` carries it), which saves looking it up.
    """
    if platform is None:
        identities = await people.identities_of(session, person_id)
        if not identities:
            return False
        platform = max(identities, key=lambda i: people.seen_rank(i.last_seen_at, i.id)).platform
    return await outbox.enqueue(
        session,
        key=key,
        kind=kind,
        payload=to_dict(message),
        now=now,
        person_id=person_id,
        platform=platform,
    )
