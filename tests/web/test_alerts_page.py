"""`/alerts`: every firing alert and every recent transition of the live server's real alert
state, each with its tier, the attribution text its notification carries and each receiver's
delivery state, compared with the alert tables and the outbox read directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from sqlalchemy import select, update

from app.store.tables import alert_events, alert_states, notifications, slos
from app.web import format as fmt
from tests.web.browsing import load, set_screen
from tests.web.conftest import Live

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

ROWS_JS = """
return [...document.querySelectorAll(arguments[0] + ' tr.alert-row')].map((tr) => ({
    key: tr.dataset.key, tier: tr.dataset.tier, state: tr.dataset.state,
    t: Number(tr.dataset.t), event: Number(tr.dataset.event),
    when: tr.querySelector('td.when').textContent,
    summary: tr.querySelector('td.summary').textContent,
    deliveries: [...tr.querySelectorAll('td.delivery [data-receiver]')]
        .map((b) => [b.dataset.receiver, b.dataset.state, b.title]),
}));
"""
PERIOD = 30 * 86400


def deliveries(live: Live) -> dict[int, list[list[str]]]:
    with live.engine.store.read() as connection:
        rows = connection.execute(
            select(
                notifications.c.event_id,
                notifications.c.receiver,
                notifications.c.state,
                notifications.c.last_error,
            ).order_by(notifications.c.event_id, notifications.c.receiver)
        ).all()
    found: dict[int, list[list[str]]] = {}
    for event_id, receiver, state, error in rows:
        found.setdefault(event_id, []).append([receiver, state, error])
    return found


@pytest.fixture
def one_delivered_one_failed(live: Live) -> Iterator[tuple[int, int]]:
    """Mark two notifications as the dispatcher would, and put them back afterwards."""
    with live.engine.store.read() as connection:
        ids = [row.id for row in connection.execute(select(notifications.c.id).limit(2))]
    assert len(ids) == 2, "the alerts that fired were routed to receivers"
    with live.engine.store.begin() as connection:
        connection.execute(
            update(notifications)
            .where(notifications.c.id == ids[0])
            .values(state="delivered", attempts=1, delivered_at=float(live.end))
        )
        connection.execute(
            update(notifications)
            .where(notifications.c.id == ids[1])
            .values(state="failed", attempts=3, last_error="HTTP 400: bad request")
        )
    try:
        yield ids[0], ids[1]
    finally:
        with live.engine.store.begin() as connection:
            connection.execute(
                update(notifications)
                .where(notifications.c.id.in_(ids))
                .values(state="pending", attempts=0, delivered_at=None, last_error=None)
            )


def expected_delivery(found: dict[int, list[list[str]]], event: int) -> list[list[Any]]:
    return [[receiver, state] for receiver, state, _ in found.get(event, [])]


def test_the_alerts_page_lists_firing_and_recent_alerts_with_delivery(
    live: Live, browser: webdriver.Chrome, one_delivered_one_failed: tuple[int, int]
) -> None:
    with live.engine.store.read() as connection:
        firing = connection.execute(
            select(slos.c.key, alert_states.c.tier, alert_states.c.since, alert_states.c.summary)
            .join(slos, slos.c.id == alert_states.c.slo_id)
            .where(alert_states.c.state == "firing")
            .order_by(alert_states.c.since, slos.c.key, alert_states.c.tier)
        ).all()
        events = connection.execute(
            select(
                alert_events.c.id,
                alert_events.c.t,
                slos.c.key,
                alert_events.c.tier,
                alert_events.c.state,
                alert_events.c.summary,
            )
            .join(slos, slos.c.id == alert_events.c.slo_id)
            .where(alert_events.c.t > live.end - PERIOD, alert_events.c.t <= live.end)
            .order_by(alert_events.c.t.desc(), alert_events.c.id.desc())
        ).all()
    assert firing and len(events) >= len(firing), "the server stops mid-incident"
    found = deliveries(live)
    set_screen(browser)
    load(browser, f"{live.url}/alerts")

    shown = browser.execute_script(ROWS_JS, "#firing-table")
    assert [(r["key"], r["tier"], r["t"], r["summary"]) for r in shown] == [
        (key, tier, since, summary) for key, tier, since, summary in firing
    ]
    assert all(r["state"] == "firing" and r["when"] == fmt.moment(r["t"]) for r in shown)
    assert any("payment-timeout" in r["summary"] for r in shown), "attribution text is shown"
    summary = browser.find_element("id", "alerts-summary")
    assert int(summary.get_attribute("data-count")) == len(firing)

    recent = browser.execute_script(ROWS_JS, "#recent-alerts")
    assert [
        (r["event"], r["t"], r["key"], r["tier"], r["state"], r["summary"]) for r in recent
    ] == [tuple(row) for row in events]
    states = set()
    for row in recent:
        assert [d[:2] for d in row["deliveries"]] == expected_delivery(found, row["event"])
        states |= {d[1] for d in row["deliveries"]}
    assert {"delivered", "failed", "pending"} <= states
    failed = [d for row in recent for d in row["deliveries"] if d[1] == "failed"]
    assert failed[0][2] == "HTTP 400: bad request"  # the error is the badge's tooltip


def test_the_alerts_page_reads_on_a_phone(live: Live, browser: webdriver.Chrome) -> None:
    set_screen(browser, width=390)
    load(browser, f"{live.url}/alerts")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert browser.find_elements("css selector", "#firing-table tr.alert-row")
    nav = browser.find_element("id", "nav-alerts")
    assert "active" in nav.get_attribute("class")


CELLS_JS = """
return [...document.querySelectorAll(arguments[0] + ' tr.alert-row')].map((tr) => {
    const cells = [...tr.children].map((td) => td.getBoundingClientRect());
    return [Math.min(...cells.map((c) => c.bottom)), Math.max(...cells.map((c) => c.bottom)),
            [...tr.children].map((td) => getComputedStyle(td).display)];
});
"""


def test_the_alerts_tables_line_up_and_counts_are_spelt(
    live: Live, browser: webdriver.Chrome
) -> None:
    """The attribution cell is a table cell like the others (a page-wide `.summary` rule made
    it a flex box, its border ~10 px above the row's); "1 SLO", not "1 SLOs"; the recent list's
    range never ends after now (it is aligned up to its buckets)."""
    set_screen(browser, width=1440)
    load(browser, f"{live.url}/alerts")
    for table in ("#firing-table", "#recent-alerts"):
        rows = browser.execute_script(CELLS_JS, table)
        assert rows, table
        for low, high, displays in rows:
            assert set(displays) == {"table-cell"}, displays
            assert high - low <= 1, "every cell of a row ends on the row's border"
    with live.engine.store.read() as connection:
        firing = connection.execute(
            select(slos.c.key, alert_states.c.tier)
            .join(slos, slos.c.id == alert_states.c.slo_id)
            .where(alert_states.c.state == "firing")
        ).all()
    hit = len({key for key, _ in firing})
    text = browser.find_element("id", "alerts-summary").text
    alerts_word = "alert" if len(firing) == 1 else "alerts"
    assert text.startswith(f"{len(firing)} {alerts_word} firing on {hit} SLO{'s' * (hit != 1)} (")
    note = browser.find_element("css selector", "#recent-alerts").find_element(
        "xpath", "ancestor::section"
    )
    ends = [line for line in note.text.splitlines() if " → " in line]
    assert ends and ends[0].split(" → ")[1].startswith(fmt.moment(live.end)), ends
