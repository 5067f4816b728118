"""`faultline validate` reports every problem of a file in one run, whatever layer finds it:
the schema (an unknown key, an objective out of range), PromQL syntax, the design-choice catalog
and the alert policies; a fraction written as the objective is warned about; counts are spelt
in the right number."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SHOP = """\
service: shop
slos:
  - name: checkout-success
    objective: 100.5
    windw: 30d
    sli:
      events:
        total: sum(rate(http_requests_total[{{window}}])
        bad: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
    failure_modes:
      - name: payment-timeout
        design_choice: blockchain
        when: up == 0
      - name: bad-name!
        design_choice: also-unknown
        when: up == 0
    alerting: wake-everyone
  - name: fraction-objective
    objective: 0.999
    sli:
      threshold: {query: max(queue_age_seconds), op: "<=", value: 300}
"""


def validate(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout.splitlines(), " ".join(result.stderr.split())


def test_five_layers_of_problems_in_one_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the shipped catalog and alert policies
    shop = tmp_path / "shop.yaml"
    shop.write_text(SHOP)
    code, lines, summary = validate(str(shop))
    assert code == 1
    assert lines == [
        f"{shop}:4:16: slos[0].objective: Input should be less than 100",
        f"{shop}:5:5: slos[0].windw: unknown key 'windw'; allowed here: alerting, budgeting, "
        "corrections, description, failure_modes, group_by, invariant, labels, max_groups, name, objective, period, "
        "scrape_interval, sli, slice, slice_target",
        f"{shop}:8:16: slos[0].sli.events.total: invalid PromQL: unclosed left parenthesis",
        f"{shop}:12:24: slos[0].failure_modes[0].design_choice: unknown design choice "
        "'blockchain'; known: cache, event-projection, multi-region, queue, read-replica, "
        "synchronous-call (add it to design_choices.yaml)",
        # The second failure mode's name is broken: its own checks are not run (it is a
        # placeholder), and its neighbour's still are.
        f"{shop}:14:15: slos[0].failure_modes[1].name: String should match pattern "
        "'^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$'",
        f"{shop}:17:15: slos[0].alerting: unknown alert policy 'wake-everyone'; known: default, "
        "tickets-only",
        f"{shop}:19:16: warning: slos[1].objective: objective 0.999 asks for 0.999 % good (a "
        "budget of 99.001 %); objectives are percentages: for 99.9 % write `objective: 99.9` "
        "(OpenSLO's `target` is the fraction)",
    ]
    assert summary == "6 problems in 1 file; 1 SLO valid (1 file checked)"


def test_a_fraction_objective_warns_but_loads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    (tmp_path / "queue.yaml").write_text(
        SHOP.split("  - name: checkout-success", maxsplit=1)[0]
        + SHOP.split("alerting: wake-everyone\n", maxsplit=1)[1]
    )
    code, lines, summary = validate(str(tmp_path / "queue.yaml"))
    assert code == 0
    assert len(lines) == 1 and "warning: slos[0].objective: objective 0.999" in lines[0]
    assert summary == "OK: 1 SLO in 1 file; 1 warning"


def test_counts_are_spelt_in_the_right_number(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert validate("slo_definitions/checkout.yaml")[2] == "OK: 2 SLOs in 1 file"
    code, _, summary = validate("tests/slo/broken/types.yaml")
    assert (code, summary) == (1, "5 problems in 1 file; 0 SLOs valid (1 file checked)")


def test_a_rule_across_keys_does_not_hide_the_later_checks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    queue = tmp_path / "queue.yaml"
    queue.write_text(
        "service: queue\n"
        "slos:\n"
        "  - name: freshness\n"
        "    objective: 99\n"
        "    budgeting: occurrences\n"
        "    sli:\n"
        "      threshold: {query: max(queue_age_seconds, op: '<=', value: 300}\n"
        "    failure_modes:\n"
        "      - {name: backlog, design_choice: blockchain, when: queue_depth > 100}\n"
    )
    code, lines, _ = validate(str(queue))
    assert code == 1
    messages = [line.split(": ", 1)[1] for line in lines]
    assert messages == [
        "slos[0]: a threshold SLI is budgeted in `timeslices`, not `occurrences`",
        "slos[0].sli.threshold.query: invalid PromQL: unclosed left parenthesis",
        "slos[0].failure_modes[0].design_choice: unknown design choice 'blockchain'; known: "
        "cache, event-projection, multi-region, queue, read-replica, synchronous-call (add it "
        "to design_choices.yaml)",
    ], lines


def test_a_rule_across_keys_is_reported_with_the_schemas_other_problems(
    tmp_path: Path, monkeypatch
) -> None:
    """pydantic runs an SLO-wide rule only once every field is valid: an unknown key hid it
    until the next run. A query missing its window placeholder is checked for syntax too."""
    monkeypatch.chdir(ROOT)
    queue = tmp_path / "queue.yaml"
    queue.write_text(
        "service: queue\n"
        "slos:\n"
        "  - name: freshness\n"
        "    objective: 99\n"
        "    budgeting: occurrences\n"
        "    windw: 3\n"
        "    sli:\n"
        "      threshold: {query: max(queue_age_seconds, op: '<=', value: 300}\n"
        "    alerting: nope\n"
        "  - name: requests\n"
        "    objective: 99\n"
        "    sli:\n"
        "      events: {total: 'sum(rate(x[5m])', bad: 'sum(rate(y[{{window}}]))'}\n"
    )
    code, lines, summary = validate(str(queue))
    assert code == 1
    assert [line.split(": ", 1)[1] for line in lines] == [
        "slos[0]: a threshold SLI is budgeted in `timeslices`, not `occurrences`",
        "slos[0].windw: unknown key 'windw'; allowed here: alerting, budgeting, corrections, "
        "description, failure_modes, group_by, invariant, labels, max_groups, name, objective, "
        "period, scrape_interval, sli, slice, slice_target",
        "slos[0].sli.threshold.query: invalid PromQL: unclosed left parenthesis",
        "slos[0].alerting: unknown alert policy 'nope'; known: default, tickets-only",
        "slos[1].sli.events.total: invalid PromQL: unclosed left parenthesis",
        "slos[1].sli.events.total: the query counts events, so it needs the {{window}} "
        "placeholder in its range selector, e.g. rate(x[{{window}}])",
    ], lines
    assert summary == "6 problems in 1 file; 0 SLOs valid (1 file checked)"


def test_a_rule_is_not_judged_on_a_placeholder(tmp_path: Path, monkeypatch) -> None:
    """A broken `sli` is replaced by an events placeholder: the SLO-wide rules, which read the
    SLI, are not reported against it (timeslices without slice_target would be)."""
    monkeypatch.chdir(ROOT)
    shop = tmp_path / "shop.yaml"
    shop.write_text(
        "service: shop\n"
        "slos:\n"
        "  - name: fresh\n"
        "    objective: 99\n"
        "    budgeting: timeslices\n"
        "    sli:\n"
        "      threshold: {query: max(age), op: '<<', value: 300}\n"
    )
    code, lines, _ = validate(str(shop))
    assert code == 1
    assert len(lines) == 1 and "slos[0].sli.threshold.op" in lines[0], lines
