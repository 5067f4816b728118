"""Cardinality of a grouped SLO against a real Prometheus: 600 routes, `max_groups: 500`.

Route `rNNN` serves `10 + N % 7` good and `N % 3` failed requests a minute, so every figure is
known exactly: routes r000–r499 get ledgers of their own (the cap applies in sorted order), the
100 others are counted together in the "other" group and named as overflow, and the SLO's
ledger is exactly the sum of all 600.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.engine import group_views
from app.engine.service import Engine
from app.runtime.loading import load_definitions
from app.slo.windows import Window
from app.store import groups, ledger, registry
from app.testbed.prometheus import PrometheusServer, find_binary
from tests.conftest import TEST_START, require_prometheus
from tests.engine.conftest import REPO

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

ROUTES = 600
MINUTES = 30
KEY = "shop/success"
YAML = """\
service: shop
slos:
  - name: success
    objective: 99
    group_by: [route]
    max_groups: 500
    sli:
      events:
        total: sum by (route) (rate(requests_total[{{window}}]))
        bad: sum by (route) (rate(requests_total{code="500"}[{{window}}]))
"""


def good(route: int) -> int:
    return 10 + route % 7


def bad(route: int) -> int:
    return route % 3


def openmetrics(path: Path) -> None:
    lines = ["# TYPE requests counter\n"]
    for route in range(ROUTES):
        for code, per_minute in (("200", good(route)), ("500", bad(route))):
            for minute in range(MINUTES + 1):
                stamp = TEST_START + 60 * minute
                value = per_minute * minute
                lines.append(
                    f'requests_total{{route="r{route:03d}",code="{code}"}} {value} {stamp}\n'
                )
    lines.append("# EOF\n")
    path.write_text("".join(lines))


@pytest.fixture
def prometheus(tmp_path: Path) -> Callable[[], str]:
    require_prometheus()
    source, data = tmp_path / "routes.om", tmp_path / "data"
    openmetrics(source)
    command = [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet"]
    subprocess.run([*command, str(source), str(data)], check=True, timeout=300)
    server = PrometheusServer(data, work_dir=tmp_path / "prometheus")
    server.start()
    yield lambda: server.url
    server.close()


def test_600_routes_with_max_groups_500_give_500_ledgers_other_and_an_exact_total(
    prometheus: Callable[[], str],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
) -> None:
    directory = tmp_path / "slo_definitions"
    directory.mkdir()
    (directory / "shop.yaml").write_text(YAML)
    catalog = REPO / "slo_definitions" / "design_choices.yaml"
    loaded = load_definitions(directory, alerts=REPO / "alerts", catalog=catalog)
    assert loaded.ok, loaded.problems
    end = TEST_START + 60 * MINUTES
    engine = engines(prometheus(), database_url, TEST_START, end, loaded.definitions)
    started = time.monotonic()
    result = engine.tick(now=end)
    seconds = time.monotonic() - started
    assert not result.errors and result.unavailable is None, result
    assert result.evaluated[KEY] == MINUTES
    with engine.store.read() as connection:
        parent = registry.get_slo(connection, KEY)
        assert parent is not None
        members = groups.groups_of(connection, parent.id)
        totals = ledger.window_totals_many(
            connection, [parent.id, *(m.id for m in members)], [Window(TEST_START, end)]
        )
        overflow = groups.overflow(connection, parent.id, limit=200)
    named = {m.labels["route"]: totals[m.id][0] for m in members}
    assert len(members) == 501, seconds
    assert sorted(named) == ["__other__"] + [f"r{i:03d}" for i in range(500)]
    for route in range(500):
        found = named[f"r{route:03d}"]
        assert (found.total, found.bad) == (
            MINUTES * (good(route) + bad(route)),
            MINUTES * bad(route),
        ), route
    other = named["__other__"]
    assert other.total == MINUTES * sum(good(r) + bad(r) for r in range(500, ROUTES))
    assert other.bad == MINUTES * sum(bad(r) for r in range(500, ROUTES))
    slo = totals[parent.id][0]
    assert slo.total == MINUTES * sum(good(r) + bad(r) for r in range(ROUTES))
    assert slo.bad == MINUTES * sum(bad(r) for r in range(ROUTES))
    assert slo.slices == MINUTES and slo.no_data_slices == 0
    # The overflow is reported, never dropped silently: every route beyond the cap is named.
    assert overflow.count == 100
    assert overflow.groups == [{"route": f"r{i:03d}"} for i in range(500, ROUTES)]
    listing = group_views.list_groups(engine, KEY, limit=20, offset=10)
    assert listing.total == 501 and len(listing.reports) == 20
    assert listing.overflow.count == 100 and listing.max_groups == 500
    remaining = [report.budget.remaining for report in listing.reports]
    assert remaining == sorted(remaining)
