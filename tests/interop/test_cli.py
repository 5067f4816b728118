"""`faultline import` and `faultline export` as users run them: output, exit codes, files."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.yamlbombs import BOMBS
from tests.interop.helpers import DOCUMENTS, load_written, run

GETTING_STARTED = DOCUMENTS / "sloth" / "getting-started.yml"


def test_import_prints_one_line_per_warning_and_the_files_it_wrote(tmp_path: Path) -> None:
    result = run("import", "sloth", str(GETTING_STARTED), "--out", str(tmp_path))
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"warning {GETTING_STARTED}:19:13: Sloth SLO requests-availability: "
        "slos[0].alerting.name: Faultline names alerts after the SLO and tier; the alert name is "
        "not imported"
    )
    assert sum(line.startswith("warning ") for line in lines) == 5
    assert lines[-1] == (
        f"1 SLO(s) in 1 service file(s) written to {tmp_path}; 5 warning(s), 0 problem(s)"
    )
    assert result.stdout.splitlines() == [str(tmp_path / "myservice.yaml")]
    text = (tmp_path / "myservice.yaml").read_text()
    assert text.startswith(f"# Imported by `faultline import sloth` from {GETTING_STARTED}.\n")
    assert "[{{window}}]" in text and "{{.window}}" not in text


def test_imported_files_pass_faultline_validate(tmp_path: Path) -> None:
    openslo = sorted((DOCUMENTS / "openslo").glob("*.yaml"))
    valid = [str(path) for path in openslo if path.name != "missing-reference.yaml"]
    assert run("import", "openslo", *valid, "--out", str(tmp_path)).exit_code == 0
    assert (tmp_path / "alerts" / "imported-openslo.yaml").is_file()
    result = run("validate", str(tmp_path), str(tmp_path / "alerts"))
    assert result.exit_code == 0, result.stdout
    assert load_written(tmp_path).ok


def test_unreadable_and_invalid_inputs_exit_1_with_positions(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text('version: "prometheus/v1"\nservice: svc\nslos:\n  - name: [unclosed\n')
    missing = tmp_path / "missing.yml"
    result = run("import", "sloth", str(broken), str(missing), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error ")]
    assert errors[0].startswith(f"error {broken}:5:1: YAML syntax error: while parsing a flow")
    assert errors[1].startswith(f"error {missing}:1:1: cannot read file: ")
    assert not (tmp_path / "out").exists()


def test_yaml_bombs_are_refused_with_positions_and_the_valid_input_still_imports(
    tmp_path: Path,
) -> None:
    bombs = []
    for name, make in BOMBS.items():
        bombs.append(tmp_path / f"{name}.yml")
        bombs[-1].write_text(make())
    out = tmp_path / "out"
    result = run("import", "sloth", *map(str, bombs), str(GETTING_STARTED), "--out", str(out))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error ")]
    assert sorted(line.split(":", 1)[0] for line in errors) == sorted(f"error {b}" for b in bombs)
    assert all(re.match(r"error \S+:\d+:\d+: refused: ", line) for line in errors), errors
    assert (out / "myservice.yaml").is_file()


def test_valid_parts_are_still_written_when_another_input_is_invalid(tmp_path: Path) -> None:
    result = run(
        "import",
        "openslo",
        str(DOCUMENTS / "openslo" / "missing-reference.yaml"),
        str(DOCUMENTS / "openslo" / "threshold-timeslices.yaml"),
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 1
    assert "1 problem(s)" in result.stderr
    assert (tmp_path / "fulfilment.yaml").is_file()


def test_existing_files_are_only_overwritten_with_force(tmp_path: Path) -> None:
    (tmp_path / "myservice.yaml").write_text("# mine\n")
    refused = run("import", "sloth", str(GETTING_STARTED), "--out", str(tmp_path))
    assert refused.exit_code == 1
    assert f"error {tmp_path / 'myservice.yaml'} exists; pass --force" in refused.stderr
    assert (tmp_path / "myservice.yaml").read_text() == "# mine\n"
    forced = run("import", "sloth", str(GETTING_STARTED), "--out", str(tmp_path), "--force")
    assert forced.exit_code == 0
    assert "service: myservice" in (tmp_path / "myservice.yaml").read_text()


def test_the_sloth_period_option_is_checked(tmp_path: Path) -> None:
    result = run(
        "import", "sloth", str(GETTING_STARTED), "--out", str(tmp_path), "--period", "a month"
    )
    assert result.exit_code == 2
    accepted = run(
        "import", "sloth", str(GETTING_STARTED), "--out", str(tmp_path), "--period", "28d"
    )
    assert accepted.exit_code == 0
    assert "period: 28d" in (tmp_path / "myservice.yaml").read_text()


def test_imported_slos_may_use_the_projects_alert_policies(tmp_path: Path) -> None:
    document = tmp_path / "slo.yaml"
    document.write_text(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: s\n"
        '  annotations: {faultline.dev/alerting: \'{"policy":"tickets-only"}\'}\n'
        "spec:\n  service: svc\n  budgetingMethod: Timeslices\n"
        "  timeWindow: [{duration: 30d, isRolling: true}]\n"
        "  indicator:\n    metadata: {name: i}\n    spec:\n      thresholdMetric:\n"
        "        metricSource: {type: Prometheus, spec: {query: max(lag_seconds)}}\n"
        "  objectives: [{op: lt, value: 1, target: 0.99, timeSliceWindow: 1m}]\n"
    )
    with_project = run("import", "openslo", str(document), "--out", str(tmp_path / "a"))
    assert with_project.exit_code == 0
    assert "alerting: tickets-only" in (tmp_path / "a" / "svc.yaml").read_text()
    empty = tmp_path / "no-alerts"
    empty.mkdir()
    alone = run(
        "import", "openslo", str(document), "--out", str(tmp_path / "b"), "--alerts", str(empty)
    )
    assert "unknown alert policy 'tickets-only'" in alone.stderr
    assert not (tmp_path / "b" / "svc.yaml").exists()
