import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.runtime.loading import load_definitions
from app.slo.queries import signals
from tests.fixtures.yamlbombs import BOMBS

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = (ROOT / "tests/slo/broken/expected.txt").read_text().splitlines()


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout.splitlines()


def test_shipped_definitions_are_valid(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, lines = run("slo_definitions/")
    assert (code, lines) == (0, [])


def test_broken_files_give_exact_positions_for_every_problem(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, lines = run("tests/slo/broken/")
    assert code == 1
    assert lines == EXPECTED


def test_one_broken_slo_does_not_hide_the_valid_ones(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    (tmp_path / "mixed.yaml").write_text(
        "service: mixed\n"
        "slos:\n"
        "  - name: good\n"
        "    objective: 99\n"
        "    sli: {threshold: {query: max(q), op: '<=', value: 1}}\n"
        "  - name: broken\n"
        "    objective: 101\n"
        "    sli: {threshold: {query: max(q), op: '<=', value: 1}}\n"
    )
    result = load_definitions(tmp_path, catalog=ROOT / "slo_definitions" / "design_choices.yaml")
    assert [slo.key for slo in result.definitions.slos] == ["mixed/good"]
    assert [str(p).split(": ", 1)[1] for p in result.problems] == [
        "slos[1].objective: Input should be less than 100"
    ]
    assert result.problems[0].line == 7


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("FAULTLINE_DEFINITIONS", "tests/slo/broken")
    code, lines = run()
    assert code == 1
    # That directory has no catalog of its own, and the problem says so first.
    assert lines[0].startswith("tests/slo/broken/design_choices.yaml:1:1: design-choice catalog")
    assert set(EXPECTED) - set(lines) == {
        line for line in EXPECTED if "unknown design choice" in line
    }


def test_invalid_settings_are_refused_clearly(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["validate", "--prometheus-url", "localhost:9090"])
    assert result.exit_code == 2
    assert "prometheus_url" in result.stderr


FAULTLINE = str(Path(sys.executable).with_name("faultline"))
# Runs one command and reports its wall time and the peak RSS of its process (in KiB on Linux).
MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps([done.returncode, done.stdout, time.monotonic() - started, peak]))
"""


def measured_validate(path: Path) -> tuple[int, list[str], float, float]:
    """`faultline validate PATH` in its own process: exit code, lines, seconds, peak MB."""
    command = [sys.executable, "-c", MEASURE, FAULTLINE, "validate", str(path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90, check=True)
    code, stdout, seconds, peak_kib = json.loads(done.stdout)
    return code, stdout.splitlines(), seconds, peak_kib / 1024


@pytest.fixture(scope="module")
def plain_run() -> tuple[float, float]:
    """Seconds and MB of validating one ordinary file: what start-up alone costs."""
    code, _, seconds, peak = measured_validate(ROOT / "slo_definitions" / "checkout.yaml")
    assert code == 0
    return seconds, peak


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_validate_refuses_a_bomb_quickly_in_little_memory(
    name: str, plain_run: tuple[float, float], tmp_path: Path
) -> None:
    bomb = tmp_path / f"{name}.yaml"
    bomb.write_text(BOMBS[name]())
    code, lines, seconds, peak = measured_validate(bomb)
    assert code == 1
    assert len(lines) == 1 and re.fullmatch(rf"{bomb}:\d+:\d+: refused: .+", lines[0]), lines
    plain_seconds, plain_peak = plain_run
    assert seconds - plain_seconds < 2, (seconds, plain_seconds)
    assert peak - plain_peak < 200, (peak, plain_peak)


def test_bombs_beside_valid_files_leave_the_valid_slos_loaded(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "slo_definitions", tmp_path, dirs_exist_ok=True)
    for name, make in BOMBS.items():
        (tmp_path / f"{name}.yaml").write_text(make())
    shipped = load_definitions(ROOT / "slo_definitions", alerts=ROOT / "alerts")
    result = load_definitions(tmp_path, alerts=ROOT / "alerts")
    assert sorted(Path(p.file).stem for p in result.problems) == sorted(BOMBS)
    assert all(p.message.startswith("refused: ") for p in result.problems)
    assert [slo.key for slo in result.definitions.slos] == [
        slo.key for slo in shipped.definitions.slos
    ]


METRICSQL_SLOS = """\
service: vm
slos:
  - name: events
    objective: 99
    sli:
      events:
        unit: rate
        total: sum(rate(http_requests_total[{{window}}])) default 0
        bad: sum(rate(http_requests_total{code=~"5.."}[{{window}}])) default 0
  - name: gauge
    objective: 99
    sli:
      threshold:
        query: range_median(queue_age[5m])
        op: "<="
        value: 1
  - name: no-unit
    objective: 99
    sli:
      events:
        total: sum(rate(http_requests_total[{{window}}])) default 0
        bad: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
"""


def test_metricsql_is_accepted_with_a_warning_only_for_victoriametrics(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)
    shutil.copy(ROOT / "slo_definitions" / "design_choices.yaml", tmp_path)
    (tmp_path / "vm.yaml").write_text(METRICSQL_SLOS)
    code, strict = run(str(tmp_path))
    assert code == 1
    assert [line.split(": ", 2)[1] for line in strict] == [
        "slos[0].sli.events.total",
        "slos[0].sli.events.bad",
        "slos[1].sli.threshold.query",
        "slos[2].sli.events.total",
    ]
    assert all("invalid PromQL" in line for line in strict)

    monkeypatch.setenv("FAULTLINE_PROMETHEUS_KIND", "victoriametrics")
    code, lenient = run(str(tmp_path))
    assert code == 1  # only the query whose unit cannot be read
    errors = [line for line in lenient if ": warning: " not in line]
    assert errors == [
        f"{tmp_path}/vm.yaml:21:16: slos[2].sli.events.total: the unit of a MetricsQL query "
        "cannot be read from it: set `unit: rate` or `unit: count` on the events SLI"
    ]
    assert len(lenient) == 5
    assert "accepted as MetricsQL since the source is VictoriaMetrics" in lenient[0]
    loaded = load_definitions(tmp_path, metricsql=True)
    assert [slo.key for slo in loaded.definitions.slos] == ["vm/events", "vm/gauge"]
    for slo in loaded.definitions.slos:  # the engine can build its signals
        assert signals(slo.spec)
