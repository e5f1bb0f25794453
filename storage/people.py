"""People, their platform identities and their profiles.

An identity is found by (platform, tenant, user id); a new one becomes a new
person unless the platform gave an e-mail that an existing person already
has, which is how a Slack account and a Teams account become one person.

Where a proactive message to a person goes is decided here once (`MOST_RECENT_FIRST`,
`seen_rank`): to their most recently seen identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import among_batches
from storage.models import ConversationReference, Identity, Pair, Person, Profile
from storage.states import ProfileStatus

# The one rule for which of a person's identities proactive messages go to: the most
# recently seen; one never seen (NULL: known only from a mention) after every seen one;
# between equals, the newest identity. `MOST_RECENT_FIRST` orders SQL by it, `seen_rank`
# orders rows already read by it (the greatest rank is the one).
MOST_RECENT_FIRST = (Identity.last_seen_at.desc().nulls_last(), Identity.id.desc())
_NEVER = datetime.min.replace(tzinfo=UTC)


def seen_rank(last_seen_at: datetime | None, identity_id: int) -> tuple[bool, datetime, int]:
    """`MOST_RECENT_FIRST` as a sort key for rows in hand: the first is the greatest."""
    return (last_seen_at is not None, last_seen_at or _NEVER, identity_id)


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
    """Find or create the identity (and its person), refreshing what the platform told us.

    `seen` False is a mention typed by someone else: its name only names an identity
    recorded now, never renames a known one (only the directory or the person does)."""
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
        display_name=display_name if seen else "",
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
    # A platform that knows only the account name (the local chat) sends it as the display
    # name: it never replaces a real name stored before (the demo's people keep theirs).
    if (
        display_name
        and identity.display_name != display_name
        and display_name.lower() != identity.user_id.lower()
    ):
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


async def emails(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    """The e-mail each person's platform directory gave, for those who have one."""
    rows = await session.execute(
        select(Person.id, Person.email).where(Person.id.in_(person_ids), Person.email.is_not(None))
    )
    return {person_id: email for person_id, email in rows.all() if email}


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


@dataclass(frozen=True)
class Recipient:
    """What a proactive message needs about its reader: name, zone and where to send it."""

    person_id: int
    name: str
    timezone: str | None
    platform: str | None
    # Left the program: no reminders. A person's pause only stops matching; their pairs
    # go on (or are paused themselves) and they hear about them (issue 13).
    away: bool = False


async def recipients(
    session: AsyncSession, person_ids: Sequence[int], program_id: int
) -> dict[int, Recipient]:
    """Names, time zones (profile, else platform) and the most recently seen platform."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    # Three keyed look-ups rather than one join: given a few thousand ids, PostgreSQL's
    # planner prefers hashing the whole profiles table to probing its index per person.
    read_people, read_profiles, read_identities = _RECIPIENT_READS[session.get_bind().dialect.name]
    people = await session.execute(read_people, {"ids": ids})
    profiles = await session.execute(read_profiles, {"ids": ids, "program_id": program_id})
    settings = {person_id: (tz, status) for person_id, tz, status in profiles.all()}
    identities = await session.execute(read_identities, {"ids": ids})
    best: dict[int, tuple[str | None, str | None]] = {}
    for person_id, platform, tz in identities.all():
        best.setdefault(person_id, (platform, tz))  # the most recently seen comes first
    result = {}
    for person_id, name in people.all():
        found_platform, identity_tz = best.get(person_id, (None, None))
        profile_tz, status = settings.get(person_id, (None, None))
        result[person_id] = Recipient(
            person_id,
            name,
            profile_tz or identity_tz,
            found_platform,
            status == ProfileStatus.LEFT,
        )
    return result


def _recipient_reads(dialect: str) -> tuple[Any, Any, Any]:
    """`recipients`' three reads, built once per dialect: a meeting's confirmation runs them
    for one person on every `schedule`, and building them cost more than running them."""

    def ids_in(column: Any) -> Any:  # as `among`, with the ids bound at execution
        if dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))

    people = select(Person.id, Person.display_name).where(ids_in(Person.id))
    profiles = select(Profile.person_id, Profile.timezone, Profile.status).where(
        ids_in(Profile.person_id), Profile.program_id == bindparam("program_id")
    )
    identities = (
        select(Identity.person_id, Identity.platform, Identity.timezone)
        .where(ids_in(Identity.person_id))
        .order_by(Identity.person_id, *MOST_RECENT_FIRST)
    )
    return people, profiles, identities


_RECIPIENT_READS = {name: _recipient_reads(name) for name in ("sqlite", "postgresql")}


async def last_seen_platforms(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """Each person's most recently seen platform (where a proactive message goes), for the
    thousands of people a matching round messages."""
    found: dict[int, tuple[tuple[bool, datetime, int], str]] = {}
    for condition in among_batches(session, Identity.person_id, person_ids):
        rows = await session.execute(
            select(Identity.person_id, Identity.last_seen_at, Identity.id, Identity.platform).where(
                condition
            )
        )
        for person, seen, identity_id, platform in rows.all():
            rank = seen_rank(seen, identity_id)
            current = found.get(person)
            if current is None or rank > current[0]:
                found[person] = (rank, platform)
    return {person: value[1] for person, value in found.items()}


async def display_names_many(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """`display_names` for thousands of ids (a matching round's pool), in batches."""
    found: dict[int, str] = {}
    for condition in among_batches(session, Person.id, person_ids):
        rows = await session.execute(select(Person.id, Person.display_name).where(condition))
        found.update({pid: name for pid, name in rows.all()})
    return found


async def set_match_priority(
    session: AsyncSession, program_id: int, person_ids: Sequence[int], since: datetime | None
) -> None:
    """Mark people as waiting with priority since `since` (kept if already set), or clear
    it (`since` None). Only rows that change are written (a round touches thousands)."""
    column = Profile.match_priority_since
    changes = column.is_not(None) if since is None else column.is_(None)
    for condition in among_batches(session, Profile.person_id, person_ids):
        await session.execute(
            update(Profile)
            .where(Profile.program_id == program_id, condition, changes)
            .values(match_priority_since=since)
            .execution_options(synchronize_session=False)
        )


async def local_admins(
    session: AsyncSession, user_ids: Sequence[str], emails: Sequence[str]
) -> list[int]:
    """People with a local-chat identity named in `user_ids`, or whose e-mail is listed."""
    if not user_ids and not emails:
        return []
    rows = await session.scalars(
        select(Identity.person_id)
        .join(Person, Person.id == Identity.person_id)
        .where(
            Identity.platform == "local",
            Person.forgotten_at.is_(None),
            or_(
                func.lower(Identity.user_id).in_([u.lower() for u in user_ids]),
                func.lower(Person.email).in_([e.lower() for e in emails]),
            ),
        )
        .distinct()
        .order_by(Identity.person_id)
    )
    return list(rows)
