"""`faultline replay`: backtest alert policies and design changes over the ledger's history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    out,
    settings_from,
)

if TYPE_CHECKING:
    from app.slo.replay_models import OutcomeOut, ReplayOut

MAX_POLICY_BYTES = 1_000_000


def replay(
    slo: Annotated[
        list[str] | None, typer.Option("--slo", metavar="SERVICE/NAME", help="Repeat for several")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="TIME", help="RFC 3339, epoch or now-7d")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="TIME", help="End of the range (default now)")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DURATION", help="Range length (default 30d)")
    ] = None,
    objective: Annotated[
        float | None, typer.Option("--objective", metavar="PERCENT", help="e.g. 99.5")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", metavar="PERIOD", help="28d, 7d, month …")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", metavar="FILE", help="YAML file of one alert policy")
    ] = None,
    min_events: Annotated[
        int | None, typer.Option("--min-events", metavar="N", help="Events a long window needs")
    ] = None,
    factor: Annotated[
        list[str] | None, typer.Option("--factor", metavar="TIER=X", help="Fire above X; repeat")
    ] = None,
    without: Annotated[
        list[str] | None,
        typer.Option("--without", metavar="MODE", help="Remove a failure mode; repeat"),
    ] = None,
    scale: Annotated[
        list[str] | None,
        typer.Option("--scale", metavar="MODE=X", help="0.1 keeps 10 % of its bad"),
    ] = None,
    cap: Annotated[
        list[str] | None,
        typer.Option("--cap", metavar="MODE=RATIO", help="At most RATIO of events"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer")] = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Replay alert policies over a past range: when each tier would have fired and resolved,
    which budget incidents it caught, and what a change on paper would have done. Nothing is
    written and no alert is delivered."""
    from app.engine.replay import ReplayError, run_replay  # noqa: PLC0415 - heavy imports
    from app.runtime.wiring import reporting_engine  # noqa: PLC0415
    from app.slo.replay_models import ReplayRequest  # noqa: PLC0415
    from app.store.errors import StoreError  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    change = _change(without or [], scale or [], cap or [], factor or [], policy)
    given = {"objective": objective, "period": period, "min_events": min_events}
    change.update({name: value for name, value in given.items() if value is not None})
    try:
        request = ReplayRequest.model_validate(
            {"slos": slo or [], "start": start, "end": end, "since": since, "change": change}
        )
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            where = ".".join(str(part) for part in detail["loc"])
            err.print(f"[red]invalid[/] {where}: {detail['msg']}", markup=True)
        raise typer.Exit(2) from None
    try:
        engine = reporting_engine(settings)
        answer = run_replay(engine.store, engine.definitions, request, base_url=settings.base_url)
    except ReplayError as error:
        err.print(f"[red]replay[/]: {error}")
        raise typer.Exit(2) from None
    except StoreError as error:
        err.print(str(error), markup=False, style="red")
        raise typer.Exit(3) from None
    if as_json:
        out.print(answer.model_dump_json(indent=2, by_alias=True), markup=False)
        return
    for table in tables(answer):
        out.print(table)


def _change(
    without: list[str], scale: list[str], cap: list[str], factor: list[str], policy: Path | None
) -> dict[str, Any]:
    """The request's `change` from the edit options (validated with the request)."""
    edits = [{"mode": mode, "kind": "remove"} for mode in without]
    edits += [_edit(text, "scale") for text in scale]
    edits += [_edit(text, "cap") for text in cap]
    change: dict[str, Any] = {"modes": edits}
    if policy is not None:
        change["policy"] = _policy_document(policy)
    if factor:
        change["factors"] = {
            item["mode"]: item["value"] for item in (_edit(text, "factor") for text in factor)
        }
    return change


def _edit(text: str, kind: str) -> dict[str, Any]:
    mode, separator, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not separator or number is None:
        raise typer.BadParameter(f"{text!r} is not NAME=NUMBER", param_hint=f"--{kind}")
    return {"mode": mode, "kind": kind, "value": number}


def _policy_document(path: Path) -> Any:
    from ruamel.yaml import YAML  # noqa: PLC0415
    from ruamel.yaml.error import YAMLError  # noqa: PLC0415

    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise typer.BadParameter("larger than 1 MB", param_hint="--policy")
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as error:
        raise typer.BadParameter(str(error), param_hint="--policy") from None
    if isinstance(document, dict) and isinstance(document.get("policies"), dict):
        policies = list(document["policies"].values())
        if len(policies) != 1:
            raise typer.BadParameter("give a file with exactly one policy", param_hint="--policy")
        return policies[0]
    return document


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value / 60:.0f}m"


def _scores(title: str, outcome: OutcomeOut) -> Table:
    table = Table(title=title)
    table.add_column("tier", no_wrap=True, min_width=11)
    for column in ("firings", "false +", "caught", "missed", "precision", "recall"):
        table.add_column(column)
    table.add_column("detect (median)")
    table.add_column("reset (median)")
    for score in outcome.scores:
        table.add_row(
            score.tier,
            str(score.firings),
            str(score.false_positives),
            str(score.detected),
            str(score.missed),
            _percent(score.precision),
            _percent(score.recall),
            _minutes(score.median_detection_seconds),
            _minutes(score.median_reset_seconds),
        )
    return table


def tables(answer: ReplayOut) -> list[Table]:
    """Per SLO: budget and incidents side by side, then the scores of each side."""
    found: list[Table] = []
    summary = Table(title=f"Replay {answer.start} → {answer.end} (alerts replayed, not sent)")
    summary.add_column("SLO", no_wrap=True)
    for column in ("consumed", "policy", "incidents", "firings", "pages"):
        summary.add_column(column)
    for slo in answer.slos:
        sides = [("as it was", slo.actual)]
        if slo.changed is not None:
            sides.append(("changed", slo.changed))
        for label, side in sides:
            firings = [a for a in side.alerts if a.state == "firing"]
            summary.add_row(
                f"{slo.key} ({label})",
                _percent(side.budget.consumed),
                side.policy,
                str(len(side.incidents)),
                str(len(firings)),
                str(sum(a.severity == "page" for a in firings)),
            )
        found.extend(_scores(f"{slo.key} {label}", side) for label, side in sides)
    return [summary, *found]
