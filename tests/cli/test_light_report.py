"""`faultline report` reads the ledger light: the engine's figures, without the server's,
dashboards' or migration libraries loaded (they cost most of a short command's start-up)."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection

from app.engine.service import Engine, EngineConfig
from app.runtime.loading import load_definitions
from app.runtime.reading import ledger_reports
from app.runtime.settings import load_settings
from app.runtime.wiring import reporting_engine
from app.slo.alert_spec import IncidentRule
from app.slo.budget import consumed_by
from app.slo.definitions import SLODefinition
from app.slo.incidents import Incident, burning_spans, make_incident
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus, WindowTotals
from app.slo.report import rfc3339
from app.slo.windows import Window, align_down, period_window
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store import bucket_reads, ledger, registry
from app.store.database import alembic_config, head_revision
from app.store.store import Store

REPO = Path(__file__).resolve().parents[2]
END = 1_700_006_400
# Libraries of the server, the dashboards, the scheduler, Prometheus queries and migrations.
HEAVY = ("dash", "plotly", "fastapi", "starlette", "uvicorn", "apscheduler", "alembic", "httpx")
# Prints, at exit, every module the command loaded (its own exit code passes through).
PROBE = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: print('MODULES', json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
    "sys.argv = ['faultline', *sys.argv[1:]]\n"
    "from app.cli import main\n"
    "main()\n"
)


def reported_slos(url: str, count: int) -> list[str]:
    """A ledger of the shipped definitions with two days of random slices for `count` SLOs."""
    definitions = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts").definitions
    store = Store(url).open()
    source = PrometheusSource(SourceConfig(url="http://127.0.0.1:9"))  # never asked
    engine = Engine(store, source, definitions, EngineConfig(evaluation_delay=0), lambda: END)
    engine.sync()
    rng = random.Random(3)
    chosen = []
    with store.begin() as connection:
        for stored in registry.list_slos(connection):
            definition = definitions.get(stored.key)
            if len(chosen) == count or definition is None or stored.slice_seconds != 60:
                continue
            names = [mode.name for mode in definition.spec.failure_modes]
            records = []
            for t in range(END - 2 * 86400 + 60, END + 60, 60):
                total = rng.uniform(100, 500)
                # A burning hour now and then, so incidents are found and attributed, and
                # quiet hours (no bad at all) between runs of hours with some.
                hour = t // 3600
                bad = total * (0.05 if hour % 17 == 0 else rng.uniform(0, 0.001))
                bad = 0.0 if hour % 7 in (3, 4) or hour % 11 == 5 else bad
                modes = {name: ModeSlice(credited=bad / (len(names) + 1)) for name in names}
                records.append(
                    SliceRecord(
                        t=t,
                        status=SliceStatus.OK,
                        total=total,
                        bad=bad,
                        unattributed=bad - sum(mode.credited for mode in modes.values()),
                        modes=modes,
                    )
                )
            ledger.write_slices(connection, stored.id, records)
            registry.advance_checkpoint(connection, stored.id, records[0].t, END, 60)
            chosen.append(stored.key)
    store.close()
    return chosen


def run_cli(*arguments: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(line for line in finished.stderr.splitlines() if line.startswith("MODULES "))
    return finished, {name.split(".")[0] for name in json.loads(line.removeprefix("MODULES "))}


def test_report_json_loads_no_server_dashboard_or_migration_library(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    keys = reported_slos(url, 2)
    selected = [part for key in keys for part in ("--slo", key)]
    finished, loaded = run_cli(
        "report", "--json", "--at", str(END), "--database-url", url, *selected
    )
    assert finished.returncode == 0, finished.stderr
    document = json.loads(finished.stdout)
    assert [item["key"] for item in document["slos"]] == keys
    assert any(item["incidents"] for item in document["slos"]), "the whole read path ran"
    assert not loaded & set(HEAVY), f"report loaded {sorted(loaded & set(HEAVY))}"
    assert "rich" not in loaded, "JSON is printed without rich's console"
    assert "numpy" not in loaded, "the ledger's read side needs no arrays"
    assert "pydantic_settings" not in loaded, "settings are read without pydantic-settings"


@pytest.mark.parametrize("arguments", [("report", "--help"), ("validate", "--help")])
def test_help_of_a_short_command_loads_none_of_them(arguments: tuple[str, ...]) -> None:
    finished, loaded = run_cli(*arguments)
    assert finished.returncode == 0, finished.stderr
    assert not loaded & set(HEAVY), f"{arguments} loaded {sorted(loaded & set(HEAVY))}"


def test_ledger_reports_equal_the_engines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    keys = reported_slos(url, 4)
    settings = load_settings(
        definitions=REPO / "slo_definitions", alerts=REPO / "alerts", database_url=url
    )
    engine = reporting_engine(settings)
    reader = ledger_reports(settings)
    # The report reads only the alert files that set these, and gets the same.
    assert reader.alerts.incidents == engine.definitions.alerts.incidents
    assert reader.alerts.budget_policy == engine.definitions.alerts.budget_policy
    for at in (END, END - 3 * 3600 - 17, END + 600):
        light = reader.reports(keys, at)
        assert [item.key for item in light] == keys
        for key, report in zip(keys, light, strict=True):
            assert report.model_dump() == engine.report(key, at).model_dump()
    assert reader.keys() == engine.definitions.keys()
    assert [item.key for item in reader.reports(None, END)] == engine.definitions.keys()
    with pytest.raises(KeyError, match="nope/none"):
        reader.reports([keys[0], "nope/none"], END)
    engine.store.close()
    reader.store.close()


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_revision() == head


def every_span_summed(
    connection: Connection,
    slo_id: int,
    definition: SLODefinition,
    window: Window,
    period: WindowTotals,
    rule: IncidentRule,
) -> list[Incident]:
    """The incidents as found without any shortcut: every burning span summed exactly."""
    budget = definition.spec.budget
    buckets = [
        (end, WindowTotals(total=total, bad=bad, slices=count))
        for end, total, bad, count in bucket_reads.bucket_totals(
            connection, slo_id, window, rule.bucket
        )
    ]
    spans = burning_spans(buckets, budget=budget, rule=rule)
    return [
        make_incident(span, totals, period_totals=period, budget=budget)
        for span, totals in zip(spans, ledger.window_totals(connection, slo_id, spans), strict=True)
        if consumed_by(totals.bad, period, budget) >= rule.min_consumed
    ]


@pytest.mark.parametrize(
    ("min_consumed", "merge_gap"),
    [(0.01, 1800), (0.1, 3600), (0.3, 0), (0.6, 7200), (1.0, 1800), (0.05, 10800)],
)
def test_incidents_are_skipped_only_when_none_could_qualify(
    tmp_path: Path, min_consumed: float, merge_gap: int
) -> None:
    """Whatever the rule's threshold and merge gap, the report's incidents are those the spans
    of a scan of the whole period give (the report scans only where the hours leave room)."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    keys = reported_slos(url, 4)
    settings = load_settings(
        definitions=REPO / "slo_definitions", alerts=REPO / "alerts", database_url=url
    )
    reader = ledger_reports(settings)
    rule = reader.alerts.incidents.model_copy(
        update={"min_consumed": min_consumed, "merge_gap": merge_gap}
    )
    reader.alerts = replace(reader.alerts, incidents=rule)
    with reader.store.read() as connection:
        for key, at in itertools.product(keys, (END, END - 5 * 3600 - 120)):
            report = reader.reports([key], at)[0]
            stored = registry.get_slo(connection, key)
            assert stored is not None
            definition = registry.definition_of(stored)
            end = align_down(at, definition.spec.slice_seconds)
            window = period_window(definition.spec.period, end)
            period = ledger.window_totals(connection, stored.id, [window])[0]
            expected = every_span_summed(connection, stored.id, definition, window, period, rule)
            assert len(report.incidents) == len(expected), (key, at)
            assert [item.start for item in report.incidents] == [
                rfc3339(incident.start) for incident in expected
            ]
            assert [item.consumed for item in report.incidents] == [
                incident.consumed for incident in expected
            ]
    reader.store.close()


def test_a_read_only_uri_names_its_file(tmp_path: Path) -> None:
    """`report` refuses a missing SQLite file before opening it; a URI filename is a file too."""
    from app.commands.ledger_place import missing_ledger, sqlite_file  # noqa: PLC0415

    ledger_file = tmp_path / "ledger.db"
    uri = f"sqlite:///file:{ledger_file}?mode=ro&uri=true"
    assert sqlite_file(uri) == ledger_file
    assert missing_ledger(uri) is not None
    ledger_file.touch()
    assert missing_ledger(uri) is None
