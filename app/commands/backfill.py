"""`faultline backfill`: compute a past range of the ledger from Prometheus, resumably."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    settings_from,
)
from app.slo.durations import DurationError, parse_duration
from app.slo.timeparse import parse_time

if TYPE_CHECKING:
    from app.engine.backfill import BackfillOutcome
    from app.engine.service import Engine
    from app.store.jobs import Job


def backfill(
    slo: Annotated[
        list[str] | None,
        typer.Option("--slo", metavar="SERVICE/NAME", help="Repeat for several (default: all)"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DURATION", help="How far back from now, e.g. 30d"),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="TIME", help="Start: RFC 3339 or epoch")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="TIME", help="End: RFC 3339 or epoch (default now)"),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Evaluate history. Interrupted runs (Ctrl-C, crash, outage) resume where they stopped."""
    from app.engine import backfill as backfills  # noqa: PLC0415
    from app.runtime.loading import load  # noqa: PLC0415
    from app.runtime.wiring import build_engine  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    first, last = _range(since, start, end)
    loaded = load(settings)
    for problem in loaded.problems:
        err.print(f"skipped: {problem}", markup=False)
    engine = build_engine(settings, loaded.definitions)
    keys = slo or engine.definitions.keys()
    unknown = [key for key in keys if engine.definitions.get(key) is None]
    if unknown:
        err.print(f"[red]unknown SLO[/] {', '.join(unknown)}")
        raise typer.Exit(1)
    queue = backfills.pending(engine)
    if queue:
        err.print(f"resuming {len(queue)} interrupted backfill job(s)")
    if first is not None:
        # plan() hands back an SLO's unfinished job instead of creating a second one.
        others = [job for job in queue if job.slo_key not in keys]
        queue = others + backfills.plan(engine, keys, first, last)
    elif not queue:
        err.print("nothing to do: give --since 30d or --from/--to (no interrupted jobs to resume)")
        raise typer.Exit(2)
    now = engine.clock()
    for job in queue:
        if job.holder is not None and (job.lease_expires or 0) > now:
            err.print(
                f"waiting for {job.slo_key}: another process is backfilling it ({job.holder})"
            )
    outcome = _run_with_progress(engine, queue)
    for key, message in outcome.failed.items():
        err.print(f"failed {key}: {message}", style="red", markup=False, soft_wrap=True)
    err.print(f"backfilled {len(outcome.done)} SLO(s)")
    if outcome.failed:
        raise typer.Exit(1)


def _range(since: str | None, start: str | None, end: str | None) -> tuple[int | None, int]:
    """(first, last) epoch seconds from the options; first is None when none was given."""
    try:
        last = parse_time(end) if end else int(time.time())
        if since is not None:
            return last - parse_duration(since), last
        if start is not None:
            return parse_time(start), last
    except (ValueError, DurationError) as error:
        raise typer.BadParameter(str(error)) from None
    return None, last


def _run_with_progress(engine: Engine, queue: list[Job]) -> BackfillOutcome:
    from app.engine import backfill as backfills  # noqa: PLC0415
    from app.sources.errors import SourceUnavailableError  # noqa: PLC0415

    bars: dict[int, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>6.0f}/{task.total:.0f} slices"),
        TimeRemainingColumn(),
        console=err,
    ) as progress:

        def report(job: Job, done: int, total: int) -> None:
            if job.id not in bars:
                bars[job.id] = progress.add_task(job.slo_key, total=total)
            progress.update(bars[job.id], completed=done)

        try:
            # Jobs another process is running (`faultline serve`) are waited for, not doubled.
            return backfills.run(engine, queue, progress=report, stop=threading.Event(), wait=True)
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: run the command again to resume")
            raise typer.Exit(130) from None
        except SourceUnavailableError as error:
            hint = "; run the command again to resume" if error.transient else ""
            err.print(f"{error}{hint}", style="red", markup=False, soft_wrap=True)
            raise typer.Exit(3) from None
