"""corrections: budget exclusion windows (one-off or RFC 5545 recurring) and their audit trail

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 02:39:14.389177
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "correction_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_audit")),
    )
    with op.batch_alter_table("correction_audit", schema=None) as batch_op:
        batch_op.create_index("ix_correction_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_correction_audit_correction_id", ["correction_id"], unique=False)

    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=True),
        sa.Column("end", sa.BigInteger(), nullable=True),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=600), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
        sa.UniqueConstraint("scope", "name", name="uq_corrections_scope_name"),
    )


def downgrade() -> None:
    op.drop_table("corrections")
    with op.batch_alter_table("correction_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_correction_audit_correction_id")
        batch_op.drop_index("ix_correction_audit_at")

    op.drop_table("correction_audit")
