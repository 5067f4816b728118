"""Grouped SLOs against a real Prometheus with known truth per group.

The `region_outage` scenario: us-east fails its probes for 30 minutes and serves a fifth of its
storefront requests as 503 (a per-group `when`), eu-west stays healthy; earlier the orders queue
backs up (a global `when`: it holds for every region at once); later both regions see unnamed
500s. Each region's ledger is checked against the truth of that region alone, the SLO's ledger
against the sum of the regions' truths, and the group ledgers against the SLO's slice by slice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.alerting.dispatcher import Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.engine import backfill, group_views
from app.engine.corrections import create_correction
from app.engine.service import Engine
from app.slo.alert_spec import Receiver
from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction
from app.slo.definitions import DefinitionSet
from app.slo.report import SLOReport
from app.slo.windows import Window
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store import groups, history, ledger, registry
from app.testbed.alertmanager import AlertmanagerServer
from app.testbed.series import REGIONS
from app.testbed.shipped import (
    QUEUE_OLDER_THAN_5M,
    InstantCompare,
    ModeTruthSpec,
    SLOTruthSpec,
    match,
)
from app.testbed.truth import GroundTruth, SLOTruth
from app.testbed.window import WindowTruth
from tests.alerting.conftest import alertmanager  # noqa: F401 - the fixture
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import with_receivers
from tests.api.conftest import TOKEN, serve_engine
from tests.conftest import RunningPrometheus
from tests.engine.conftest import definitions_with
from tests.engine.test_accuracy import epoch

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

KEY = "storefront/availability-by-region"
OBJECTIVE = 99.9
YAML = """\
service: storefront
slos:
  - name: availability-by-region
    objective: 99.9
    group_by: [region]
    sli:
      events:
        total: sum by (region) (rate(http_requests_total{service="storefront"}[{{window}}]))
        bad: sum by (region) (rate(http_requests_total{service="storefront", code=~"5.."}[{{window}}]))
    failure_modes:
      - name: region-outage
        design_choice: multi-region
        when: min by (region) (probe_success{job="blackbox"}) == 0
      - name: orders-backlog
        design_choice: queue
        when: max(aws_sqs_approximate_age_of_oldest_message_maximum{dimension_QueueName="orders"}) > 300
