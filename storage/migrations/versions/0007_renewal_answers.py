"""renewal answers: each side's yes to a renewal, and who declined it and when

Revision ID: 0007_renewal_answers
Revises: 0006_meeting_uid
Create Date: 2026-12-03 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007_renewal_answers"
down_revision: str | None = "0006_meeting_uid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        for column in ("mentee_renews_at", "mentor_renews_at", "renewal_declined_at"):
            batch_op.add_column(sa.Column(column, storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("renewal_declined_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_pairs_renewal_declined_by_id_people"),
            "people",
            ["renewal_declined_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_pairs_renewal_declined_by_id_people"), type_="foreignkey"
        )
        batch_op.drop_column("renewal_declined_by_id")
        for column in ("renewal_declined_at", "mentor_renews_at", "mentee_renews_at"):
            batch_op.drop_column(column)
