"""Everything stored about one person: read it all (`export-data`), or erase it
(`forget-me`) keeping only what counts anonymously.

Erasing keeps the person row (renamed, no e-mail) and the facts the program's
aggregates are built from: that a profile of some role joined and left, that pairs
existed and when they met. Everything that says who they are or what they said goes:
identities and conversation references, profile details, private notes, agenda items,
commitments, meeting feedback and ratings, end-of-pair reviews, queued messages, files
offered to them and not yet saved.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
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
    OfferedFile,
    OutboxMessage,
    Pair,
    PairReview,
    Person,
    PrivateNote,
    Profile,
    Program,
)
from storage.outbox import EMPTY_PAYLOAD
from storage.states import LapseOutcome, MeetingStatus, OutboxStatus, PairState, ProfileStatus

FORGOTTEN_NAME = "Former participant"


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(obj: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: _iso(getattr(obj, c)) for c in columns}


DECLINED = "declined by "


def end_reason_for(end_reason: str | None, role: str) -> str | None:
    """The pair's end reason as the person in `role` may read it: a decline's reason
    (`declined by mentor: …`) belongs to whoever declined, never to the one declined."""
    if end_reason is None or not end_reason.startswith(DECLINED):
        return end_reason
    decliner, _, _reason = end_reason[len(DECLINED) :].partition(":")
    return end_reason if decliner == role else DECLINED + decliner


def without_decline_reason(end_reason: str | None) -> str | None:
    """`declined by mentor: too busy` → `declined by mentor` (what forget-me keeps)."""
    if end_reason is None or not end_reason.startswith(DECLINED):
        return end_reason
    return end_reason.partition(":")[0]


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
                **_row(p, ("state", "proposed_at", "activated_at", "ended_at")),
                "end_reason": end_reason_for(
                    p.end_reason, "mentee" if p.mentee_id == person_id else "mentor"
                ),
                **_row(
                    p,
                    (
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


MIN_QUOTE = 3  # shorter values ("Al", "ok") would match unrelated messages


async def _what_they_wrote(session: AsyncSession, person_id: int) -> set[str]:
    """The values that identify the person or that they wrote: names, e-mail, agenda
    items, commitments, notes, profile text, pair goals, decline reasons."""
    values: set[str] = set()
    person = await session.get(Person, person_id)
    if person is not None:
        values.update(v for v in (person.display_name, person.email) if v)
    for row in await session.execute(
        select(Identity.display_name, Identity.email).where(Identity.person_id == person_id)
    ):
        values.update(v for v in row if v)
    for model, column in (
        (AgendaItem.text, AgendaItem.author_id),
        (Commitment.text, Commitment.person_id),
        (PrivateNote.text, PrivateNote.owner_id),
        (Profile.goals, Profile.person_id),
        (Profile.department, Profile.person_id),
    ):
        values.update(
            v for v in await session.scalars(select(model).where(column == person_id)) if v
        )
    for offers, wants in await session.execute(
        select(Profile.offers, Profile.wants).where(Profile.person_id == person_id)
    ):
        values.update(t for t in [*(offers or []), *(wants or [])] if t)
    for goals, reason in await session.execute(
        select(Pair.goals, Pair.end_reason).where(
            or_(Pair.mentee_id == person_id, Pair.mentor_id == person_id)
        )
    ):
        values.update(v for v in (goals, (reason or "").partition(": ")[2]) if v)
    return {v for v in values if len(v.strip()) >= MIN_QUOTE and v != FORGOTTEN_NAME}


async def _scrub_outbox(session: AsyncSession, person_id: int, needles: set[str]) -> int:
    """Empty every outbox row addressed to someone else (or a channel) that quotes the
    person: an agenda copy, a name in a digest. Rows not yet sent are withdrawn."""
    if not needles:
        return 0
    quoted = [json.dumps(n, ensure_ascii=False)[1:-1] for n in needles]
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.payload).where(
            or_(OutboxMessage.person_id != person_id, OutboxMessage.person_id.is_(None)),
            OutboxMessage.payload["text"].as_string().is_not(None),
        )
    )
    scrubbed = 0
    for row_id, status, payload in rows:
        text = json.dumps(payload, ensure_ascii=False)
        if not any(q in text for q in quoted):
            continue
        values: dict[str, Any] = {"payload": EMPTY_PAYLOAD}
        if status == OutboxStatus.PENDING:
            values.update(status=OutboxStatus.SUPERSEDED, last_error="a participant was forgotten")
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        )
        scrubbed += 1
    return scrubbed


async def erase(
    session: AsyncSession,
    person_id: int,
    now: datetime,
    quoted_as: Callable[[str], Iterable[str]] = lambda value: (value,),
) -> None:
    """Delete the person's personal data and contributions; keep anonymous facts.

    Outbox rows to others that quote them are emptied too; `quoted_as` gives the forms a
    value takes in a message (the engine escapes what people type)."""
    written = await _what_they_wrote(session, person_id)
    await _scrub_outbox(session, person_id, {q for v in written for q in quoted_as(v)})
    for model, column in (
        (PrivateNote, PrivateNote.owner_id),
        (AgendaItem, AgendaItem.author_id),
        (Commitment, Commitment.person_id),
        (MeetingFeedback, MeetingFeedback.person_id),
        (PairReview, PairReview.person_id),
        (OutboxMessage, OutboxMessage.person_id),
        (OfferedFile, OfferedFile.person_id),
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
    declined = await session.scalars(
        select(Pair).where(
            or_(Pair.mentee_id == person_id, Pair.mentor_id == person_id),
            Pair.end_reason.startswith(DECLINED),
        )
    )
    for pair in declined:
        pair.end_reason = without_decline_reason(pair.end_reason)
    await session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(display_name=FORGOTTEN_NAME, email=None, forgotten_at=now)
    )
