"""The meeting ledger's state machine: which status a meeting may move to from which.

A meeting is scheduled, then held, skipped or cancelled; a move is an event on a
scheduled meeting (new time, SEQUENCE raised, same row and .ics UID, as RFC 5546 wants
for a reschedule), not a state. A held meeting may be logged again (by either
partner): it stays the one held meeting, its day or notes updated. Skipped and
cancelled are final. `Meeting.status` is checked against this table on every
assignment (storage/models.py), so no writer can step around it; bulk updates filter
on `can_become`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from storage.states import MeetingStatus

if TYPE_CHECKING:  # models.py imports this module to check every assignment
    from storage.models import Meeting

ALLOWED: dict[MeetingStatus | None, frozenset[MeetingStatus]] = {
    # A new row is recorded as it is (the product always starts one scheduled; fixtures
    # and imports may write history); the rules are about changing a meeting's state.
    None: frozenset(MeetingStatus),
    MeetingStatus.SCHEDULED: frozenset(
        {MeetingStatus.HELD, MeetingStatus.SKIPPED, MeetingStatus.CANCELLED}
    ),
    MeetingStatus.HELD: frozenset({MeetingStatus.HELD}),
    MeetingStatus.SKIPPED: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    """A writer tried a status change the ledger does not allow (a bug, never user input)."""


def check(old: MeetingStatus | None, new: MeetingStatus) -> MeetingStatus:
    """`new`, if a meeting in `old` may take it; else IllegalTransition."""
    if new not in ALLOWED[old]:
        raise IllegalTransition(f"a {old or 'new'} meeting cannot become {new}")
    return new


def can_become(new: MeetingStatus) -> tuple[MeetingStatus, ...]:
    """The statuses a bulk update to `new` may touch (its WHERE clause)."""
    return tuple(old for old, to in ALLOWED.items() if old is not None and new in to)


def hold(meeting: Meeting, on: datetime) -> None:
    """Held at `on` (first log), or its day corrected by a later log of the same meeting."""
    meeting.status, meeting.held_at = MeetingStatus.HELD, on


def skip(meeting: Meeting) -> None:
    meeting.status = MeetingStatus.SKIPPED


def cancel(meeting: Meeting) -> None:
    """Called off; SEQUENCE rises so the calendars' copies are replaced by the CANCEL."""
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1


def move(meeting: Meeting, at: datetime) -> None:
    """A scheduled meeting moved to `at`: same row and UID, SEQUENCE raised."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise IllegalTransition(f"a {meeting.status} meeting cannot move")
    meeting.scheduled_at = at
    meeting.sequence += 1
