"""Every no-data slice says why, and the API, `faultline report --json` and the ledger agree.

One real Prometheus with the slow-burn scenario scraped every 60 s, 41 s after the minute with
±1 s jitter, and a 15-minute scrape gap; the shipped SLOs (1-minute slices) plus one whose metric
does not exist; the ledger starts an hour before the data:

- an SLO whose metric does not exist: `no-series`;
- the counters during the scrape gap: `too-sparse`, with the 60 s interval found;
- the threshold gauge during the gap: `stale-gauge`;
- the hour before Prometheus holds any sample: `out-of-range`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from app.engine.service import Engine
from app.runtime.loading import load_definitions
from app.slo.report import rfc3339
from app.store.tables import slices
from app.web.pages.slo_sections import headline
from app.web.slo_data import gather
from app.web.urlstate import ViewState
from tests.api.conftest import TOKEN, serve_engine
from tests.conftest import RunningPrometheus
from tests.engine.conftest import REPO
from tests.web.components import by_id

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

GHOST = """\
service: ghost
slos:
  - name: never-scraped
    objective: 99
    sli:
      events:
        total: sum(rate(ghost_requests_total[{{window}}]))
        bad: sum(rate(ghost_requests_total{code=~"5.."}[{{window}}]))
"""
COUNTER = "checkout/checkout-success"
GAUGE = "orders/queue-freshness"


def _definitions(tmp_path: Path) -> Path:
    target = tmp_path / "slo_definitions"
    target.mkdir()
    for file in (REPO / "slo_definitions").iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    (target / "ghost.yaml").write_text(GHOST)
    return target


def _report_json(database_url: str, definitions: Path, at: int) -> dict[str, dict[str, object]]:
    environment = {
        **os.environ,
        "FAULTLINE_DATABASE_URL": database_url,
        "FAULTLINE_DEFINITIONS": str(definitions),
    }
    command = [str(Path(sys.executable).with_name("faultline")), "report", "--json", "--at"]
    result = subprocess.run(
        [*command, str(at)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {item["key"]: item for item in json.loads(result.stdout)["slos"]}


def test_each_no_data_slice_carries_its_reason_in_the_api_and_the_report(
    prometheus_over: Callable[..., RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
) -> None:
    running = prometheus_over("slow_burn", interval=60, phase=41, jitter=1.0)
    scenario = running.scenario
    (gap,) = scenario.gaps
    definitions = _definitions(tmp_path)
    loaded = load_definitions(definitions, alerts=REPO / "alerts")
    assert loaded.ok, loaded.problems
    start, end = scenario.start, scenario.end
    engine = engines(running.url, database_url, start - 3600, end, loaded.definitions)
    result = engine.tick(now=end)
    assert not result.errors and result.unavailable is None, result
    assert result.no_data["no-series"] and result.no_data["too-sparse"]
    assert result.no_data["stale-gauge"] and result.no_data["out-of-range"]

    # Every no-data slice in the ledger has a reason.
    with engine.store.read() as connection:
        rows = connection.execute(
            slices.select().where(slices.c.status == "no-data", slices.c.no_data.is_(None))
        ).all()
    assert rows == []

    in_gap = gap.start + 10 * 60 - (gap.start + 10 * 60) % 60
    before = start - 1800
    expected = {
        ("ghost/never-scraped", end): ("no-series", "total"),
        (COUNTER, in_gap): ("too-sparse", "total"),
        (GAUGE, in_gap): ("stale-gauge", "threshold"),
        (COUNTER, before): ("out-of-range", "total"),
    }
    server, url = serve_engine(
        engine, definitions=definitions, database_url=database_url, prometheus_url=running.url
    )
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client:
            for (key, at), (reason, signal) in expected.items():
                service, name = key.split("/")
                detail = client.get(f"/api/v1/slos/{service}/{name}", params={"at": rfc3339(at)})
                assert detail.status_code == 200, detail.text
                answer = detail.json()
                assert answer["status"] == "no-data", (key, at, answer["status"])
                assert (answer["no_data"]["reason"], answer["no_data"]["signal"]) == (
                    reason,
                    signal,
                ), key
                assert answer["error"].startswith("no data since "), answer["error"]
                assert answer["no_data"]["message"] in answer["error"]
                reported = _report_json(database_url, definitions, at)[key]
                assert reported["no_data"] == answer["no_data"], key
    finally:
        server.stop()

    # The SLO page says it too.
    page = gather(engine, "ghost/never-scraped", ViewState())
    assert page is not None
    line = by_id(headline(page), "detail-no-data")
    assert line.children.startswith("No data since ") and "(no-series)" in line.children
    assert page.report.no_data is not None and page.report.no_data.message in line.children

    sparse = engine.report(COUNTER, in_gap).no_data
    assert sparse is not None and "sampled every 1m" in sparse.message
    # The SLO page at a moment in the gap names the reason and the interval found.
    in_gap_page = gather(
        engine, COUNTER, ViewState(range="custom", start=str(in_gap - 3600), end=str(in_gap))
    )
    assert in_gap_page is not None
    sparse_line = by_id(headline(in_gap_page), "detail-no-data")
    assert sparse_line.children.startswith("No data since ")
    assert "(too-sparse): " in sparse_line.children
    assert "series sampled every 1m" in sparse_line.children
    # The stretch starts at the first slice of the gap without a sample of its own.
    assert gap.start < int(_epoch(sparse.since)) <= gap.start + 120
    # After the gap, the last hour still shows the gap's reason; the status is ok again.
    after = engine.report(COUNTER, gap.end + 30 * 60)
    assert after.status.value == "ok" and after.no_data is not None
    assert after.no_data.reason == "too-sparse"
    assert engine.report(COUNTER, gap.end + 2 * 3600).no_data is None


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()
