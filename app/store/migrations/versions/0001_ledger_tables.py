"""ledger tables

Revision ID: 0001
Revises:
Create Date: 2026-11-27 01:28:46.392474
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("history_hash", sa.String(length=32), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=True),
        sa.Column("slice_seconds", sa.Integer(), nullable=False),
        sa.Column("history_start", sa.BigInteger(), nullable=True),
        sa.Column("checkpoint", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_kind", sa.String(length=16), nullable=True),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.Column("last_success_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slos")),
        sa.UniqueConstraint("key", name=op.f("uq_slos_key")),
    )
    op.create_table(
        "backfill_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_backfill_jobs_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_jobs")),
    )
    with op.batch_alter_table("backfill_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_backfill_jobs_state", ["state"], unique=False)

    op.create_table(
        "failure_modes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("design_choice", sa.String(length=100), nullable=False),
        sa.Column("dependency", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_failure_modes_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failure_modes")),
        sa.UniqueConstraint("slo_id", "name", name="uq_failure_modes_slo_id_name"),
    )
    op.create_table(
        "hourly",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("bad", sa.Float(), nullable=False),
        sa.Column("unattributed", sa.Float(), nullable=False),
        sa.Column("slices", sa.Integer(), nullable=False),
        sa.Column("no_data_slices", sa.Integer(), nullable=False),
        sa.Column("excluded_slices", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_hourly_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slo_id", "hour", name=op.f("pk_hourly")),
    )
    op.create_table(
        "hourly_modes",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=100), nullable=False),
        sa.Column("credited", sa.Float(), nullable=False),
        sa.Column("held_slices", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_hourly_modes_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slo_id", "hour", "mode", name=op.f("pk_hourly_modes")),
    )
    op.create_table(
        "slices",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("bad", sa.Float(), nullable=False),
        sa.Column("unattributed", sa.Float(), nullable=False),
        sa.Column("modes", sa.Text(), nullable=False),
        sa.Column("events_total", sa.Float(), nullable=True),
        sa.Column("events_bad", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_slices_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slo_id", "t", name=op.f("pk_slices")),
    )
    op.create_table(
        "statuses",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("remaining", sa.Float(), nullable=False),
        sa.Column("consumed", sa.Float(), nullable=False),
        sa.Column("sli", sa.Float(), nullable=True),
        sa.Column("burn_1h", sa.Float(), nullable=True),
        sa.Column("burn_6h", sa.Float(), nullable=True),
        sa.Column("burn_1d", sa.Float(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_statuses_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slo_id", name=op.f("pk_statuses")),
    )


def downgrade() -> None:
    op.drop_table("statuses")
    op.drop_table("slices")
    op.drop_table("hourly_modes")
    op.drop_table("hourly")
    op.drop_table("failure_modes")
    with op.batch_alter_table("backfill_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_backfill_jobs_state")

    op.drop_table("backfill_jobs")
    op.drop_table("slos")
