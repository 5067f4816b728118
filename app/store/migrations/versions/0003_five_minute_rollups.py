"""five-minute rollups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 02:35:26.655855
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fivemin",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("bad", sa.Float(), nullable=False),
        sa.Column("unattributed", sa.Float(), nullable=False),
        sa.Column("slices", sa.Integer(), nullable=False),
        sa.Column("no_data_slices", sa.Integer(), nullable=False),
        sa.Column("excluded_slices", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_fivemin_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slo_id", "bucket", name=op.f("pk_fivemin")),
    )
    op.create_table(
        "fivemin_modes",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=100), nullable=False),
        sa.Column("credited", sa.Float(), nullable=False),
        sa.Column("held_slices", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_fivemin_modes_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slo_id", "bucket", "mode", name=op.f("pk_fivemin_modes")),
    )

    _fill_from_slices()


def _fill_from_slices() -> None:
    """Ledgers written before this revision have slices and hourly sums only: rebuild every
    hour that has slices, which writes both rollup levels."""
    from app.store.ledger import HOUR, rebuild_hours  # noqa: PLC0415 - at upgrade time only

    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT DISTINCT slo_id, ((t + :h - 1) / :h) * :h FROM slices"), {"h": HOUR}
    ).all()
    hours: dict[int, list[int]] = {}
    for slo_id, hour in rows:
        hours.setdefault(int(slo_id), []).append(int(hour))
    for slo_id, ends in hours.items():
        # Under the migrations' lock; `lock_slo` reads `slos.parent_id`, not there yet.
        rebuild_hours(connection, slo_id, ends, locked=True)


def downgrade() -> None:
    op.drop_table("fivemin_modes")
    op.drop_table("fivemin")
