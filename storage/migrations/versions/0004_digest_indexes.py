"""digest indexes: meetings by pair in time order, held meetings, ratings by time

Replaces the plain index on meetings.pair_id with (pair_id, scheduled_at, status): it
serves the same lookups by pair and lets the digest read lapsed pairs' meetings by week
from the index alone. Adds (pair_id, scheduled_at) over held meetings only: each pair's
first and last held meeting becomes one ordered index-only pass, with no hash table.
Adds (created_at, rating) on meeting feedback: a week's ratings are an index-only range.

Revision ID: 0004_digest_indexes
Revises: 0003_followthrough
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

HELD = sa.text("status = 'held'")

revision: str = "0004_digest_indexes"
down_revision: str | None = "0003_followthrough"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meetings_pair_scheduled", ["pair_id", "scheduled_at", "status"], unique=False
        )
        batch_op.create_index(
            "ix_meetings_pair_held",
            ["pair_id", "scheduled_at"],
            unique=False,
            postgresql_where=HELD,
            sqlite_where=HELD,
        )
        batch_op.drop_index("ix_meetings_pair_id")
    with op.batch_alter_table("meeting_feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_feedback_created_rating", ["created_at", "rating"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_feedback_created_rating")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_pair_id", ["pair_id"], unique=False)
        batch_op.drop_index("ix_meetings_pair_held")
        batch_op.drop_index("ix_meetings_pair_scheduled")
