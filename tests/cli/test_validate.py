from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.loading import load_definitions

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
