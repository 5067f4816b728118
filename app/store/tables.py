"""The ledger's tables (SQLAlchemy Core). Alembic migrations in `migrations/` create them.

Times are integer epoch seconds everywhere: the same on SQLite and PostgreSQL, and cheap to index.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per SLO ever loaded. Removed SLOs stay (inactive) so their history is kept.
slos = Table(
    "slos",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("service", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("definition", Text, nullable=False),  # the loaded spec, JSON
    Column("content_hash", String(32), nullable=False),
    Column("history_hash", String(32), nullable=False),
    Column("source_file", String(500), nullable=True),
    Column("slice_seconds", Integer, nullable=False),
    Column("history_start", BigInteger, nullable=True),  # first slice end evaluated
    Column("checkpoint", BigInteger, nullable=True),  # last slice end of contiguous history
    Column("last_error", Text, nullable=True),
    Column("last_error_kind", String(16), nullable=True),  # query | unavailable | store
    Column("last_error_at", BigInteger, nullable=True),  # wall clock
    Column("last_success_at", BigInteger, nullable=True),  # wall clock
    Column("updated_at", BigInteger, nullable=False),
    # The definition as declared in its files (`SLODefinition.declared_hash`, without what was
    # learned at run time) and the definitions generation that registered it.
    Column("declared_hash", String(32), nullable=True),
    Column("definitions_generation", Integer, nullable=True),
    # A group of a grouped SLO: its ledger is a row of its own under the SLO's (`parent_id`),
    # with its `group_by` label values as JSON (NULL for every ungrouped SLO and every parent).
    Column("parent_id", Integer, nullable=True, index=True),
    Column("group_labels", Text, nullable=True),
    # Writes that changed history already evaluated (slices at or before the checkpoint: a
    # backfill of older slices, corrections, repairs, a history reset): sums of it cached
    # between ticks are valid while this count is unchanged (`app.store.hour_sums`).
    Column("history_rewrites", Integer, nullable=False, server_default="0"),
)

# Groups of a grouped SLO beyond its `max_groups`, counted in its "other" group: reported,
# never dropped silently. Bounded per SLO (`app.store.groups.OVERFLOW_KEPT`).
group_overflow = Table(
    "group_overflow",
    metadata,
    Column("slo_id", Integer, ForeignKey("slos.id", ondelete="CASCADE"), primary_key=True),
    Column("labels", String(500), primary_key=True),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
)

failure_modes = Table(
    "failure_modes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slo_id", Integer, ForeignKey("slos.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("design_choice", String(100), nullable=False),
    Column("dependency", String(200), nullable=True),
    UniqueConstraint("slo_id", "name", name="uq_failure_modes_slo_id_name"),
)

# One row per SLO per slice end `t`, covering (t - slice, t]. Upserted, never appended twice.
# The ledger's row tables (slices and rollups) have no foreign key to `slos`: it was checked
# for every row a backfill writes (migration 0011 says why nothing needs it).
slices = Table(
    "slices",
    metadata,
    Column("slo_id", Integer, primary_key=True, autoincrement=False),
    Column("t", BigInteger, primary_key=True, autoincrement=False),
    Column("status", String(8), nullable=False),
    Column("total", Float, nullable=False),
    Column("bad", Float, nullable=False),
    Column("unattributed", Float, nullable=False),
    # {mode: [credited, raw_bad | null, held 1/0/null]}, compact JSON.
    Column("modes", Text, nullable=False),
    Column("events_total", Float, nullable=True),
    Column("events_bad", Float, nullable=True),
    Column("value", Float, nullable=True),
    Column("excluded", Boolean, nullable=False, default=False),
    Column("no_data", String(120), nullable=True),  # no-data slices: `reason:signal`
)


def _rollup(name: str, key: str) -> tuple[Table, Table]:
    """A rollup level: sums of counted slices per bucket, and per failure mode, keyed by the
    bucket's END (slices with t in (end - size, end])."""
    sums = Table(
        name,
        metadata,
        Column("slo_id", Integer, primary_key=True, autoincrement=False),
        Column(key, BigInteger, primary_key=True, autoincrement=False),
        Column("total", Float, nullable=False),
        Column("bad", Float, nullable=False),
        Column("unattributed", Float, nullable=False),
        Column("slices", Integer, nullable=False),
        Column("no_data_slices", Integer, nullable=False),
        Column("excluded_slices", Integer, nullable=False),
    )
    modes = Table(
        f"{name}_modes",
        metadata,
        Column("slo_id", Integer, primary_key=True, autoincrement=False),
        Column(key, BigInteger, primary_key=True, autoincrement=False),
        Column("mode", String(100), primary_key=True),
        Column("credited", Float, nullable=False),
        Column("held_slices", Integer, nullable=False),
    )
    return sums, modes


hourly, hourly_modes = _rollup("hourly", "hour")
# The same per five minutes: window edges then read at most a few slices, whatever the window.
fivemin, fivemin_modes = _rollup("fivemin", "bucket")

