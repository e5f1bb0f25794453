"""The closed sets of states the domain moves through, as types.

Defined once here, at the bottom layer, so storage's columns and the conversations
that compare or assign states name them alike, and mypy refuses a state that is not
one (`pair.state = "actve"` is a type error). Each is a `StrEnum` whose values are
the strings stored in the database since the first migration: a member compares
equal to its string, and the columns stay plain VARCHARs (storage.types.StrEnumType).
"""

from __future__ import annotations

from enum import StrEnum


class ProfileStatus(StrEnum):
    """Whether a person takes part in a program: `draft` (details given, not opted in),
    `active`, `paused` (until `paused_until`, or indefinitely), `left`."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


class PairState(StrEnum):
    """A pair's life: proposed → active ⇄ paused → completed (the term ran out) or ended."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ENDED = "ended"


class MeetingStatus(StrEnum):
    """The meeting ledger: scheduled, then held, skipped or cancelled (a move keeps it
    scheduled at a new time)."""

    SCHEDULED = "scheduled"
    HELD = "held"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    """An outbox row: `pending` (waiting or due), `sending` (claimed under a lease), `sent`,
    `dead` (given up on) or `superseded` (withdrawn before it was claimed)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    SUPERSEDED = "superseded"


class LapseOutcome(StrEnum):
    """How a lapse episode ended (None while it is open)."""

    RECOVERED = "recovered"
    ENDED = "ended"
    REMATCH = "rematch"
    # The pair was paused: it leaves the ladder; after the pause silence counts afresh.
    PAUSED = "paused"


class LapseAction(StrEnum):
    """What one step of the lapse ladder does, in the order a ladder normally climbs;
    app.yaml names them (`step: nudge_both`)."""

    NUDGE_MENTEE = "nudge_mentee"
    NUDGE_BOTH = "nudge_both"
    NUDGE_MENTOR = "nudge_mentor"
    AT_RISK = "at_risk"
    END_OR_REMATCH = "end_or_rematch"