"""


def group_key(region: str) -> str:
    return f'{KEY}{{region="{region}"}}'


def region_truth(region: str) -> SLOTruthSpec:
    """The group's SLO restated by hand: the region's requests, its probe, the global queue."""
    storefront = {"service": "storefront", "region": region}
    probe = match("probe_success", job="blackbox", region=region)
    return SLOTruthSpec(
        group_key(region),
        OBJECTIVE,
        total=match("http_requests_total", **storefront),
        bad=match("http_requests_total", **storefront, code=("500", "503")),
        modes=(
            ModeTruthSpec("region-outage", when=InstantCompare("min", probe, "==", 0)),
            ModeTruthSpec("orders-backlog", when=QUEUE_OLDER_THAN_5M),
        ),
    )


def load(tmp_path: Path) -> tuple[Path, DefinitionSet]:
    return definitions_with(tmp_path, "storefront.yaml", YAML)


def summed(parts: list[WindowTruth]) -> WindowTruth:
    """The SLO level's truth: its groups' sums."""
    modes = {mode for part in parts for mode in part.attributed}
    return WindowTruth(
        key=KEY,
        start=parts[0].start,
        end=parts[0].end,
        objective=OBJECTIVE,
        slices=parts[0].slices,
        no_data_slices=0,
        total=sum(p.total for p in parts),
        bad=sum(p.bad for p in parts),
        attributed={m: sum(p.attributed.get(m, 0.0) for p in parts) for m in modes},
        unattributed=sum(p.unattributed for p in parts),
    )


def mismatches(report: SLOReport, truth: WindowTruth) -> list[str]:
    found = []
    assert truth.consumed is not None
    if abs(report.budget.consumed - truth.consumed) > 0.01 * truth.consumed:
        found.append(f"{report.key}: consumed {report.budget.consumed} != {truth.consumed}")
    if not math.isclose(report.events.total, truth.total, rel_tol=1e-9):
        found.append(f"{report.key}: total {report.events.total} != {truth.total}")
    shares = {row.failure_mode: row.share for row in report.attribution}
    for mode in truth.attributed:
        if abs(shares.get(mode, 0.0) - (truth.share(mode) or 0.0)) > 0.01:
            found.append(f"{report.key}: share of {mode} {shares.get(mode)} != {truth.share(mode)}")
    if abs(report.unattributed.share - (truth.unattributed_share or 0.0)) > 0.01:
        found.append(f"{report.key}: unattributed {report.unattributed.share}")
    return found


def burn_mismatches(report: SLOReport, truths: list[SLOTruth], end: int) -> list[str]:
    """1h, 6h and 1d burn rates within 2 % of the truth (of the groups' sums at SLO level)."""
    found = []
    for label, seconds in (("1h", 3600), ("6h", 6 * 3600), ("1d", 86400)):
        truth = summed([slo.window(end - seconds, end) for slo in truths]).burn_rate
        burn = report.burn_rates[label]
        assert truth is not None and burn is not None
        if abs(burn - truth) > 0.02 * truth:
            found.append(f"{report.key}: burn {label} {burn} != {truth}")
    return found


@pytest.fixture
def evaluated(
    prometheus_over: Callable[..., RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
) -> tuple[Engine, RunningPrometheus, Path]:
    running = prometheus_over("region_outage")
    directory, definitions = load(tmp_path)
    scenario = running.scenario
    engine = engines(running.url, database_url, scenario.start, scenario.end, definitions)
    result = engine.tick(now=scenario.end)
    assert not result.errors and result.unavailable is None, result
    return engine, running, directory


def test_each_region_and_the_slo_match_the_truth_and_add_up(
    evaluated: tuple[Engine, RunningPrometheus, Path],
) -> None:
    engine, running, _ = evaluated
    end = running.scenario.end
    truth = GroundTruth(running.dataset, [region_truth(region) for region in REGIONS])
    slo = engine.report(KEY, end)
    start = epoch(slo.window.start)
    windows = {region: truth.slo(group_key(region)).window(start, end) for region in REGIONS}
    failures = mismatches(slo, summed(list(windows.values())))
    failures += burn_mismatches(slo, [truth.slo(group_key(region)) for region in REGIONS], end)
    reports = {}
    for region in REGIONS:
        reports[region] = group_views.group_report(engine, KEY, group_key(region), end)
        failures += mismatches(reports[region], windows[region])
        failures += burn_mismatches(reports[region], [truth.slo(group_key(region))], end)
    assert not failures, "\n".join(failures)
    # The story, as the figures tell it: us-east burnt on its own outage, eu-west did not.
    east = {row.failure_mode: row.share for row in reports["us-east"].attribution}
    west = {row.failure_mode: row.share for row in reports["eu-west"].attribution}
    assert east["region-outage"] > 0.9 and west.get("region-outage", 0.0) == 0.0
    assert reports["us-east"].budget.consumed > 10 * reports["eu-west"].budget.consumed
    assert west.get("orders-backlog", 0.0) > 0  # the global condition spends every region's
    assert_group_ledgers_add_up(engine, running.scenario.start, end)


def assert_group_ledgers_add_up(
    engine: Engine,
    start: int,
    end: int,
    key: str = KEY,
    group_keys: Sequence[str] = tuple(group_key(region) for region in REGIONS),
    *,
    every_group_sampled: bool = False,
) -> None:
    """Slice by slice, the SLO's ledger is the sum of its groups' (`every_group_sampled`: each
    group has an ok record in every slice)."""
    with engine.store.read() as connection:
        parent = registry.get_slo(connection, key)
        assert parent is not None
        members = groups.groups_of(connection, parent.id)
        assert sorted(group.key for group in members) == sorted(group_keys)
        window = Window(start, end)
        slo = {r.t: r for r in ledger.read_slices(connection, parent.id, window)}
        parts = [
            {r.t: r for r in ledger.read_slices(connection, group.id, window)} for group in members
        ]
    assert len(slo) == (end - start) // 60
    for t, record in slo.items():
        records = [part[t] for part in parts if t in part and part[t].status == "ok"]
        assert not every_group_sampled or len(records) == len(group_keys), t
        assert record.total == sum(r.total for r in records), t
        assert record.bad == sum(r.bad for r in records), t
        assert record.unattributed == sum(r.unattributed for r in records), t
        for mode, credit in record.modes.items():
            assert credit.credited == sum(r.modes[mode].credited for r in records), (t, mode)


def test_the_api_lists_groups_worst_first_and_pages_them(
    evaluated: tuple[Engine, RunningPrometheus, Path], database_url: str
) -> None:
    engine, running, directory = evaluated
    server, url = serve_engine(
        engine, definitions=directory, database_url=database_url, prometheus_url=running.url
    )
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client:
            page = client.get(f"/api/v1/slos/{KEY}/groups").json()
            assert [item["key"] for item in page["items"]] == [
                group_key("us-east"),
                group_key("eu-west"),
            ]
            assert page["total"] == 2 and page["group_by"] == ["region"]
            assert page["max_groups"] == 500 and page["overflow"] == {"count": 0, "groups": []}
            assert page["mode_scopes"] == {"region-outage": "group", "orders-backlog": "global"}
            assert page["items"][0]["labels"]["region"] == "us-east"
            second = client.get(
                f"/api/v1/slos/{KEY}/groups", params={"limit": 1, "offset": 1}
            ).json()
            assert [item["key"] for item in second["items"]] == [group_key("eu-west")]
            found = client.get(f"/api/v1/slos/{KEY}/groups", params={"search": "EAST"}).json()
            assert [item["key"] for item in found["items"]] == [group_key("us-east")]
            one = client.get(
                f"/api/v1/slos/{KEY}/groups/report", params={"group": "region:us-east"}
            )
            assert one.status_code == 200 and one.json()["key"] == group_key("us-east")
            assert (
                client.get(f"/api/v1/slos/{KEY}/groups/report?group=region:mars").status_code == 404
            )
            # The SLO list shows the SLO, not its groups; nor are they counted twice in sums
            # across SLOs.
            listed = client.get("/api/v1/slos").json()
            assert [item["key"] for item in listed["items"]] == [KEY]
        with engine.store.read() as connection:
            window = Window(running.scenario.start, running.scenario.end)
            spends, _ = history.spend_by_mode(connection, window)
        assert [spend.slo_key for spend in spends] == [KEY]
    finally:
        server.stop()


@pytest.mark.alertmanager
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_burning_region_pages_with_its_labels_and_the_healthy_one_does_not(
    prometheus_over: Callable[..., RunningPrometheus],
    engines: Callable[..., Engine],
    alertmanager: tuple[AlertmanagerServer, WebhookReceiver],  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    server, _ = alertmanager
    running = prometheus_over("region_outage")
    _, loaded = load(tmp_path)
    receiver = Receiver(type="alertmanager", url=server.url, resend_interval=5)
    definitions = with_receivers(loaded, {"am": receiver})
    scenario = running.scenario
    outage = int(running.built.named.facts["outage"])
    engine = engines(running.url, database_url, scenario.start, scenario.end, definitions)
    judge = AlertEvaluator(engine.store, lambda: engine.definitions, base_url="http://f")
    dispatcher = Dispatcher(engine.store, lambda: engine.definitions.alerts)
    try:
        engine.tick(now=outage + 25 * 60)  # 25 minutes into the us-east outage
        fired = judge.evaluate().transitions
        pages = {
            (t.document["labels"].get("region"), t.tier) for t in fired if t.severity == "page"
        }
        assert ("us-east", "page-fast") in pages
        assert not any(region == "eu-west" for region, _ in pages)
        assert (None, "page-fast") in pages  # the SLO as a whole burns too (us-east is 45 %)
        dispatcher.run_once()
        received = server.alerts()
        regions = {alert["labels"].get("region") for alert in received}
        assert "us-east" in regions and "eu-west" not in regions, received
        for alert in received:
            assert alert["labels"]["slo"] == "availability-by-region"
        engine.tick(now=scenario.end)  # an hour after the outage: the pages resolve
        resolved = {
            (t.document["labels"].get("region"), t.tier)
            for t in judge.evaluate().transitions
            if t.state.value == "resolved"
        }
        assert ("us-east", "page-fast") in resolved
        for _ in range(3):  # a resolution waits for its firing notification's delivery
            dispatcher.run_once()
        still = [a for a in server.alerts() if a["labels"].get("long_window") == "1h"]
        assert still == [], still
    finally:
        dispatcher.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backfill_in_many_chunks_writes_the_same_group_ledgers_as_one_tick(
    evaluated: tuple[Engine, RunningPrometheus, Path],
    engines: Callable[..., Engine],
    tmp_path: Path,
) -> None:
    ticked, running, _ = evaluated
    start, end = running.scenario.start, running.scenario.end
    other = engines(
        running.url, f"sqlite:///{tmp_path / 'backfilled.db'}", start, end, ticked.definitions
    )
    other.source = PrometheusSource(SourceConfig(url=running.url, timeout=10, max_points=50))
    jobs = backfill.plan(other, [KEY], start, end)
    outcome = backfill.run(other, jobs)
    assert not outcome.failed and outcome.done == [KEY]
    window = Window(start, end)
    keys = [KEY, *(group_key(region) for region in REGIONS)]
    for key in keys:
        found = []
        for engine in (ticked, other):
            with engine.store.read() as connection:
                stored = registry.get_slo(connection, key)
                assert stored is not None, key
                found.append(ledger.read_slices(connection, stored.id, window))
        assert len(found[0]) == len(found[1]) == (end - start) // 60, key
        assert found[0] == found[1], key


def excluded_totals(engine: Engine, key: str, window: Window) -> tuple[int, float]:
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, key)
        assert stored is not None
        (totals,) = ledger.window_totals(connection, stored.id, [window])
        return totals.excluded_slices, totals.bad


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_correction_and_an_edit_reach_every_group(
    evaluated: tuple[Engine, RunningPrometheus, Path],
) -> None:
    engine, running, _ = evaluated
    start, end = running.scenario.start, running.scenario.end
    outage = int(running.built.named.facts["outage"])
    spec = CorrectionSpec(
        name="outage",
        category="maintenance",
        note="failover drill",
        start=outage,
        end=outage + 1800,
    )
    applied = create_correction(
        engine, Correction(spec, "storefront", "availability-by-region"), "alice"
    )
    assert applied.remarked == {KEY: 30}
    window = Window(start, end)
    east = excluded_totals(engine, group_key("us-east"), window)
    west = excluded_totals(engine, group_key("eu-west"), window)
    slo = excluded_totals(engine, KEY, window)
    assert east[0] == west[0] == slo[0] == 30
    assert slo[1] == east[1] + west[1]  # what is left counted still adds up
    report = group_views.group_report(engine, KEY, group_key("us-east"), end)
    assert report.excluded_slices == 30 and report.budget.consumed < 1  # the outage given back
    assert_group_ledgers_add_up(engine, start, end)
    # An edit that keeps the ledger (the objective) reaches the groups' rows; removing the SLO
    # deactivates them with it, history kept.
    edited = replace(
        engine.definitions.slos[0],
        spec=engine.definitions.slos[0].spec.model_copy(update={"objective": 99.0}),
    )
    with engine.store.begin() as connection:
        registry.sync_definitions(connection, [edited], end)
        stored = registry.get_slo(connection, group_key("us-east"))
        assert stored is not None and stored.definition["spec"]["objective"] == 99.0
        assert stored.checkpoint == end  # not recomputed
        # A changed query recomputes the SLO and its groups: their history goes, their rows
        # stay (aged out until data brings them back; their alerts resolve, not orphaned).
        events = edited.spec.sli.events if edited.spec.sli else None
        assert events is not None and events.bad is not None
        sli = edited.spec.sli.model_copy(  # type: ignore[union-attr]
            update={
                "events": events.model_copy(update={"bad": events.bad.replace("5..", "5..|429")})
            }
        )
        requeried = replace(edited, spec=edited.spec.model_copy(update={"sli": sli}))
        result = registry.sync_definitions(connection, [requeried], end)
        assert result.history_reset == [KEY]
        parent = registry.get_slo(connection, KEY)
        assert parent is not None
        after = registry.list_groups(connection, parent.id)
        assert sorted(g.key for g in after) == [group_key(r) for r in REGIONS]
        assert all(not g.active and g.checkpoint is None for g in after)
        assert all(ledger.read_slices(connection, g.id, window) == [] for g in after)
        known, retired = groups.known_groups(connection, parent.id, ("region",))
        assert set(known) == retired == {(r,) for r in REGIONS}
        assert groups.known_groups(connection, parent.id, ("route",)) == ({}, set())
        registry.sync_definitions(connection, [], end)
        parent = registry.get_slo(connection, KEY)
        assert parent is not None and not parent.active
        assert all(not g.active for g in registry.list_groups(connection, parent.id))
