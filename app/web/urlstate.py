"""What a page shows, as it stands in the URL's query string, so every view is a shareable link.

Keys are the API's own (`service`, `label`, `policy`, `status`, `search`, `sort`, `start`, `end`,
`group_by`, a group's `group=LABEL:VALUE`) plus `range`, `refresh`, the overview's `groups`
(collapsed or expanded) and the SLO page's `group_search` and `group_offset`; defaults are left
out to keep links short. Values that make no sense fall back to the default rather than breaking
the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, cast, get_args
from urllib.parse import parse_qs, urlencode

from pydantic import ValidationError

from app.engine.view_models import GroupBy
from app.engine.views import SortKey
from app.slo.whatif import Change

RANGES = ("period", "7d", "1d", "6h", "custom")
REFRESH_SECONDS = {"off": 0, "30s": 30, "1m": 60, "5m": 300}
SORTS: tuple[str, ...] = get_args(SortKey)
GROUPINGS: tuple[str, ...] = get_args(GroupBy)
MULTI = ("service", "label", "policy", "status", "group")
GROUP_VIEWS = ("collapsed", "expanded")


@dataclass(frozen=True)
class ViewState:
    range: str = "period"
    start: str = ""  # custom ranges only: RFC 3339, epoch seconds or now-…
    end: str = ""
    refresh: str = "1m"
    sort: str = "remaining"
    search: str = ""
    service: tuple[str, ...] = ()
    label: tuple[str, ...] = ()  # NAME:VALUE
    policy: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    group_by: str = "failure_mode"
    # Grouped SLOs: the SLO page's group (LABEL:VALUE per `group_by` label, as the API's
    # `.../groups/report?group=`), and whether the overview shows each SLO's worst groups.
    group: tuple[str, ...] = ()
    groups: str = "collapsed"
    group_search: str = ""  # the SLO page's groups: a substring of the group's key
    group_offset: str = ""  # … and the page of them (groups skipped, worst first)
    # The SLO page's Replay panel: a what-if change (see `app.slo.whatif`), shareable as a link.
    wi_mode: str = ""  # a failure mode to edit
    wi_edit: str = ""  # remove | scale | cap
    wi_value: str = ""  # the scale factor or the cap ratio
    wi_objective: str = ""
    wi_period: str = ""

    @property
    def sort_key(self) -> SortKey:
        return cast(SortKey, self.sort)  # checked against SORTS when parsed

    @property
    def grouping(self) -> GroupBy:
        return cast(GroupBy, self.group_by)  # checked against GROUPINGS when parsed

    @property
    def refresh_seconds(self) -> int:
        return REFRESH_SECONDS[self.refresh]

    def range_params(self, period_span: str | None = None) -> tuple[str | None, str | None]:
        """(start, end) as the API takes them. `period` is the SLO's own period, or
        `period_span` on pages that cover many SLOs (no single period applies)."""
        if self.range == "custom":
            return self.start or None, self.end or None
        if self.range == "period":
            return (f"now-{period_span}" if period_span else None), None
        return f"now-{self.range}", None

    def budget_scope(self) -> str:
        """What the page's range-bound figures are shares of, in words."""
        if self.range == "period":
            return "the period's budget"
        if self.range == "custom":
            return "the selected range's budget"
        return f"the last {self.range}'s budget"

    def carried(self) -> str:
        """The query of what follows a person from page to page: the range and the refresh."""
        return ViewState(
            range=self.range, start=self.start, end=self.end, refresh=self.refresh
        ).query()

    def query(self, **changes: Any) -> str:
        """The query string (with `?`, or empty) of this state with `changes` applied."""
        state = replace(self, **changes) if changes else self
        pairs: list[tuple[str, str]] = []
        for item in fields(ViewState):
            value = getattr(state, item.name)
            if value == item.default:
                continue
            if item.name in MULTI:
                pairs.extend((item.name, entry) for entry in value)
            elif item.name in {"start", "end"} and state.range != "custom":
                continue
            else:
                pairs.append((item.name, value))
        return f"?{urlencode(pairs)}" if pairs else ""


_CHOICES: Mapping[str, tuple[str, ...]] = {
    "range": RANGES,
    "refresh": tuple(REFRESH_SECONDS),
    "sort": SORTS,
    "group_by": GROUPINGS,
    "groups": GROUP_VIEWS,
    "wi_edit": ("", "remove", "scale", "cap"),
}


def _clean(name: str, value: Any) -> Any:
    """A control's or a query's value as the state holds it, or None when it is not valid."""
    if name in MULTI:
        items = value if isinstance(value, list | tuple) else [value] if value else []
        return tuple(str(item) for item in items if str(item).strip())
    text = "" if value is None else str(value).strip()
    choices = _CHOICES.get(name)
    if choices is not None and text not in choices:
        return None
    return text


def parse(search: str | None) -> ViewState:
    """The state in a query string (`?range=7d&service=checkout`, with or without the `?`)."""
    raw = parse_qs((search or "").removeprefix("?"), keep_blank_values=False)
    known = {item.name for item in fields(ViewState)}
    values: dict[str, Any] = {}
    for name, entries in raw.items():
        if name not in known:
            continue
        cleaned = _clean(name, entries if name in MULTI else entries[-1])
        if cleaned is not None:
            values[name] = cleaned
    return ViewState(**values)


def with_controls(state: ViewState, controls: Mapping[str, Any]) -> ViewState:
    """`state` updated from the values of the controls on the page (names are state fields)."""
    known = {item.name for item in fields(ViewState)}
    changes = {}
    for name, value in controls.items():
        if name in known:
            cleaned = _clean(name, value)
            if cleaned is not None:
                changes[name] = cleaned
    return replace(state, **changes)


def whatif_change(state: ViewState) -> Change | str | None:
    """The Replay panel's change from the URL: None when none is asked, a message when the
    fields make no sense."""
    fields_set = (state.wi_mode and state.wi_edit) or state.wi_objective or state.wi_period
    if not fields_set:
        return None
    document: dict[str, Any] = {}
    if state.wi_mode and state.wi_edit:
        edit: dict[str, Any] = {"mode": state.wi_mode, "kind": state.wi_edit}
        if state.wi_edit != "remove":
            edit["value"] = state.wi_value or "0"
        document["modes"] = [edit]
    if state.wi_objective:
        document["objective"] = state.wi_objective
    if state.wi_period:
        document["period"] = state.wi_period
    try:
        return Change.model_validate(document)
    except ValidationError as error:
        return "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
