"""slos.history_rewrites: counts writes that changed already evaluated history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, also on SQLite: a batch copy of `slos` would cascade to its history.
    op.add_column(
        "slos",
        sa.Column("history_rewrites", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("slos", "history_rewrites")
