"""The `faultline.dev/` annotations that carry what OpenSLO has no field for.

Export writes them so that importing an export gives back the same SLOs (failure modes, the
invariant, the alert policy reference, latency sugar, the events unit, `group_by` and
`max_groups`); other OpenSLO tools keep
annotations they do not understand, as the spec asks.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.interop.reader import Node

PREFIX = "faultline.dev/"
OWNER = PREFIX + "owner"
SLO_NAME = PREFIX + "slo"
INVARIANT = PREFIX + "invariant"
FAILURE_MODES = PREFIX + "failure-modes"
ALERTING = PREFIX + "alerting"
LATENCY = PREFIX + "latency"
UNIT = PREFIX + "unit"
SLICE = PREFIX + "slice"
THRESHOLD_OP = PREFIX + "op"
BAD_FROM_MODES = PREFIX + "bad-from-failure-modes"
POLICY = PREFIX + "policy"
TIER = PREFIX + "tier"
SHORT_WINDOW = PREFIX + "short-window"
CORRECTIONS = PREFIX + "corrections"
GROUP_BY = PREFIX + "group-by"  # OpenSLO v1 has no grouping: a JSON list of label names
MAX_GROUPS = PREFIX + "max-groups"

SLO_KEYS = frozenset(
    {
        SLO_NAME,
        INVARIANT,
        FAILURE_MODES,
        ALERTING,
        LATENCY,
        UNIT,
        SLICE,
        THRESHOLD_OP,
        BAD_FROM_MODES,
        CORRECTIONS,
        GROUP_BY,
        MAX_GROUPS,
    }
)
SERVICE_KEYS = frozenset({OWNER, CORRECTIONS})


def encode(value: Any) -> str:
    """Compact JSON (annotations are strings), keys in the order Faultline writes them."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Any:
    """The JSON in an annotation; ValueError when it is not JSON."""
    return json.loads(text)


def read_json(node: Node, annotations: dict[str, str], key: str) -> Any:
    """The JSON value of one of our annotations of `node`'s document; a warning if broken."""
    if key not in annotations:
        return None
    try:
        return decode(annotations[key])
    except ValueError:
        node.findings.warn(node.at("metadata", "annotations", key), "not JSON; not imported")
        return None
