"""meeting ledger: when a pair's open lapse was detected; repair hidden scheduled meetings

`pairs.lapse_since` is where the lapse ladder now climbs from. A pair with an open
lapse gets its episode's start (the ladder stays where it was). Before this revision a
`met` logged ahead of the pair's scheduled meeting cleared `next_meeting_at` while the
meeting stayed scheduled, so the sweep never prompted for it: such pairs get their
meeting back and are made due at once (the sweep recomputes what is pending). Nothing
is deleted.

Revision ID: 0007_meeting_ledger
Revises: 0006_chat_history
Create Date: 2026-12-03 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007_meeting_ledger"
down_revision: str | None = "0006_chat_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lapse_since", storage.types.UTCDateTime(), nullable=True))
    op.execute(
        """
        UPDATE pairs SET lapse_since = (
            SELECT MIN(lapses.began_at) FROM lapses
            WHERE lapses.pair_id = pairs.id AND lapses.closed_at IS NULL
        )
        WHERE lapse_step > 0
        """
    )
    op.execute(
        """
        UPDATE pairs SET
            next_meeting_at = (
                SELECT MAX(meetings.scheduled_at) FROM meetings
                WHERE meetings.pair_id = pairs.id AND meetings.status = 'scheduled'
            ),
            due_at = (
                SELECT MIN(meetings.created_at) FROM meetings
                WHERE meetings.pair_id = pairs.id AND meetings.status = 'scheduled'
            )
        WHERE state = 'active' AND next_meeting_at IS NULL AND EXISTS (
            SELECT 1 FROM meetings
            WHERE meetings.pair_id = pairs.id AND meetings.status = 'scheduled'
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_column("lapse_since")
