"""Everything stored about one person: read it all (`export-data`), or erase it
(`forget-me`) keeping only what counts anonymously.

Erasing keeps the person row (renamed, no e-mail) and the facts the program's
aggregates are built from: that a profile of some role joined and left, that pairs
existed and when they met. Everything that says who they are or what they said goes:
identities and conversation references, profile details, private notes, agenda items,
commitments, meeting feedback and ratings, end-of-pair reviews, queued messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import meeting_ledger
from storage.models import (
    AgendaItem,
    AuditEntry,
    ChatHistoryEntry,
    Commitment,
    Identity,
    Lapse,
    Meeting,
    MeetingFeedback,
    OutboxMessage,
    Pair,
    PairReview,
    Person,
    PrivateNote,
    Profile,
    Program,
)
from storage.states import LapseOutcome, MeetingStatus, PairState, ProfileStatus

FORGOTTEN_NAME = "Former participant"


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(obj: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: _iso(getattr(obj, c)) for c in columns}


async def export(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """All data about the person, including their own private notes, as JSON-able dicts.

    Their partners' notes, ratings and feedback are not theirs and are not included.
    """
    person = await session.get(Person, person_id)
    assert person is not None
    identities = await session.scalars(select(Identity).where(Identity.person_id == person_id))
    profiles = await session.execute(
        select(Profile, Program.slug)
        .join(Program, Program.id == Profile.program_id)
        .where(Profile.person_id == person_id)
    )
    pairs = list(
        await session.scalars(
            select(Pair)
            .where(or_(Pair.mentee_id == person_id, Pair.mentor_id == person_id))
            .order_by(Pair.id)
        )
    )
    pair_ids = [p.id for p in pairs]
    partner_ids = [p.mentor_id if p.mentee_id == person_id else p.mentee_id for p in pairs]
    names = dict(
        (
            await session.execute(
                select(Person.id, Person.display_name).where(Person.id.in_(partner_ids))
            )
        ).all()
    )
    meetings = await session.scalars(
        select(Meeting).where(Meeting.pair_id.in_(pair_ids)).order_by(Meeting.scheduled_at)
    )
    feedback = await session.scalars(
        select(MeetingFeedback).where(MeetingFeedback.person_id == person_id)
    )
    agenda = await session.scalars(select(AgendaItem).where(AgendaItem.author_id == person_id))
    commitments = await session.scalars(select(Commitment).where(Commitment.person_id == person_id))
    notes = await session.scalars(
        select(PrivateNote).where(PrivateNote.owner_id == person_id).order_by(PrivateNote.id)
    )
    reviews = await session.scalars(select(PairReview).where(PairReview.person_id == person_id))
    audit = await session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == person_id).order_by(AuditEntry.id)
    )
    chat = await session.scalars(
        select(ChatHistoryEntry)
        .where(ChatHistoryEntry.person_id == person_id)
        .order_by(ChatHistoryEntry.id)
    )
    return {
        "person": _row(person, ("id", "display_name", "email", "created_at")),
        "identities": [
            _row(
                i,
                (
                    "platform",
                    "tenant",
                    "user_id",
                    "display_name",
                    "email",
                    "timezone",
                    "created_at",
                    "last_seen_at",
                ),
            )
            for i in identities
        ],
        "profiles": [
            {
                "program": slug,
                **_row(
                    p,
                    (
                        "role",
                        "status",
                        "offers",
                        "wants",
                        "goals",
                        "department",
                        "manager_id",
                        "level",
                        "timezone",
                        "languages",
                        "capacity",
                        "paused_until",
                        "joined_at",
                        "left_at",
                        "updated_at",
                    ),
                ),
            }
            for p, slug in profiles.all()
        ],
        "pairs": [
            {
                "id": p.id,
                "my_role": "mentee" if p.mentee_id == person_id else "mentor",
                "partner": names.get(partner, ""),
                **_row(
                    p,
                    (
                        "state",
                        "proposed_at",
                        "activated_at",
                        "ended_at",
                        "end_reason",
                        "goals",
                        "cadence",
                        "term_end",
                        "agreement_confirmed_at",
                        "next_meeting_at",
                        "last_meeting_at",
                    ),
                ),
            }
            for p, partner in zip(pairs, partner_ids, strict=True)
        ],
        "meetings": [
            _row(m, ("id", "pair_id", "scheduled_at", "duration_minutes", "status", "held_at"))
            for m in meetings
        ],
        "my_meeting_feedback": [
            _row(f, ("meeting_id", "met", "rating", "created_at")) for f in feedback
        ],
        "my_agenda_items": [
            _row(a, ("pair_id", "text", "created_at", "cleared_at")) for a in agenda
        ],
        "my_commitments": [
            _row(c, ("pair_id", "text", "created_at", "done_at")) for c in commitments
        ],
        "my_private_notes": [
            _row(n, ("pair_id", "meeting_id", "text", "created_at")) for n in notes
        ],
        "my_pair_reviews": [
            _row(r, ("pair_id", "rating", "goals_achieved", "keep_in_touch", "created_at"))
            for r in reviews
        ],
        "my_actions": [_row(a, ("at", "action")) for a in audit],
        "my_web_chat": [
            {"at": _iso(c.created_at), "from": c.speaker, "text": c.payload.get("text", "")}
            for c in chat
        ],
    }


async def open_pairs_of(session: AsyncSession, person_id: int) -> list[Pair]:
    rows = await session.scalars(
        select(Pair).where(
            or_(Pair.mentee_id == person_id, Pair.mentor_id == person_id),
            Pair.state.in_((PairState.PROPOSED, PairState.ACTIVE, PairState.PAUSED)),
        )
    )
    return list(rows)


async def end_pair(session: AsyncSession, pair: Pair, reason: str, now: datetime) -> None:
    """End an open pair now: cancel its scheduled meetings and close its open lapse."""
    pair.state, pair.ended_at, pair.end_reason = PairState.ENDED, now, reason
    pair.next_meeting_at = pair.due_at = None
    await session.execute(
        update(Meeting)
        .where(
            Meeting.pair_id == pair.id,
            Meeting.status.in_(meeting_ledger.can_become(MeetingStatus.CANCELLED)),
        )
        .values(status=MeetingStatus.CANCELLED)
    )
    await session.execute(
        update(Lapse)
        .where(Lapse.pair_id == pair.id, Lapse.closed_at.is_(None))
        .values(closed_at=now, outcome=LapseOutcome.ENDED)
    )


async def erase(session: AsyncSession, person_id: int, now: datetime) -> None:
    """Delete the person's personal data and contributions; keep anonymous facts."""
    for model, column in (
        (PrivateNote, PrivateNote.owner_id),
        (AgendaItem, AgendaItem.author_id),
        (Commitment, Commitment.person_id),
        (MeetingFeedback, MeetingFeedback.person_id),
        (PairReview, PairReview.person_id),
        (OutboxMessage, OutboxMessage.person_id),
        (ChatHistoryEntry, ChatHistoryEntry.person_id),
        (Identity, Identity.person_id),
    ):
        await session.execute(delete(model).where(column == person_id))
    await session.execute(
        update(Profile)
        .where(Profile.manager_id == person_id)
        .values(manager_id=None, updated_at=now)
    )
    await session.execute(
        update(Profile)
        .where(Profile.person_id == person_id)
        .values(
            status=ProfileStatus.LEFT,
            offers=[],
            wants=[],
            goals=None,
            department=None,
            manager_id=None,
            level=None,
            timezone=None,
            languages=[],
            capacity=None,
            paused_until=None,
            updated_at=now,
        )
    )
    await session.execute(
        update(Profile)
        .where(Profile.person_id == person_id, Profile.left_at.is_(None))
        .values(left_at=now)
    )
    await session.execute(
        update(Pair)
        .where(or_(Pair.mentee_id == person_id, Pair.mentor_id == person_id))
        .values(goals=None, reasons=[])
    )
    await session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(display_name=FORGOTTEN_NAME, email=None, forgotten_at=now)
    )
