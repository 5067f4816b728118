"""A grouped SLO by route against a real Prometheus with known truth per route.

The `route_burn` scenario: the checkout-api serves four routes; for 45 minutes the payment provider
times out on 5 % of /checkout's requests, each a 504 counted by `upstream_timeouts_total` of that
route. The failure mode's `bad` query keeps the route label, so its bad events are attributed per
route (not a `when` that holds for a group or for all). Every route also has a small baseline of
500s no mode names. The ledgers are written by a backfill in many chunks; each route's ledger is
checked against the truth of that route's series alone, the SLO's against the sum of the routes'.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.engine import backfill, group_views
from app.engine.service import Engine
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.testbed.grouped_scenarios import BURNING_ROUTE, ROUTES
from app.testbed.shipped import ModeTruthSpec, SLOTruthSpec, match
from app.testbed.truth import GroundTruth
from tests.conftest import RunningPrometheus
from tests.engine.conftest import definitions_with
from tests.engine.test_accuracy import epoch
from tests.engine.test_grouped import (
    assert_group_ledgers_add_up,
    burn_mismatches,
    mismatches,
    summed,
)

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

KEY = "checkout-api/availability-by-route"
OBJECTIVE = 99.9
MODE = "payment-timeout"
YAML = """\
service: checkout-api
slos:
  - name: availability-by-route
    objective: 99.9
    group_by: [route]
    sli:
      events:
        total: sum by (route) (rate(http_requests_total{service="checkout-api"}[{{window}}]))
        bad: sum by (route) (rate(http_requests_total{service="checkout-api", code=~"5.."}[{{window}}]))
    failure_modes:
      - name: payment-timeout
        design_choice: synchronous-call
        bad: sum by (route) (rate(upstream_timeouts_total{upstream="payment-provider"}[{{window}}]))
"""


def group_key(route: str) -> str:
    return f'{KEY}{{route="{route}"}}'


def route_truth(route: str) -> SLOTruthSpec:
    """The group's SLO restated by hand: the route's requests, its 5xx and its timeouts."""
    api = {"service": "checkout-api", "route": route}
    return SLOTruthSpec(
        group_key(route),
        OBJECTIVE,
        total=match("http_requests_total", **api),
        bad=match("http_requests_total", **api, code=("500", "504")),
        modes=(
            ModeTruthSpec(
                MODE,
                bad=match("upstream_timeouts_total", route=route, upstream="payment-provider"),
            ),
        ),
    )


@pytest.fixture
def backfilled(
    prometheus_over: Callable[..., RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
) -> tuple[Engine, RunningPrometheus]:
    running = prometheus_over("route_burn")
    _, definitions = definitions_with(tmp_path, "checkout-api.yaml", YAML)
    start, end = running.scenario.start, running.scenario.end
    engine = engines(running.url, database_url, start, end, definitions)
    # Small query ranges: the backfill runs in many chunks.
    engine.source = PrometheusSource(SourceConfig(url=running.url, timeout=10, max_points=50))
    outcome = backfill.run(engine, backfill.plan(engine, [KEY], start, end))
    assert not outcome.failed and outcome.done == [KEY], outcome
    return engine, running


def test_each_route_and_the_slo_match_the_truth_and_add_up(
    backfilled: tuple[Engine, RunningPrometheus],
) -> None:
    engine, running = backfilled
    end = running.scenario.end
    truth = GroundTruth(running.dataset, [route_truth(route) for route in ROUTES])
    slo = engine.report(KEY, end)
    start = epoch(slo.window.start)
    windows = {route: truth.slo(group_key(route)).window(start, end) for route in ROUTES}
    failures = mismatches(slo, summed(list(windows.values())))
    failures += burn_mismatches(slo, [truth.slo(group_key(route)) for route in ROUTES], end)
    reports = {}
    for route in ROUTES:
        reports[route] = group_views.group_report(engine, KEY, group_key(route), end)
        failures += mismatches(reports[route], windows[route])
        failures += burn_mismatches(reports[route], [truth.slo(group_key(route))], end)
    assert not failures, "\n".join(failures)

    # The story, as the figures tell it: /checkout burnt on the payment provider, and only there.
    burning = windows[BURNING_ROUTE]
    burning_share = {row.failure_mode: row.share for row in reports[BURNING_ROUTE].attribution}
    assert (burning.share(MODE) or 0.0) > 0.9
    assert abs(burning_share[MODE] - (burning.share(MODE) or 0.0)) <= 0.01
    for route in ROUTES:
        if route == BURNING_ROUTE:
            continue
        healthy = reports[route]
        assert windows[route].attributed.get(MODE, 0.0) == 0.0  # the truth: no timeouts there
        assert all(row.share == 0.0 for row in healthy.attribution), healthy.attribution
        assert healthy.unattributed.share == pytest.approx(1.0)  # only the unnamed baseline
        assert healthy.budget.consumed < 0.5  # a 0.2x baseline burn
        assert reports[BURNING_ROUTE].budget.consumed > 10 * healthy.budget.consumed
    # At SLO level the mode's share is /checkout's timeouts over every route's bad events.
    slo_share = {row.failure_mode: row.share for row in slo.attribution}
    assert slo_share[MODE] < burning_share[MODE]
    keys = [group_key(route) for route in ROUTES]
    assert_group_ledgers_add_up(
        engine, running.scenario.start, end, KEY, keys, every_group_sampled=True
    )
