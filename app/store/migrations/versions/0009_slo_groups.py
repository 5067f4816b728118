"""grouped SLOs: a group's ledger is an SLO row under its parent; overflowing groups recorded

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, also on SQLite: a batch copy of `slos` would cascade to its history.
    op.add_column("slos", sa.Column("parent_id", sa.Integer(), nullable=True))
    op.add_column("slos", sa.Column("group_labels", sa.Text(), nullable=True))
    op.create_index(op.f("ix_slos_parent_id"), "slos", ["parent_id"], unique=False)
    op.create_table(
        "group_overflow",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("labels", sa.String(length=500), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"],
            ["slos.id"],
            name=op.f("fk_group_overflow_slo_id_slos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slo_id", "labels", name=op.f("pk_group_overflow")),
    )


def downgrade() -> None:
    op.drop_table("group_overflow")
    op.drop_index(op.f("ix_slos_parent_id"), table_name="slos")
    op.drop_column("slos", "group_labels")
    op.drop_column("slos", "parent_id")
