"""A real Faultline server over the `region_outage` scenario with grouped SLOs, for the pages
of groups: us-east burns on its own outage (a per-group failure mode), eu-west stays healthy,
the orders backlog (a global mode) spends both. `availability-by-region` has a ledger per
region; `availability-capped` (`max_groups: 1`) has one region's and counts the other in
"other". The truth of each region is computed by hand from the generated data
(`tests.engine.test_grouped.region_truth`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.testbed.prometheus import PrometheusServer
from app.testbed.series import REGIONS
from app.testbed.truth import GroundTruth
from app.testbed.tsdb import link_tsdb
from tests.conftest import TestbedCache, require_prometheus
from tests.engine.test_grouped import KEY, YAML, group_key, region_truth
from tests.web.conftest import Live
from tests.web.harness import (
    REPO,
    StoppedClock,
    engine_factory,
    run_until,
    settings_for,
    start_faultline,
)

SCENARIO = "region_outage"
TICK = 600
CAPPED = "storefront/availability-capped"
# The same SLO once more, with room for one region's ledger only.
CAPPED_YAML = (
    YAML.split("slos:\n", 1)[1]
    .replace("availability-by-region", "availability-capped")
    .replace("    group_by: [region]\n", "    group_by: [region]\n    max_groups: 1\n")
)


@dataclass(frozen=True)
class GroupedLive(Live):
    truth: GroundTruth  # per region, under the group keys of `KEY`


@pytest.fixture(scope="module")
def grouped(
    testbed: TestbedCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GroupedLive]:
    require_prometheus()
    built = testbed.get(SCENARIO)
    root = tmp_path_factory.mktemp("web-groups")
    definitions = root / "slo_definitions"
    definitions.mkdir()
    (definitions / "storefront.yaml").write_text(YAML + CAPPED_YAML)
    catalog = REPO / "slo_definitions" / "design_choices.yaml"
    (definitions / catalog.name).write_bytes(catalog.read_bytes())
    prometheus = PrometheusServer(
        link_tsdb(testbed.tsdb(SCENARIO), root / "data"), work_dir=root / "prometheus"
    )
    prometheus.start()
    scenario = built.scenario
    try:
        settings = settings_for(
            f"sqlite:///{root}/ledger.db", prometheus.url, definitions=definitions
        )
        clock = StoppedClock(scenario.start)
        server = start_faultline(settings, engine_factory(prometheus.url, clock, TICK))
        try:
            truth = GroundTruth(built.dataset, [region_truth(region) for region in REGIONS])
            live = GroupedLive(server, scenario.end, truth)
            run_until(live.engine, clock, live.end, TICK)
            yield live
        finally:
            server.stop()
    finally:
        prometheus.close()


__all__ = ["CAPPED", "KEY", "GroupedLive", "group_key", "grouped"]
