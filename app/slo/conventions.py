"""Names other tools see, spelled once: SLO status and budget policy values, metric and label names.

`/metrics`, the API's filters, the dashboards and the Grafana export all take their names from
here, so a renamed series or a new state cannot reach one of them and miss another.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Whether an SLO's figures are current: evaluated, without data, behind, or failing."""

    OK = "ok"
    NO_DATA = "no-data"
    STALE = "stale"
    ERROR = "error"


class PolicyState(StrEnum):
    """Budget policy state, from remaining budget and burn (see `app.slo.policy_state`)."""

    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at-risk"
    EXHAUSTED = "exhausted"


# Per-SLO series on /metrics (labels `service`, `slo`, plus the ones named below).
SLO_BUDGET_REMAINING = "faultline_slo_error_budget_remaining_ratio"
SLO_BUDGET_CONSUMED = "faultline_slo_error_budget_consumed_ratio"
SLO_SLI = "faultline_slo_sli_ratio"
SLO_OBJECTIVE = "faultline_slo_objective_ratio"
SLO_BURN_RATE = "faultline_slo_burn_rate"  # + `window`
SLO_MODE_CONSUMED = "faultline_slo_failure_mode_budget_consumed_ratio"  # + mode labels
SLO_UNATTRIBUTED_CONSUMED = "faultline_slo_unattributed_budget_consumed_ratio"
SLO_STATUS = "faultline_slo_status"  # + `status`, 1 for the current one
SLO_POLICY_STATE = "faultline_slo_policy_state"  # + `state`, 1 for the current one
# Grouped SLOs only: groups with a ledger of their own, and groups counted in "other".
SLO_GROUPS = "faultline_slo_groups"
SLO_GROUPS_OVERFLOW = "faultline_slo_groups_overflow"
# Over every grouped SLO: groups with a ledger ("other" not counted), and the global cap.
GROUPS_TOTAL = "faultline_groups"
GROUPS_MAX_TOTAL = "faultline_groups_max_total"

# Faultline watching itself.
EVALUATION_LAG = "faultline_evaluation_lag_seconds"
QUERY_DURATION = "faultline_prometheus_query_duration_seconds"
QUERY_ERRORS = "faultline_prometheus_query_errors_total"  # + `kind`
TICK_DURATION = "faultline_tick_duration_seconds"
STORE_ERRORS = "faultline_store_errors_total"
SLO_EVALUATION_ERRORS = "faultline_slo_evaluation_errors_total"
NO_DATA_SLICES = "faultline_no_data_slices_total"  # + `reason`
DEFERRED_SLOS = "faultline_tick_deferred_slos_total"
ALERT_OUTBOX_OLDEST_AGE = "faultline_alert_outbox_oldest_age_seconds"
ALERT_NOTIFICATIONS_PENDING = "faultline_alert_notifications_pending"  # + `receiver`
ALERT_NOTIFICATIONS_FAILED = "faultline_alert_notifications_failed"  # + `receiver`
ALERTS_FIRING = "faultline_alerts_firing"  # + `severity`
# Shared evaluation: this process's leases (app/api/cluster_metrics.py).
LEADER = "faultline_leader"
SLO_LEASES_HELD = "faultline_slo_leases_held"
CLUSTER_MEMBERS = "faultline_cluster_members"
LEASE_RENEWAL_AGE = "faultline_lease_renewal_age_seconds"

# Label names.
SLO_LABELS = ("service", "slo")
WINDOW_LABEL = "window"
MODE_LABELS = ("failure_mode", "design_choice", "dependency")
STATUS_LABEL = "status"
POLICY_LABEL = "state"
QUERY_ERROR_KIND_LABEL = "kind"
NO_DATA_REASON_LABEL = "reason"
RECEIVER_LABEL = "receiver"
SEVERITY_LABEL = "severity"
