"""Cardinality of a grouped SLO against a real Prometheus: 600 routes, `max_groups: 500`.

Route `rNNN` serves `10 + N % 7` good and `N % 3` failed requests a minute, so every figure is
known exactly: routes r000–r499 get ledgers of their own (the cap applies in sorted order), the
100 others are counted together in the "other" group and named as overflow, and the SLO's
ledger is exactly the sum of all 600.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.api.metrics import LedgerCollector
from app.cli import cli
from app.engine import group_views
from app.engine.service import Engine
from app.slo.definitions import DefinitionSet
from app.slo.windows import Window
from app.store import groups, ledger, registry
from app.testbed.prometheus import PrometheusServer, find_binary
from tests.conftest import TEST_START, require_prometheus
from tests.engine.conftest import definitions_with

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


# Route → (first minute, last minute) of its samples; every route of ROUTES by default.
Spans = dict[int, tuple[int, int]]


def openmetrics(path: Path, spans: Spans) -> None:
    lines = ["# TYPE requests counter\n"]
    for route, (first, last) in spans.items():
        for code, per_minute in (("200", good(route)), ("500", bad(route))):
            for minute in range(first, last + 1):
                stamp = TEST_START + 60 * minute
                value = per_minute * (minute - first)
                labels = f'route="r{route:03d}",code="{code}"'
                lines.append(f"requests_total{{{labels}}} {value} {stamp}\n")
    lines.append("# EOF\n")
    path.write_text("".join(lines))


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[Spans], str]]:
    """`prometheus(spans)`: a real Prometheus over the routes' samples."""
    servers: list[PrometheusServer] = []

    def start(spans: Spans) -> str:
        require_prometheus()
        source, data = tmp_path / "routes.om", tmp_path / "data"
        openmetrics(source, spans)
        command = [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics"]
        subprocess.run([*command, "--quiet", str(source), str(data)], check=True, timeout=300)
        server = PrometheusServer(data, work_dir=tmp_path / "prometheus")
        servers.append(server)
        server.start()
        return server.url

    yield start
    for server in servers:
        server.close()


def load(tmp_path: Path, text: str) -> DefinitionSet:
    return definitions_with(tmp_path, "shop.yaml", text)[1]


def test_600_routes_with_max_groups_500_give_500_ledgers_other_and_an_exact_total(
    prometheus: Callable[[Spans], str],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
) -> None:
    end = TEST_START + 60 * MINUTES
    url = prometheus(dict.fromkeys(range(ROUTES), (0, MINUTES)))
    engine = engines(url, database_url, TEST_START, end, load(tmp_path, YAML))
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
    # /metrics tells how many groups have ledgers and how many overflow.
    families = {m.name: m for m in LedgerCollector(lambda: engine, lambda: None).collect()}
    for name, value in (("faultline_slo_groups", 501), ("faultline_slo_groups_overflow", 100)):
        [sample] = families[name].samples
        assert sample.labels == {"service": "shop", "slo": "success"} and sample.value == value
    # `faultline validate --prometheus-url` says so before any ledger exists, at file:line:col.
    directory = str(tmp_path / "slo_definitions")
    arguments = ["validate", "--definitions", directory, "--prometheus-url", url, "--at", str(end)]
    environment = {"FAULTLINE_PROMETHEUS_RETRIES": "0", "COLUMNS": "400"}
    result = CliRunner().invoke(cli, arguments, env=environment)
    file = tmp_path / "slo_definitions" / "shop.yaml"
    assert [line for line in result.stdout.splitlines() if line.startswith(str(file))] == [
        f"{file}:6:17: slos[0].max_groups: warning: 600 groups answer now, more than max_groups "
        "(500): 100 of them would be counted together in the other group; fix: raise "
        "max_groups (at most 5000) or group by fewer labels"
    ]


def at(minute: int) -> int:
    return TEST_START + 60 * minute


def test_vanished_groups_age_out_after_their_period_keep_history_and_free_their_place(
    prometheus: Callable[[Spans], str],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
) -> None:
    # r000-r004 for 40 minutes, r005-r009 for the first 10, r010 from minute 20 on.
    spans = {**dict.fromkeys(range(5), (0, 40)), **dict.fromkeys(range(5, 10), (0, 10))}
    url = prometheus({**spans, 10: (20, 40)})
    text = YAML.replace("max_groups: 500", "max_groups: 8").replace(
        "objective: 99", "objective: 99\n    period: 5m"
    )
    engine = engines(url, database_url, TEST_START, at(10), load(tmp_path, text))

    def listed() -> list[str]:
        reports = group_views.list_groups(engine, KEY, sort="name").reports
        return sorted(r.labels["route"] for r in reports)

    engine.tick(now=at(10))  # r000-r007 get ledgers, r008 and r009 count in "other"
    assert listed() == ["__other__"] + [f"r{i:03d}" for i in range(8)]
    engine.tick(now=at(30))  # no room yet for r010: "other"; r005-r007 vanished 20 min ago
    assert listed() == ["__other__"] + [f"r{i:03d}" for i in range(5)]
    engine.tick(now=at(40))  # their places are free: r010 gets a ledger; "other" is empty
    assert listed() == [f"r{i:03d}" for i in range(5)] + ["r010"]
    with engine.store.read() as connection:
        parent = registry.get_slo(connection, KEY)
        assert parent is not None
        members = {m.labels["route"]: m.id for m in groups.groups_of(connection, parent.id)}
        totals = ledger.window_totals_many(
            connection, [parent.id, *members.values()], [Window(at(0), at(40))]
        )
        overflow = groups.overflow(connection, parent.id)
    amounts = {route: totals[i][0].total for route, i in members.items()}
    # History of an aged-out group stays readable, and every event is counted exactly once.
    assert amounts["r005"] == 10 * (good(5) + bad(5))
    assert amounts["r010"] == 10 * (good(10) + bad(10))  # its own ledger from minute 31
    assert amounts["__other__"] == 10 * sum(good(r) + bad(r) for r in (8, 9, 10))
    truth = sum(
        (last - first) * (good(route) + bad(route))
        for route, (first, last) in {**spans, 10: (20, 40)}.items()
    )
    assert totals[parent.id][0].total == sum(amounts.values()) == truth
    assert [g["route"] for g in overflow.groups] == ["r008", "r009", "r010"]
    old = group_views.group_report(engine, KEY, f'{KEY}{{route="r005"}}', at(40))
    assert old.events.total == 0 and old.status.value in ("stale", "no-data")
