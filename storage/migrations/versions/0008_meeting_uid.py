"""meeting uid: a random UUID per meeting for its .ics invites, existing rows backfilled

Revision ID: 0008_meeting_uid
Revises: 0007_meeting_ledger
Create Date: 2026-12-03 14:40:00

No table is rebuilt: on SQLite a rebuild of `meetings` (batch mode) would drop the old
table with foreign keys on and cascade to meeting feedback. So the column is added NOT
NULL with an empty default, filled, and made unique with an index.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_meeting_uid"
down_revision: str | None = "0007_meeting_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_meetings = sa.table("meetings", sa.column("id", sa.Integer), sa.column("uid", sa.String(36)))


def upgrade() -> None:
    op.add_column(
        "meetings",
        sa.Column("uid", sa.String(length=36), nullable=False, server_default=""),
    )
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.select(_meetings.c.id))]
    update = _meetings.update().where(_meetings.c.id == sa.bindparam("row_id"))
    for start in range(0, len(ids), 1000):
        batch = [{"row_id": i, "uid": str(uuid.uuid4())} for i in ids[start : start + 1000]]
        bind.execute(update.values(uid=sa.bindparam("uid")), batch)
    if bind.dialect.name != "sqlite":  # SQLite cannot drop a default without a rebuild
        op.alter_column("meetings", "uid", server_default=None)
    op.create_index("ix_meetings_uid", "meetings", ["uid"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_meetings_uid", table_name="meetings")
    op.drop_column("meetings", "uid")
