"""Links to the groups of grouped SLOs: a group's page is its SLO's page with the group chosen
in the query string (`/slo/checkout/success?group=route:/pay`, one `group=LABEL:VALUE` per
`group_by` label, as the API's `.../groups/report?group=`), so it is a link like every view.
The "other" group (the groups beyond `max_groups`) is `group=__other__`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from app.slo.groups import OTHER_VALUE, slo_of
from app.web.urlstate import ViewState, parse

_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*")')


def is_other(labels: Mapping[str, str]) -> bool:
    return bool(labels) and all(value == OTHER_VALUE for value in labels.values())


def group_param(labels: Mapping[str, str]) -> tuple[str, ...]:
    """The `group` query values naming a group."""
    if is_other(labels):
        return (OTHER_VALUE,)
    return tuple(f"{name}:{value}" for name, value in labels.items())


def group_name(labels: Mapping[str, str]) -> str:
    """A group as people read it: `region=us-east`, or `other` for the groups beyond the cap."""
    if is_other(labels):
        return "other"
    return ", ".join(f"{name}={value}" for name, value in labels.items())


def labels_of_key(key: str) -> dict[str, str] | None:
    """The labels in a group's key (`checkout/success{route="/pay"}`); None for an SLO's key.
    The other group's key (`…{__other__}`) names no label: `{"": "__other__"}` stands for it."""
    if "{" not in key:
        return None
    inner = key.split("{", 1)[1].removesuffix("}")
    if inner == OTHER_VALUE:
        return {"": OTHER_VALUE}
    found = {name: json.loads(value) for name, value in _MATCHER.findall(inner)}
    return {name: str(value) for name, value in found.items()} or None


def group_href(slo_key: str, labels: Mapping[str, str], query: str = "") -> str:
    """The page of one group of `slo_key`, keeping the state of `query` (range, refresh)."""
    state: ViewState = parse(query)
    return f"/slo/{slo_key}{state.query(group=group_param(labels))}"


def href_of_key(key: str, query: str = "") -> str:
    """The page of an SLO's or a group's key (an alert's `slo_key` may be either)."""
    labels = labels_of_key(key)
    if labels is None:
        return f"/slo/{key}{query}"
    return group_href(slo_of(key), labels, query)
