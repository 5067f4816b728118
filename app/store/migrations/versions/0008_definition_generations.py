"""definition_generations and each SLO's declared hash: definitions by generation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definition_generations",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("set_hash", sa.String(length=32), nullable=False),
        sa.Column("registered_at", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("generation", name=op.f("pk_definition_generations")),
        sa.UniqueConstraint("set_hash", name=op.f("uq_definition_generations_set_hash")),
    )
    # Plain ALTER TABLE, also on SQLite: a batch copy of `slos` would cascade to its history.
    op.add_column("slos", sa.Column("declared_hash", sa.String(length=32), nullable=True))
    op.add_column("slos", sa.Column("definitions_generation", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("slos", "definitions_generation")
    op.drop_column("slos", "declared_hash")
    op.drop_table("definition_generations")
