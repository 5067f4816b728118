"""Zero traffic is not perfect traffic: a slice with data and no events spends nothing, and the
SLO page, its SLI chart and the report show it as without events, never as 100 %.

Two copies of checkout/checkout-success over a ledger written here: one that served requests for
three hours and then none for three (still scraped: slices `ok` with 0 events), one that never
served any. No Prometheus is asked: the page reads the ledger.
"""

from __future__ import annotations

from pathlib import Path

from app.engine.service import Engine
from app.slo.ledger import SliceRecord, SliceStatus
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store import ledger, registry
from app.web import figures
from app.web.pages.slo_sections import headline
from app.web.slo_data import gather
from app.web.theme import LIGHT
from app.web.urlstate import ViewState
from tests.alerting.copies import registered_copies
from tests.alerting.support import only, shipped
from tests.web.components import by_id

START = 1_709_510_400  # 2024-03-04 00:00 UTC
HOURS = 6
END = START + HOURS * 3600
BUSY, QUIET = "checkout/checkout-000", "checkout/checkout-001"


def _records(busy_until: int) -> list[SliceRecord]:
    return [
        SliceRecord(
            t=t,
            status=SliceStatus.OK,
            total=1000.0 if t <= busy_until else 0.0,
            bad=1.0 if t <= busy_until else 0.0,
            unattributed=1.0 if t <= busy_until else 0.0,
        )
        for t in range(START + 60, END + 1, 60)
    ]


def test_a_window_without_events_is_shown_without_an_sli_and_spends_nothing(
    tmp_path: Path,
) -> None:
    definitions, store, ids = registered_copies(
        f"sqlite:///{tmp_path}/ledger.db", only(shipped(), "checkout/checkout-success"), 2, START
    )
    half = START + HOURS * 3600 // 2
    with store.begin() as connection:
        for slo_id, busy_until in zip(ids, (half, START), strict=True):
            ledger.write_slices(connection, slo_id, _records(busy_until))
            registry.advance_checkpoint(connection, slo_id, START + 60, END, 60)
    source = PrometheusSource(SourceConfig(url="http://127.0.0.1:9", timeout=1))
    engine = Engine(store, source, definitions, clock=lambda: END)
    try:
        state = ViewState(range="6h")

        quiet = gather(engine, QUIET, state)
        assert quiet is not None
        report = quiet.report
        assert report.status.value == "ok" and report.no_data_slices == 0
        assert report.events.total == 0 and report.sli is None  # not 1.0
        assert report.budget.consumed == 0.0
        assert all(rate in (0.0, None) for rate in report.burn_rates.values())
        sli = by_id(headline(quiet), "detail-sli")
        assert sli.children == "no events"
        assert quiet.history.points and all(p.sli is None for p in quiet.history.points)

        busy = gather(engine, BUSY, state)
        assert busy is not None
        assert busy.report.sli is not None and 0.99 < busy.report.sli < 1.0
        assert by_id(headline(busy), "detail-sli").children != "no events"
        points = busy.history.points
        quiet_points = [p for p in points if p.total == 0]
        assert quiet_points and all(p.sli is None for p in quiet_points)
        assert all(p.sli is not None and p.sli < 1.0 for p in points if p.total > 0)
        # The SLI chart draws a gap there (plotly leaves None unconnected), not a line at 100 %.
        drawn = figures.sli(busy.history, LIGHT).data[0]
        assert list(drawn.y) == [p.sli for p in points]
        assert drawn.connectgaps in (None, False)
        assert max(y for y in drawn.y if y is not None) < 1.0
    finally:
        store.close()
