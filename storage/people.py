"""People, their platform identities and their profiles.

An identity is found by (platform, tenant, user id); a new one becomes a new
person unless the platform gave an e-mail that an existing person already
has, which is how a Slack account and a Teams account become one person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationReference, Identity, Pair, Person, Profile
from storage.states import ProfileStatus


@dataclass(frozen=True)
class IdentityKey:
    platform: str
    tenant: str
    user_id: str


async def find_identity(session: AsyncSession, key: IdentityKey) -> Identity | None:
    return await session.scalar(
        select(Identity).where(
            Identity.platform == key.platform,
            Identity.tenant == key.tenant,
            Identity.user_id == key.user_id,
        )
    )


async def find_identity_by_name(
    session: AsyncSession, platform: str, tenant: str, name: str
) -> list[Identity]:
    """Identities on one platform whose display name matches, case-insensitively."""
    rows = await session.scalars(
        select(Identity)
        .where(
            Identity.platform == platform,
            Identity.tenant == tenant,
            func.lower(Identity.display_name) == name.lower(),
        )
        .limit(5)
    )
    return list(rows)


async def upsert_identity(
    session: AsyncSession,
    key: IdentityKey,
    *,
    display_name: str,
    now: datetime,
    email: str | None = None,
    timezone: str | None = None,
    seen: bool = True,
) -> Identity:
    """Find or create the identity (and its person), refreshing what the platform told us."""
    identity = await find_identity(session, key)
    email = email.strip().lower() if email else None
    if identity is None:
        person = None
        if email:
            person = await session.scalar(select(Person).where(Person.email == email))
        if person is None:
            person = Person(display_name=display_name, email=email, created_at=now)
            session.add(person)
            await session.flush()
        identity = Identity(
            person_id=person.id,
            platform=key.platform,
            tenant=key.tenant,
            user_id=key.user_id,
            display_name=display_name,
            email=email,
            timezone=timezone,
            created_at=now,
            last_seen_at=now if seen else None,
        )
        session.add(identity)
        await session.flush()
        return identity
    await refresh_identity(
        session,
        identity,
        display_name=display_name,
        email=email,
        timezone=timezone,
        now=now if seen else None,
    )
    return identity


# A person's last_seen_at only steers which platform proactive messages go to, so it is
# refreshed at most this often: a read-only command then writes nothing.
SEEN_RESOLUTION = timedelta(minutes=10)


def identity_updates(
    identity: Identity,
    *,
    display_name: str,
    email: str | None,
    timezone: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    """What the platform told us that the stored identity does not say yet, as column
    values to write; empty when nothing is to be written. `now` None: not seen (a mention)."""
    changes: dict[str, Any] = {}
    if display_name and identity.display_name != display_name:
        changes["display_name"] = display_name
    if timezone and identity.timezone != timezone:
        changes["timezone"] = timezone
    email = email.strip().lower() if email else None
    if email and identity.email != email:
        changes["email"] = email
    if now is not None and (
        identity.last_seen_at is None or now - identity.last_seen_at >= SEEN_RESOLUTION
    ):
        changes["last_seen_at"] = now
    return changes


async def refresh_identity(
    session: AsyncSession,
    identity: Identity,
    *,
    display_name: str,
    email: str | None,
    timezone: str | None,
    now: datetime | None,
    person: Person | None = None,
) -> None:
    """Keep what the platform tells us current; `now` None means not seen (a mention)."""
    changes = identity_updates(
        identity, display_name=display_name, email=email, timezone=timezone, now=now
    )
    if "display_name" in changes:
        person = person or await session.get(Person, identity.person_id)
        if person is not None and person.display_name == identity.display_name:
            person.display_name = display_name  # the name was a placeholder from a mention
    for key, value in changes.items():
        setattr(identity, key, value)


@dataclass(frozen=True)
class Speaker:
    identity: Identity
    person: Person
    profile: Profile | None
    reference: dict[str, Any] | None
    pairs: list[Pair] | None = None  # the open pairs in the program, when read with the speaker


def speaker_joins(query: Select[Any]) -> Select[Any]:
    """`query` over the identity, its person, their profile in the program bound as
    `program_id` (if any) and the identity's conversation reference (if any)."""
    return (
        query.select_from(Identity)
        .join(Person, Person.id == Identity.person_id)
        .outerjoin(
            Profile,
            (Profile.person_id == Person.id) & (Profile.program_id == bindparam("program_id")),
        )
        .outerjoin(ConversationReference, ConversationReference.identity_id == Identity.id)
    )


_SPEAKER = speaker_joins(select(Identity, Person, Profile, ConversationReference.reference)).where(
    Identity.platform == bindparam("platform"),
    Identity.tenant == bindparam("tenant"),
    Identity.user_id == bindparam("user_id"),
)


async def load_speaker(session: AsyncSession, key: IdentityKey, program_id: int) -> Speaker | None:
    """Everything a turn needs about who is speaking, in one statement, in the session
    (a turn that writes; a read-only turn uses `speaker_reads`)."""
    row = (
        await session.execute(
            _SPEAKER,
            {
                "platform": key.platform,
                "tenant": key.tenant,
                "user_id": key.user_id,
                "program_id": program_id,
            },
        )
    ).first()
    if row is None:
        return None
    identity, person, profile, reference = row
    return Speaker(identity, person, profile, dict(reference) if reference is not None else None)


async def get_person(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


# Built once: most commands name someone or message them, and building these costs about
# as much as running them.
_DISPLAY_NAMES = select(Person.id, Person.display_name).where(
    Person.id.in_(bindparam("ids", expanding=True))
)
_IDENTITIES_OF = (
    select(Identity).where(Identity.person_id == bindparam("person_id")).order_by(Identity.id)
)
_PROFILE = select(Profile).where(
    Profile.person_id == bindparam("person_id"), Profile.program_id == bindparam("program_id")
)


async def display_names(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    rows = await session.execute(_DISPLAY_NAMES, {"ids": list(person_ids)})
    return {person_id: name for person_id, name in rows.all()}


async def identities_of(session: AsyncSession, person_id: int) -> list[Identity]:
    return list(await session.scalars(_IDENTITIES_OF, {"person_id": person_id}))


async def get_profile(session: AsyncSession, person_id: int, program_id: int) -> Profile | None:
    return await session.scalar(_PROFILE, {"person_id": person_id, "program_id": program_id})


async def get_or_create_profile(
    session: AsyncSession, person_id: int, program_id: int, now: datetime
) -> Profile:
    profile = await get_profile(session, person_id, program_id)
    if profile is None:
        profile = Profile(
            person_id=person_id,
            program_id=program_id,
            status=ProfileStatus.DRAFT,
            offers=[],
            wants=[],
            languages=[],
            updated_at=now,
        )
        session.add(profile)
        await session.flush()
    return profile


async def profiles_paused_until(
    session: AsyncSession, program_id: int, now: datetime
) -> list[Profile]:
    """Profiles whose dated pause has run out as of `now`."""
    rows = await session.scalars(
        select(Profile).where(
            Profile.program_id == program_id,
            Profile.status == ProfileStatus.PAUSED,
            Profile.paused_until.is_not(None),
            Profile.paused_until <= now,
        )
    )
    return list(rows)


async def count_profiles_by_status(session: AsyncSession, program_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Profile.status, func.count())
        .where(Profile.program_id == program_id)
        .group_by(Profile.status)
    )
    return {status: count for status, count in rows.all()}
