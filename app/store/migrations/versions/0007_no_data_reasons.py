"""slices.no_data: why a no-data slice has no data (`reason:signal`), NULL for other slices

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 09:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy on SQLite): slices already stored keep NULL, shown as
    # "reason not recorded" until they are evaluated again.
    op.add_column("slices", sa.Column("no_data", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slices", schema=None) as batch_op:
        batch_op.drop_column("no_data")
