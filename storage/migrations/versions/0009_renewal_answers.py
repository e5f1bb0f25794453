"""renewal answers: each side's yes to a renewal, and who declined it and when

Revision ID: 0009_renewal_answers
Revises: 0008_meeting_uid
Create Date: 2026-12-03 14:45:00

Columns are only added (no table rebuild: on SQLite a rebuild of `pairs` would cascade
to its meetings).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_renewal_answers"
down_revision: str | None = "0008_meeting_uid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("mentee_renews_at", "mentor_renews_at", "renewal_declined_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("pairs", sa.Column(column, storage.types.UTCDateTime(), nullable=True))
    op.add_column("pairs", sa.Column("renewal_declined_by_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in ("renewal_declined_by_id", *reversed(COLUMNS)):
        op.drop_column("pairs", column)
