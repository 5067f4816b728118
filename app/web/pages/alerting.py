"""Alerts: what fires now and what changed recently, across every SLO, with each alert's tier,
the attribution text its notification carried, and how that notification was delivered."""

from __future__ import annotations

from typing import Any

from dash import html

from app.engine.ranges import RangeError, resolve_range
from app.web import alerts, controls
from app.web import components as ui
from app.web import format as fmt
from app.web.markup import Markup, element, raw_html
from app.web.pages import Context, Page

# "period" on this page: SLOs have different periods, so the last 30 days of transitions.
PERIOD_SPAN = "30d"
DELIVERY_CLASS = {"delivered": "ok", "pending": "warn", "failed": "bad"}
TITLES = ("When", "SLO", "Tier", "State", "What burns (attribution)", "Delivery")


def _delivery(record: alerts.Record) -> Markup:
    if not record.deliveries:
        return element("span", "no receiver routed", class_="muted small")
    badges = []
    for delivery in record.deliveries:
        text = f"{delivery.receiver}: {delivery.state}"
        if delivery.state != "delivered" and delivery.attempts:
            text += f" ({delivery.attempts} attempts)"
        detail = delivery.last_error or (
            f"delivered {fmt.moment(delivery.delivered_at)}" if delivery.delivered_at else text
        )
        badges.append(
            element(
                "span",
                text,
                class_=f"badge {DELIVERY_CLASS.get(delivery.state, 'muted')}",
                title=detail,
                data_receiver=delivery.receiver,
                data_state=delivery.state,
            )
        )
    return element("div", badges, class_="badges")


def _row(record: alerts.Record, query: str) -> Markup:
    severity = ui.SEVERITY_CLASS.get(record.severity, "warn")
    state = "bad" if record.state == "firing" else "ok"
    return element(
        "tr",
        element("td", fmt.moment(record.t), class_="when small"),
        element(
            "td",
            element("a", record.slo_key, href=ui.slo_href(record.slo_key, query), data_nav=True),
        ),
        element(
            "td",
            element("span", record.tier, class_=f"badge {severity}"),
            element("div", record.severity, class_="muted small"),
        ),
        element("td", element("span", record.state, class_=f"badge {state}")),
        element("td", record.summary, class_="summary small"),
        element("td", _delivery(record), class_="delivery"),
        class_="alert-row",
        data_key=record.slo_key,
        data_tier=record.tier,
        data_state=record.state,
        data_t=record.t,
        data_event=record.event_id,
    )


def table(records: list[alerts.Record], query: str, table_id: str) -> Markup:
    head = element("thead", element("tr", [element("th", title) for title in TITLES]))
    body = element("tbody", [_row(record, query) for record in records])
    return element("table", head, body, id=table_id, class_="data-table alerts-table")


def render(ctx: Context) -> Page:
    engine, state = ctx.engine, ctx.state
    bar = controls.bar(
        controls.range_picker(state, period_label=PERIOD_SPAN), controls.refresh_picker(state)
    )
    start, end = state.range_params(PERIOD_SPAN)
    try:
        now = int(engine.clock())
        window, _ = resolve_range(start, end, now)
        # A long range's end is aligned up to its buckets, past the end asked for (or now).
        until = resolve_range(None, end, now)[0].end
    except RangeError as error:
        return Page("Alerts", [bar, ui.notice(f"Range: {error}", "bad", id="range-error")])
    query = state.carried()
    firing, unavailable = alerts.firing_records(engine)
    recent, note = alerts.recent(engine, window.start, min(window.end, until))
    paging = len({r.slo_key for r in firing if r.severity == "page"})
    hit = len({r.slo_key for r in firing})
    summary = (
        f"{fmt.counted(len(firing), 'alert')} firing on {fmt.counted(hit, 'SLO')} ({paging} paging)"
        if firing
        else f"no alerts firing{f' ({unavailable})' if unavailable else ''}"
    )
    body: list[Any] = [
        bar,
        html.P(summary, className="summary", id="alerts-summary", **{"data-count": len(firing)}),
        ui.section(
            "Firing now",
            raw_html(table(firing, query, "firing-table"), "firing", className="table-wrap")
            if firing
            else html.P("Nothing is firing.", className="muted", id="firing-empty"),
            note="Since: the slice end at which the alert started. The text is the attribution "
            "the notification carries, refreshed at every evaluation while it fires.",
        ),
        ui.section(
            "Recent changes",
            raw_html(table(recent, query, "recent-alerts"), "recent", className="table-wrap")
            if recent
            else html.P(note, className="muted", id="recent-empty"),
            note=f"{fmt.moment(window.start)} → {fmt.moment(min(window.end, until))}, newest "
            "first: every "
            "alert that started firing or resolved, with each receiver's delivery.",
        ),
    ]
    return Page("Alerts", body)
