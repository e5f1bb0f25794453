"""Posting the weekly digest on the schedule in app.yaml, from the sweep.

The digest is due at the configured weekday and time in the configured zone; a sweep
up to CATCH_UP later still posts it (the bot was down at the moment), a later one
skips that week. It is computed as of the scheduled moment, so every replica and
retry produces the same figures, and queued once per week and target under the key
`digest:{program}:{date}:{target}`. Targets: each configured Slack/Teams channel (an
outbox row with `channel` set), and each admin's local chat (the local platform has
no channels).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.digest.figures import Digest, compute_digest
from conversations.digest.messages import digest_message
from conversations.digest.policy import DigestSchedule
from conversations.messages import to_dict
from conversations.policy import Policy
from conversations.sweeps import DueItem, SweepContext
from storage import outbox, programs
from storage.database import Database
from storage.models import Program
from storage.outbox import queued_keys
from storage.people import local_admins

CATCH_UP = timedelta(days=2)


def last_slot(schedule: DigestSchedule, timezone: str, now: datetime) -> datetime:
    """The latest scheduled digest moment at or before `now` (aware, in UTC)."""
    zone = ZoneInfo(schedule.timezone or timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    for week in (0, -1):
        day = monday + timedelta(days=schedule.weekday + 7 * week)
        slot = datetime.combine(day, schedule.at, tzinfo=zone)
        if slot <= local:
            return slot.astimezone(now.tzinfo)
    raise AssertionError("unreachable: last week's slot is always in the past")


def _local_admins(admins: frozenset[str]) -> tuple[list[str], list[str]]:
    users = [a.split(":", 1)[1] for a in admins if a.lower().startswith("local:")]
    emails = [a for a in admins if "@" in a and ":" not in a]
    return users, emails


async def post_digest(
    session: AsyncSession, program: Program, policy: Policy, now: datetime, key_base: str
) -> tuple[Digest | None, list[DueItem]]:
    """Queue the digest as of `now` to every target whose key `{key_base}:{target}` is new.

    Computes the digest only when some target still needs it (None otherwise)."""
    users, emails = _local_admins(policy.admins)
    people = await local_admins(session, users, emails)
    targets: list[tuple[str, str | None, int | None, str]] = [
        (f"{key_base}:{platform}:{channel}", channel, None, platform)
        for platform, channel in policy.digest.channels
    ]
    targets += [(f"{key_base}:local:{pid}", None, pid, "local") for pid in people]
    done = await queued_keys(session, [t[0] for t in targets])
    todo = [t for t in targets if t[0] not in done]
    if not todo:
        return None, []
    digest = await compute_digest(session, program, policy, now)
    payload = to_dict(digest_message(digest))
    items: list[DueItem] = []
    for key, channel, person_id, platform in todo:
        queued = await outbox.enqueue(
            session,
            key=key,
            kind="digest",
            payload=payload,
            now=now,
            person_id=person_id,
            platform=platform,
            channel=channel,
        )
        where = f"{platform} channel {channel}" if channel else f"admin {person_id}'s local chat"
        items.append(DueItem(key, "digest", person_id or 0, f"weekly digest to {where}", queued))
    return digest, items


async def sweep_digest(ctx: SweepContext) -> list[DueItem]:
    """Queue this week's digest (as of its scheduled moment) to every target without it."""
    slot = last_slot(ctx.policy.digest, ctx.policy.default_timezone, ctx.now)
    if ctx.now - slot > CATCH_UP:
        return []
    base = f"digest:{ctx.program.slug}:{slot:%Y-%m-%d}"
    _, items = await post_digest(ctx.session, ctx.program, ctx.policy, slot, base)
    return items


async def run_digest(
    db: Database, policy: Policy, now: datetime, *, post: bool
) -> tuple[Digest, list[DueItem]]:
    """`mentorbot digest`: the digest as of `now`; with `post`, queued to every target
    (once per `now`, so re-running the same command posts nothing twice)."""
    async with db.transaction() as session:
        program = await programs.ensure_program(
            session, policy.program_slug, policy.program_name, policy.objective, now
        )
        if post:
            base = f"digest-manual:{program.slug}:{now:%Y-%m-%dT%H:%M}"
            digest, items = await post_digest(session, program, policy, now, base)
            if digest is not None:
                return digest, items
        return await compute_digest(session, program, policy, now), []


async def why_nothing_posted(db: Database, policy: Policy) -> str:
    """After `run_digest(post=True)` queued nothing: the one reason, in an operator's words.
    Either there is nowhere to post it, or every target has this digest already."""
    users, emails = _local_admins(policy.admins)
    async with db.transaction() as session:
        admins = await local_admins(session, users, emails)
    if policy.digest.channels or admins:
        return "Nothing posted: this digest was already posted to every target."
    if users or emails:
        return (
            "Nothing posted: no digest channel is set in app.yaml (digest.slack_channel, "
            "digest.teams_channel) and none of the admins has used the local chat yet."
        )
    return (
        "Nothing posted: no digest channel is set in app.yaml (digest.slack_channel, "
        "digest.teams_channel) and no admin is listed (admins)."
    )
