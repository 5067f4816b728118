"""The SLO page of one group of a grouped SLO: the same page, over the group's own ledger.

A group is chosen by the URL (`?group=LABEL:VALUE`, see `app.web.group_links`); its budget,
burn rates, charts, attribution by failure mode and alerts are read exactly as an SLO's are
(`app.web.slo_data.gather_subject`), from its own ledger row. Two things stay per SLO: the
Replay panel, and replaying alert history from before live judging began (a group's timeline
shows its live transitions).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.engine import group_views, views
from app.engine.service import Engine
from app.slo.groups import OTHER_VALUE
from app.slo.windows import Window
from app.store.errors import StoreError
from app.web import alerts
from app.web.group_links import group_name
from app.web.slo_data import SLOPageData, Subject, gather, gather_subject
from app.web.urlstate import ViewState

log = logging.getLogger(__name__)

NO_REPLAY = (
    "replay covers whole SLOs, not one group yet: open the SLO's page (without a group) to "
    "replay this range under the change"
)


def chosen_labels(state: ViewState, group_by: tuple[str, ...]) -> dict[str, str] | str:
    """The group the URL names (every `group_by` label), or why it names none."""
    if state.group == (OTHER_VALUE,):
        return dict.fromkeys(group_by, OTHER_VALUE)
    labels: dict[str, str] = {}
    for text in state.group:
        try:
            name, value = views.parse_label(text)
        except views.FilterError as error:
            return f"group: {error}"
        labels[name] = value
    if sorted(labels) != sorted(group_by):
        return f"name the group by all of its labels: {', '.join(group_by)}"
    return {name: labels[name] for name in group_by}


def live_timeline(
    engine: Engine, key: str, window: Window
) -> tuple[list[alerts.TimelineEvent], str, int | None]:
    """A group's live alert transitions in `window` (its history is not replayed)."""
    try:
        events = views.alert_timeline(engine, key, window.start, window.end)
    except (StoreError, SQLAlchemyError) as error:
        log.warning("alert timeline unavailable: %s", error)
        return [], "alert state could not be read", None
    note = "" if events else "no alert of this group changed state in this range"
    return events, note, None


def group_subject(engine: Engine, key: str, labels: dict[str, str]) -> Subject | None:
    found = group_views.find_group(engine, key, labels)
    if found is None:
        return None
    definition, stored = found
    return Subject(
        definition,
        stored,
        key,
        report=lambda at: group_views.group_report(engine, key, stored.key, at),
        attribution=lambda window: group_views.group_attribution(
            engine, definition, stored, window
        ),
        timeline=lambda window: live_timeline(engine, stored.key, window),
        what_if=lambda _window, _change: NO_REPLAY,
    )


def gather_page(
    engine: Engine, key: str, state: ViewState, base_url: str = ""
) -> SLOPageData | str:
    """The SLO page's data: the SLO's, or its group's when the URL names one; a message when
    there is no such SLO or group. Raises RangeError for a bad range."""
    if not state.group:
        data = gather(engine, key, state, base_url)
        return f"No SLO {key!r} is loaded." if data is None else data
    definition = engine.definitions.get(key)
    if definition is None:
        return f"No SLO {key!r} is loaded."
    if not definition.spec.group_by:
        return f"{key!r} is not grouped (it has no `group_by`): it has no groups to show."
    labels = chosen_labels(state, definition.spec.group_by)
    if isinstance(labels, str):
        return labels
    subject = group_subject(engine, key, labels)
    if subject is None:
        return f"{key!r} has no group {group_name(labels)} (yet): see its worst groups."
    return gather_subject(engine, subject, state)
