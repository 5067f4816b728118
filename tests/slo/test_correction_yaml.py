"""Corrections in SLO files: `faultline validate` pins every mistake to file:line:col."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.runtime.loading import load_definitions

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "slo_definitions" / "design_choices.yaml"
SLI = "    sli: {threshold: {query: max(q), op: '<=', value: 1}}\n"

VALID = (
    "service: shop\n"
    "corrections:\n"
    "  - name: release-freeze\n"
    "    category: deployment\n"
    "    note: Black Friday freeze, traffic is synthetic\n"
    "    start: 2024-03-04T10:00:00Z\n"
    "    end: '2024-03-04T12:00:00+01:00'\n"
    "slos:\n"
    "  - name: queue-age\n"
    "    objective: 99\n" + SLI + "    corrections:\n"
    "      - name: weekly-patching\n"
    "        category: maintenance\n"
    "        note: Broker patching, Sundays 02:00 Berlin\n"
    "        rrule: |\n"
    "          DTSTART;TZID=Europe/Berlin:20240303T020000\n"
    "          RRULE:FREQ=WEEKLY;BYDAY=SU\n"
    "        duration: 2h\n"
)

BROKEN = (
    "service: shop\n"  # 1
    "corrections:\n"
    "  - name: freeze\n"
    "    category: deploy\n"  # 4: unknown category
    "    note: x\n"
    "    start: 2024-03-04T10:00:00Z\n"
    "    end: 2024-03-04T10:00:00Z\n"  # 7: end not after start
    "slos:\n"
    "  - name: a\n"
    "    objective: 99\n" + SLI + "    corrections:\n"  # 12
    "      - name: weekly\n"
    "        category: maintenance\n"
    "        note: x\n"
    "        rrule: |\n"  # 16: bad RRULE
    "          DTSTART;TZID=Europe/Berlin:20240303T020000\n"
    "          RRULE:FREQ=WEEKLY;BYDAY=SUNDAY\n"
    "        duration: 2h\n"
    "      - name: weekly\n"  # 20
    "        category: other\n"
    "        note: x\n"
    "        start: 2024-03-04T10:00:00\n"  # 23: no offset
    "        end: 2024-03-04T09:00:00Z\n"
    "  - name: b\n"
    "    objective: 99\n" + SLI + "    corrections:\n"
    "      - {name: w, category: other, note: x, start: 2024-03-04T10:00:00Z, duration: 1h}\n"
    "      - {name: u, category: other, note: x, rrule: 'DTSTART:20240303T020000Z', duration: 1h}\n"
    "  - name: c\n"
    "    objective: 99\n" + SLI + "    corrections:\n"
    "      - {name: v, category: other, note: x, start: 2024-03-04T10:00:00Z,\n"
    "         end: 2024-03-04T11:00:00Z}\n"
    "      - {name: v, category: other, note: y, start: 2024-03-04T12:00:00Z,\n"
    "         end: 2024-03-04T13:00:00Z}\n"
)


def test_valid_corrections_load_with_their_scope_and_source(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(VALID)
    result = load_definitions(tmp_path, catalog=CATALOG)
    assert result.ok, result.problems
    declared = result.definitions.declared_corrections()
    assert [(c.scope, c.name, c.source) for c in declared] == [
        ("shop", "release-freeze", f"file:{tmp_path / 'shop.yaml'}"),
        ("shop/queue-age", "weekly-patching", f"file:{tmp_path / 'shop.yaml'}"),
    ]
    freeze, weekly = (c.spec for c in declared)
    assert (freeze.start, freeze.end) == (1_709_546_400, 1_709_550_000)
    assert weekly.duration == 7200
    assert weekly.rrule is not None and weekly.rrule.endswith("BYDAY=SU")


def test_validate_pins_every_correction_mistake(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "design_choices.yaml").write_bytes(CATALOG.read_bytes())
    (tmp_path / "shop.yaml").write_text(BROKEN)
    result = CliRunner().invoke(cli, ["validate", "."])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "shop.yaml:4:15: corrections[0].category: unknown category 'deploy'; use one of "
        "maintenance, deployment, out-of-scope-traffic, other",
        "shop.yaml:7:10: corrections[0].end: `end` must be after `start`",
        "shop.yaml:16:16: slos[0].corrections[0].rrule: invalid RRULE: invalid 'BYDAY': SUNDAY",
        "shop.yaml:23:16: slos[0].corrections[1].start: give the time zone offset, e.g. "
        "2024-03-04T10:00:00Z or +01:00",
        "shop.yaml:29:9: slos[1].corrections[0]: a correction is one-off (`start` and `end`) "
        "or recurring (`rrule` and `duration`), not both",
        "shop.yaml:30:52: slos[1].corrections[1].rrule: a recurrence needs an RRULE line, e.g. "
        "RRULE:FREQ=WEEKLY;BYDAY=SU",
        "shop.yaml:37:16: slos[2].corrections[1].name: correction name 'v' is used twice in "
        "this scope (first at corrections[0])",
    ]
