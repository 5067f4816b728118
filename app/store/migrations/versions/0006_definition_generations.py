"""definition_generations: which set of definitions is current, by generation

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
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


def downgrade() -> None:
    op.drop_table("definition_generations")
