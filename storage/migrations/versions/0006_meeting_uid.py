"""meeting uid: a random UUID per meeting for its .ics invites, existing rows backfilled

Revision ID: 0006_meeting_uid
Revises: 0005_agreement_reminder
Create Date: 2026-12-03 14:40:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_meeting_uid"
down_revision: str | None = "0005_agreement_reminder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_meetings = sa.table("meetings", sa.column("id", sa.Integer), sa.column("uid", sa.String(36)))


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=36), nullable=True))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.select(_meetings.c.id))]
    update = _meetings.update().where(_meetings.c.id == sa.bindparam("row_id"))
    for start in range(0, len(ids), 1000):
        batch = [{"row_id": i, "uid": str(uuid.uuid4())} for i in ids[start : start + 1000]]
        bind.execute(update.values(uid=sa.bindparam("uid")), batch)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint("uq_meetings_uid", ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint("uq_meetings_uid", type_="unique")
        batch_op.drop_column("uid")