# The latest report of every SLO, refreshed after each evaluation: lists read this, not the ledger.
statuses = Table(
    "statuses",
    metadata,
    Column("slo_id", Integer, ForeignKey("slos.id", ondelete="CASCADE"), primary_key=True),
    Column("computed_at", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("policy", String(16), nullable=False),
    Column("remaining", Float, nullable=False),
    Column("consumed", Float, nullable=False),
    Column("sli", Float, nullable=True),
    Column("burn_1h", Float, nullable=True),
    Column("burn_6h", Float, nullable=True),
    Column("burn_1d", Float, nullable=True),
    Column("report", Text, nullable=False),  # SLOReport JSON without incidents
)

backfill_jobs = Table(
    "backfill_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slo_id", Integer, ForeignKey("slos.id", ondelete="CASCADE"), nullable=False),
    Column("start", BigInteger, nullable=False),  # first slice end to evaluate
    Column("end", BigInteger, nullable=False),  # last slice end to evaluate
    Column("cursor", BigInteger, nullable=True),  # last slice end done
    Column("state", String(16), nullable=False),  # pending | running | done | failed
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # The process running the job and until when its claim holds (renewed after every chunk);
    # an unfinished job whose claim expired (its holder died) may be claimed by anyone.
    Column("holder", String(200), nullable=True),
    Column("lease_expires", Float, nullable=True),  # epoch seconds
    Index("ix_backfill_jobs_state", "state"),
)

# Named leases: one holder at a time, until `expires_at` (epoch seconds) unless renewed.
# `generation` grows whenever the holder changes: a fencing token for work done under the lease.
# 'evaluator' is the process that ticks, judges alerts and delivers notifications.
leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("acquired_at", Float, nullable=False),
)

# Which set of definitions is current in a shared ledger (`app.store.generations`): one row per
# set ever registered, numbered in the order sets were first seen; the highest is current.
# `set_hash` digests the declared hashes of the set's SLOs.
definition_generations = Table(
    "definition_generations",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("set_hash", String(32), nullable=False, unique=True),
    Column("registered_at", BigInteger, nullable=False),
    Column("holder", String(200), nullable=False),
)

# Alerting (app.alerting). One row per SLO and alert tier ("no-data" is a tier of its own): where
# the alert stands now. `state` is inactive, firing or resolved; `pending_since` is set while a
# tier's condition holds but its `for` has not passed. Times are slice ends (data time).
alert_states = Table(
    "alert_states",
    metadata,
    Column("slo_id", Integer, ForeignKey("slos.id", ondelete="CASCADE"), primary_key=True),
    Column("tier", String(100), primary_key=True),
    Column("severity", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("since", BigInteger, nullable=False),  # slice end at which `state` began
    Column("pending_since", BigInteger, nullable=True),
    Column("evaluated_at", BigInteger, nullable=False),  # newest slice end judged
    Column("event_id", Integer, nullable=True),  # the transition that set `state`
    Column("summary", Text, nullable=False),
)

# Every transition (firing, resolved), kept as the alert timeline. `document` is the JSON the
# notifiers send (labels, annotations, figures), frozen when the transition happened.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slo_id", Integer, ForeignKey("slos.id", ondelete="CASCADE"), nullable=False),
    Column("tier", String(100), nullable=False),
    Column("severity", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # firing | resolved
    Column("t", BigInteger, nullable=False),  # slice end of the transition
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("summary", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),  # wall clock
    Index("ix_alert_events_slo_id_t", "slo_id", "t"),
)

# The transactional outbox: one row per transition and receiver, written in the transaction that
# changed the alert state, deleted never. The dispatcher claims due rows with a lease, so a
# crashed dispatcher's rows are taken over once the lease runs out.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("alert_events.id", ondelete="CASCADE"), nullable=False),
    Column("slo_id", Integer, nullable=False),  # with `tier`: deliveries keep per-alert order
    Column("tier", String(100), nullable=False),
    Column("receiver", String(100), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),  # wall clock
    Column("lease_until", Float, nullable=True),  # wall clock; a dispatcher is delivering it
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),  # wall clock
    Column("delivered_at", Float, nullable=True),
    UniqueConstraint("event_id", "receiver", name="uq_notifications_event_id_receiver"),
    Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
)

# Budget corrections (app.slo.corrections): exclusion windows, one-off (`start`, `end`) or
# recurring (`rrule`, `duration`). `scope` is an SLO key (`service/slo`) or a service name (all its
# SLOs); with `name` it is the identity, so a YAML correction keeps its row across edits.
# `source` is `api` or `file:<path>`. Times are epoch seconds; created/updated are wall clock.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("category", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("start", BigInteger, nullable=True),
    Column("end", BigInteger, nullable=True),
    Column("rrule", Text, nullable=True),
    Column("duration", Integer, nullable=True),
    Column("source", String(600), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(200), nullable=False),
    UniqueConstraint("scope", "name", name="uq_corrections_scope_name"),
)

# Every create, update and delete of a correction: who (`api`, `api:<actor>`, `file:<path>`),
# when (wall clock), and the correction as JSON before and after. Rows outlive their correction.
correction_audit = Table(
    "correction_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correction_id", Integer, nullable=False),
    Column("action", String(16), nullable=False),  # create | update | delete
    Column("actor", String(200), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("scope", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Index("ix_correction_audit_correction_id", "correction_id"),
    Index("ix_correction_audit_at", "at"),
)
