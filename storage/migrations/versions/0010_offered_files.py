"""offered files: files offered through a Teams file consent card, kept until answered

Revision ID: 0010_offered_files
Revises: 0009_renewal_answers
Create Date: 2026-12-05 10:00:00

The consent card carries only the file's name and a token; the bytes wait here until
the person saves or declines the file, or it expires (storage/offered_files.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_offered_files"
down_revision: str | None = "0009_renewal_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offered_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_offered_files_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offered_files")),
        sa.UniqueConstraint("token", name=op.f("uq_offered_files_token")),
    )
    op.create_index(
        op.f("ix_offered_files_expires_at"), "offered_files", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_offered_files_person_id"), "offered_files", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_offered_files_person_id"), table_name="offered_files")
    op.drop_index(op.f("ix_offered_files_expires_at"), table_name="offered_files")
    op.drop_table("offered_files")
