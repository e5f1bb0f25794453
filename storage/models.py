"""The whole mentoring domain as tables.

Later features add behaviour, not tables: people and their platform
identities, profiles per program, pairs with their state machine, meetings,
agendas, commitments, private notes, the outbox of proactive messages,
conversation references, processed inbound event ids and the audit log.
Every timestamp is an aware UTC datetime supplied by the caller (time is
passed in, never read from the database clock).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from storage import meeting_ledger
from storage.states import LapseOutcome, MeetingStatus, OutboxStatus, PairState, ProfileStatus
from storage.types import StrEnumType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Values of the role column; the state columns' values are the enums of storage/states.py.
ROLES = ("mentee", "mentor", "both")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Person(Base):
    """A human, whatever platforms they use; identities hang off it."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime]
    forgotten_at: Mapped[datetime | None]

    identities: Mapped[list[Identity]] = relationship(back_populates="person")


class Identity(Base):
    """One account on one platform (Slack workspace, Teams tenant, local chat)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "tenant", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    tenant: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="identities")


class Program(Base):
    """A mentoring program; one default program comes from app.yaml."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Profile(Base):
    """What a person offers and wants in one program, and whether they take part.

    status: draft (details given, not opted in), active, paused (until
    paused_until, or indefinitely when it is empty), left.
    """

    __tablename__ = "profiles"
    __table_args__ = (UniqueConstraint("person_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[ProfileStatus] = mapped_column(
        StrEnumType(ProfileStatus, 10), default=ProfileStatus.DRAFT
    )
    offers: Mapped[list[str]] = mapped_column(default=list)
    wants: Mapped[list[str]] = mapped_column(default=list)
    goals: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    level: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Matching preferences a mentee states (`prefers=`), and since when they have waited
    # unmatched: such people get priority in the next round.
    prefers: Mapped[list[str]] = mapped_column(default=list, server_default=sql_text("'[]'"))
    match_priority_since: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    manager: Mapped[Person | None] = relationship(foreign_keys=[manager_id])


Index("ix_profiles_program_status", Profile.program_id, Profile.status)


class Pair(Base):
    """A mentee and a mentor: proposed → active → paused → completed or ended.

    The agreement (goals, cadence, term end) is confirmed when it becomes
    active. next_meeting_at is kept in step with the meetings table so the
    sweep finds due and lapsed pairs through an index, not a table scan.
    """

    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    state: Mapped[PairState] = mapped_column(StrEnumType(PairState, 10), default=PairState.PROPOSED)
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    proposed_at: Mapped[datetime]
    proposal_expires_at: Mapped[datetime | None]
    mentee_accepted_at: Mapped[datetime | None]
    mentor_accepted_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    cadence: Mapped[str | None] = mapped_column(String(20))
    term_end: Mapped[date | None] = mapped_column(Date)
    agreement_confirmed_at: Mapped[datetime | None]
    next_meeting_at: Mapped[datetime | None]
    last_meeting_at: Mapped[datetime | None]
    lapse_step: Mapped[int] = mapped_column(Integer, default=0)
    lapse_cycle: Mapped[int] = mapped_column(Integer, default=0)
    # Follow-through (issue 5): each side's agreement, when silence is counted from, when
    # the pair was flagged at risk, and `due_at`, the next moment the sweep has work for the
    # pair (None: nothing planned), so a sweep reads only the pairs that are due.
    mentee_agreed_at: Mapped[datetime | None]
    mentor_agreed_at: Mapped[datetime | None]
    silent_since: Mapped[datetime | None]
    at_risk_since: Mapped[datetime | None]
    renewal_asked_at: Mapped[datetime | None]
    agreement_reminded_at: Mapped[datetime | None]  # the one reminder to confirm went out
    # Renewal (issue 13): each side's yes in the renewal window; the term is extended
    # when both have said yes. A no from either lets the pair complete at the term's end.
    mentee_renews_at: Mapped[datetime | None]
    mentor_renews_at: Mapped[datetime | None]
    renewal_declined_at: Mapped[datetime | None]
    renewal_declined_by_id: Mapped[int | None]  # a person id; no foreign key (see 0009)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    # When the open lapse episode was detected (its first rung): the ladder climbs from
    # here, however late that was; None while the pair is not lapsed.
    lapse_since: Mapped[datetime | None]


Index("ix_pairs_state_next_meeting", Pair.state, Pair.next_meeting_at)
Index("ix_pairs_state_last_meeting", Pair.state, Pair.last_meeting_at)


class MatchRound(Base):
    """One matching round. A scheduled round is keyed by its slot, so replicas that
    find it due at the same time run it once (the unique key decides who)."""

    __tablename__ = "match_rounds"
    __table_args__ = (UniqueConstraint("program_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(64))  # "scheduled:<iso>" or "manual:<iso>"
    started_at: Mapped[datetime]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    unmatched: Mapped[int] = mapped_column(Integer, default=0)
    total_score: Mapped[float] = mapped_column(Float, default=0.0)


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=45)
    status: Mapped[MeetingStatus] = mapped_column(
        StrEnumType(MeetingStatus, 10), default=MeetingStatus.SCHEDULED
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    held_at: Mapped[datetime | None]
    # The .ics UID: a random UUID, so an invite's UID is unique across installs and
    # databases (a row id repeats after a move from SQLite to PostgreSQL).
    uid: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    # Follow-through markers: what the sweep already did for this meeting; `sequence`
    # is the .ics SEQUENCE, bumped on every reschedule.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    agenda_prompted_at: Mapped[datetime | None]
    agenda_reminded_at: Mapped[datetime | None]
    mentor_briefed_at: Mapped[datetime | None]
    checkin_sent_at: Mapped[datetime | None]

    @validates("status")
    def _ledger_allows(self, key: str, new: MeetingStatus) -> MeetingStatus:
        """Every status change goes through the ledger's table (storage/meeting_ledger.py)."""
        return meeting_ledger.check(self.status, new)


Index("ix_meetings_status_scheduled", Meeting.status, Meeting.scheduled_at)
Index("ix_meetings_uid", Meeting.uid, unique=True)
# A pair's meetings in time order, status included so the digest reads lapsed pairs'
# weeks from the index alone; it also serves every lookup by pair_id.
Index("ix_meetings_pair_scheduled", Meeting.pair_id, Meeting.scheduled_at, Meeting.status)
# Held meetings only, in pair order: each pair's first and last held meeting (the digest's
# timing, the admin export) is one ordered pass over this small index, with no hashing.
Index(
    "ix_meetings_pair_held",
    Meeting.pair_id,
    Meeting.scheduled_at,
    postgresql_where=Meeting.status == MeetingStatus.HELD,
    sqlite_where=Meeting.status == MeetingStatus.HELD,
)


class MeetingFeedback(Base):
    """One participant's view of one meeting: did it happen, and a 1–5 rating."""

    __tablename__ = "meeting_feedback"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    met: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


# The digest's ratings of a week: an index-only range scan, not a pass over all feedback.
Index("ix_meeting_feedback_created_rating", MeetingFeedback.created_at, MeetingFeedback.rating)


class AgendaItem(Base):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


class Commitment(Base):
    """Something a person said they would do before next time."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class PrivateNote(Base):
    """A note only its owner can ever read: never in a digest, export or log."""

    __tablename__ = "private_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Lapse(Base):
    """One stretch of silence of a pair: how far up the ladder it went and how it ended.

    The digest counts lapses and recoveries from here (began_at, recovered_at,
    at_risk_at, outcome: recovered, ended, rematch, paused, or None while open).
    """

    __tablename__ = "lapses"
    __table_args__ = (UniqueConstraint("pair_id", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    cycle: Mapped[int] = mapped_column(Integer)
    began_at: Mapped[datetime] = mapped_column(index=True)
    step: Mapped[int] = mapped_column(Integer, default=1)
    at_risk_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[LapseOutcome | None] = mapped_column(StrEnumType(LapseOutcome, 20))


class PairReview(Base):
    """What one person said when a pair ended: rating, goals achieved, keep in touch."""

    __tablename__ = "pair_reviews"
    __table_args__ = (UniqueConstraint("pair_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rating: Mapped[int | None] = mapped_column(Integer)
    goals_achieved: Mapped[str | None] = mapped_column(String(10))
    keep_in_touch: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """A proactive message waiting to be delivered, exactly once.

    idempotency_key (pair, kind, cycle …) is unique, so the same nudge cannot
    be enqueued twice however many sweeps run. The delivery worker claims rows
    (status sending, claimed_until a lease) and marks them sent; a row whose
    lease ran out is claimable again, so a crash between claim and send loses
    nothing.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(
        StrEnumType(OutboxStatus, 10), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


Index("ix_outbox_due", OutboxMessage.status, OutboxMessage.next_attempt_at)


class ChatHistoryEntry(Base):
    """One line of a person's local web chat (what they said, or a message the bot sent,
    buttons included), so a reload or a switch of user shows the conversation again.
    Only the last few per person are kept (storage/chat_history.py)."""

    __tablename__ = "chat_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    speaker: Mapped[str] = mapped_column(String(10))  # "person" or "bot"
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


Index("ix_chat_history_person", ChatHistoryEntry.person_id, ChatHistoryEntry.id)


class ConversationReference(Base):
    """Where the bot can reach an identity later (a DM channel, a Teams reference)."""

    __tablename__ = "conversation_references"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), unique=True
    )
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Inbound event ids already handled, so platform retries change nothing."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(index=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OfferedFile(Base):
    """A file offered to a person through a Teams file consent card, kept here until they
    answer it (storage/offered_files.py): the card carries only its filename and token."""

    __tablename__ = "offered_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
