"""OpenSLO objectives to the objective, budgeting and SLI of one Faultline SLO each.

An objective gives the target (`target` 0–1 or `targetPercent`), for a threshold metric the
operator and value, and for time-slice budgeting the slice length (`timeSliceWindow`) and, for
ratio metrics, the share of good events that makes a slice good (`timeSliceTarget`). Faultline
judges a threshold at the end of each slice, so a threshold's `timeSliceTarget` other than 1 has
no equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.interop.imported import Data
from app.interop.openslo_indicator import Indicator
from app.interop.openslo_time import slice_window
from app.interop.reader import Node

OPERATORS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
DEFAULT_SLICE = "1m"


@dataclass(frozen=True)
class Budgeting:
    """The SLO-wide facts an objective is read against."""

    method: str  # occurrences | timeslices
    indicator: Indicator
    slice: str | None  # `faultline.dev/slice` on an exported occurrences SLO
    op: str | None  # `faultline.dev/op`: a threshold operator OpenSLO cannot write (== or !=)


def objective_fields(node: Node, budgeting: Budgeting) -> Data | None:
    """`objective`, `budgeting`, `slice`, `slice_target` and `sli` for one objective."""
    findings = node.findings
    target = node.number("target")
    percent = node.number("targetPercent")
    if target is not None and percent is not None:
        findings.warn(
            node.at("targetPercent"), "both target and targetPercent given; target is used"
        )
    objective = round(target * 100, 10) if target is not None else percent
    if objective is None:
        findings.error(node.at("target"), "an objective needs target or targetPercent")
        return None
    if not 0 < objective < 100:
        findings.warn(
            node.at("target" if target is not None else "targetPercent"),
            f"objective {objective:g}% leaves no error budget (Faultline needs 0 < objective < "
            "100); not imported",
        )
        return None
    fields: Data = {"objective": objective}
    indicator = budgeting.indicator
    if indicator.threshold_query is not None:
        return _threshold(node, budgeting, fields)
    return _ratio(node, budgeting, fields)


def _threshold(node: Node, budgeting: Budgeting, fields: Data) -> Data | None:
    findings = node.findings
    op_text = node.text("op")
    value = node.number("value")
    slice_target = node.number("timeSliceTarget")
    window = node.raw("timeSliceWindow")
    node.unread()
    op = budgeting.op or (OPERATORS.get(op_text) if op_text else None)
    if op is None:
        shown = f"{op_text!r}" if op_text else "none"
        findings.error(
            node.at("op"), f"a threshold objective needs op lt, lte, gt or gte ({shown})"
        )
        return None
    if value is None:
        findings.error(node.at("value"), "a threshold objective needs a value")
        return None
    fields["budgeting"] = "timeslices"
    if budgeting.method == "occurrences":
        findings.warn(
            node.origin,
            "Faultline budgets a threshold in time slices (each judged at its end): imported as "
            f"timeslices of {budgeting.slice or DEFAULT_SLICE}",
        )
        fields["slice"] = budgeting.slice or DEFAULT_SLICE
    else:
        fields["slice"] = _slice(node, window)
    if slice_target is not None and slice_target != 1:
        findings.warn(
            node.at("timeSliceTarget"),
            "Faultline judges a threshold at the end of each slice, so a slice is good or bad "
            f"as a whole; timeSliceTarget {slice_target:g} not imported",
        )
    query = budgeting.indicator.threshold_query
    fields["sli"] = {"threshold": {"query": query, "op": op, "value": value}}
    return None if fields["slice"] is None else fields


def _ratio(node: Node, budgeting: Budgeting, fields: Data) -> Data | None:
    findings = node.findings
    for key in ("op", "value"):
        node.skip(key, "used only with a thresholdMetric; not imported")
    slice_target = node.number("timeSliceTarget")
    window = node.raw("timeSliceWindow")
    node.unread()
    fields["budgeting"] = budgeting.method
    if budgeting.method == "occurrences":
        for key, given in (("timeSliceTarget", slice_target), ("timeSliceWindow", window)):
            if given is not None:
                findings.warn(node.at(key), "used only with Timeslices budgeting; not imported")
        if budgeting.slice is not None:
            fields["slice"] = budgeting.slice
    else:
        if slice_target is None:
            findings.error(node.at("timeSliceTarget"), "Timeslices budgeting needs timeSliceTarget")
            return None
        if not 0 < slice_target <= 1:
            findings.error(node.at("timeSliceTarget"), "timeSliceTarget is a share in (0, 1]")
            return None
        fields["slice"] = _slice(node, window)
        fields["slice_target"] = round(slice_target * 100, 10)
    assert budgeting.indicator.events is not None
    fields["sli"] = {"events": dict(budgeting.indicator.events)}
    return None if fields.get("slice", DEFAULT_SLICE) is None else fields


def _slice(node: Node, window: object) -> str | None:
    if window is None:
        node.findings.warn(
            node.at("timeSliceWindow"), f"no timeSliceWindow given; slices of {DEFAULT_SLICE}"
        )
        return DEFAULT_SLICE
    return slice_window(node.at("timeSliceWindow"), window, node.findings)
