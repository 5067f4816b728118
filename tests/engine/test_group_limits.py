"""The global cap on groups (`FAULTLINE_MAX_GROUPS_TOTAL`) and group keys over 200 characters,
against a real Prometheus.

Route `rN` serves `10 + N` good and `N % 3` failed requests a minute; two routes have names of
300 characters that differ only at their end. Two grouped SLOs group the same routes (8 each);
the global cap allows 12 groups in all, so the SLO evaluated second gets 4 and counts the
other 4 in its "other" group: reported in the API, /metrics and the log, and both SLO totals
stay exact.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.api.metrics import LedgerCollector
from app.engine import grouped
from app.runtime.settings import Settings
from app.runtime.wiring import engine_config
from app.slo.groups import group_slo_key
from app.slo.windows import Window
from app.store import groups, ledger, registry
from app.testbed.prometheus import PrometheusServer, find_binary
from tests.api.conftest import TOKEN, serve_engine
from tests.conftest import TEST_START, require_prometheus
from tests.engine.conftest import definitions_with, make_engine

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

MINUTES = 20
LONG = "/api/v1/" + "x" * 290
ROUTES = [f"r{n}" for n in range(6)] + [LONG + "-a", LONG + "-b"]
YAML = """\
service: shop
slos:
  - name: NAME
    objective: 99
    group_by: [route]
    max_groups: 10
    sli:
      events:
        total: sum by (route) (rate(requests_total{code!="MATCH"}[{{window}}]))
        bad: sum by (route) (rate(requests_total{code="500"}[{{window}}]))
"""


def good(index: int) -> int:
    return 10 + index


def bad(index: int) -> int:
    return index % 3


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[str]:
    require_prometheus()
    lines = ["# TYPE requests counter\n"]
    for index, route in enumerate(ROUTES):
        for code, per_minute in (("200", good(index)), ("500", bad(index))):
            for minute in range(MINUTES + 1):
                value, stamp = per_minute * minute, TEST_START + 60 * minute
                lines.append(f'requests_total{{route="{route}",code="{code}"}} {value} {stamp}\n')
    source, data = tmp_path / "routes.om", tmp_path / "data"
    source.write_text("".join([*lines, "# EOF\n"]))
    command = [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics"]
    subprocess.run([*command, "--quiet", str(source), str(data)], check=True, timeout=300)
    with PrometheusServer(data, work_dir=tmp_path / "prometheus") as server:
        yield server.url


def test_the_global_cap_counts_new_groups_in_other_and_says_so_everywhere(
    prometheus: str,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grouped, "_TOTAL_REACHED", grouped._OnceLog())
    text = YAML.replace("NAME", "first").replace("MATCH", "1") + YAML.split("slos:\n")[1]
    directory, definitions = definitions_with(
        tmp_path, "shop.yaml", text.replace("NAME", "second").replace("MATCH", "2")
    )
    # One evaluation thread: "first" is evaluated before "second" (by key), so which SLO
    # meets the cap is known.
    monkeypatch.setenv("FAULTLINE_MAX_GROUPS_TOTAL", "12")
    cap = engine_config(Settings()).max_groups_total
    assert cap == 12
    end = TEST_START + 60 * MINUTES
    engine = make_engine(
        prometheus, database_url, TEST_START, end, definitions, concurrency=1, max_groups_total=cap
    )
    try:
        with caplog.at_level(logging.WARNING, logger=grouped.__name__):
            result = engine.tick(now=end)
            assert not result.errors, result
            engine.tick(now=end + 60)  # nothing new: still logged once
        told = [r.getMessage() for r in caplog.records if "MAX_GROUPS_TOTAL" in r.getMessage()]
        assert told == [
            "the global cap on groups (FAULTLINE_MAX_GROUPS_TOTAL) is reached: 4 new groups of "
            "shop/second are counted in its other group (room left: 4); raise the cap or group "
            "by fewer labels (logged once)"
        ]
        window = Window(TEST_START, end)
        with engine.store.read() as connection:
            assert groups.groups_total(connection) == 12
            for key, named, beyond in (("shop/first", 8, 0), ("shop/second", 4, 4)):
                parent = registry.get_slo(connection, key)
                assert parent is not None
                members = groups.groups_of(connection, parent.id)
                assert len([m for m in members if m.labels["route"] != "__other__"]) == named
                assert groups.overflow(connection, parent.id).count == beyond
                ids = [parent.id, *(m.id for m in members)]
                totals = ledger.window_totals_many(connection, ids, [window])
                # The SLO level stays exact: every route's requests, "other" included.
                everything = MINUTES * sum(good(i) + bad(i) for i in range(len(ROUTES)))
                assert totals[parent.id][0].total == everything
                assert sum(totals[m.id][0].total for m in members) == everything
        families = {m.name: m for m in LedgerCollector(lambda: engine, lambda: None).collect()}
        assert [s.value for s in families["faultline_groups"].samples] == [12]
        assert [s.value for s in families["faultline_groups_max_total"].samples] == [12]
        overflow = {
            s.labels["slo"]: s.value for s in families["faultline_slo_groups_overflow"].samples
        }
        assert overflow == {"first": 0, "second": 4}
        server, url = serve_engine(
            engine, definitions=directory, database_url=database_url, prometheus_url=prometheus
        )
        try:
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
            ) as client:
                page = client.get("/api/v1/slos/shop/second/groups").json()
                assert page["max_groups_total"] == 12
                assert page["overflow"]["count"] == 4 and page["total"] == 5
                # A group whose key is over 200 characters is found by its labels.
                for index in (6, 7):
                    found = client.get(
                        "/api/v1/slos/shop/first/groups/report",
                        params={"group": f"route:{ROUTES[index]}"},
                    )
                    assert found.status_code == 200, found.text
                    report = found.json()
                    key = group_slo_key("shop", "first", {"route": ROUTES[index]})
                    assert report["key"] == key and len(key) == 200
                    assert report["labels"]["route"] == ROUTES[index]
                    assert report["events"]["total"] == MINUTES * (good(index) + bad(index))
        finally:
            server.stop()
    finally:
        engine.store.close()
