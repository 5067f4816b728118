"""`faultline demo`: Prometheus with 30 days of failure history, fed live, and Faultline on it.

The demo claims its port before building anything, so a busy port fails at once; it stops the
same way on Ctrl-C, SIGTERM and SIGHUP (a closed terminal), removing everything it started.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    counted,
    err,
    settings_from,
)

if TYPE_CHECKING:
    from app.demo import DemoWorld
    from app.runtime.settings import Settings


def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboards and API")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days of generated history")] = 30,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Start a local Prometheus with realistic failure data and serve Faultline on it.

    Ctrl-C (or SIGTERM, or closing the terminal) stops everything the demo started and removes
    its temporary files. With --prometheus-url no Prometheus is started: the demo serves the
    shipped SLOs on yours. With --database-url the ledger is kept there instead of in the
    temporary directory.
    """
    base = settings_from(definitions, prometheus_url, database_url)
    listener = claim_port(base.host, port)  # before minutes of work, not after
    stop_on_termination()
    import uvicorn  # noqa: PLC0415

    from app.demo import PrometheusNotInstalledError, start_world  # noqa: PLC0415
    from app.runtime.factory import create_app  # noqa: PLC0415

    world: DemoWorld | None = None
    try:
        if prometheus_url is None:
            try:
                world = start_world(err, days)
            except PrometheusNotInstalledError as error:
                err.print(f"[red]{error}[/]")
                err.print("Install it with: [bold]apt-get install prometheus[/] (or ./run.sh demo)")
                raise typer.Exit(1) from None
        updates: dict[str, object] = {"port": port, "definitions": base.definitions.resolve()}
        if world is not None:
            updates["prometheus_url"] = world.prometheus.url
            updates["alerts"] = world.alerts_for(base.alerts.resolve())
            if database_url is None:
                updates["database_url"] = f"sqlite:///{world.directory / 'faultline.db'}"
            # The injected failures, listed: "incidents" on the pages means budget incidents.
            err.print(world.story, markup=False)
        settings = base.model_copy(update=updates)
        err.print(
            f"\n[bold green]Faultline[/] at [bold]http://{settings.host}:{port}[/]  "
            f"(API /api/v1/slos, docs /docs, metrics /metrics)\n"
            f"The first evaluation backfills {counted(days, 'day')}; figures fill in within a "
            "minute."
        )
        temporary = world is not None and database_url is None
        err.print(
            commands_for(settings, temporary_ledger=temporary),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        err.print("Press Ctrl-C to stop everything.")
        config = uvicorn.Config(
            create_app(settings), log_level="warning", timeout_graceful_shutdown=30
        )
        # Ctrl-C: uvicorn stops gracefully, then raises the interrupt again.
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()
        if world is not None:
            world.close()
            err.print("demo stopped; temporary files removed")


def claim_port(host: str, port: int) -> socket.socket:
    """Bind the demo's port now and keep it, so nothing takes it while history is built; a
    busy port ends the demo at once, suggesting a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            free = probe.getsockname()[1]
        err.print(f"[red]port {port} on {host} is not available[/]: {error.strerror}")
        err.print(f"Choose another with --port, e.g.: [bold]faultline demo --port {free}[/]")
        raise typer.Exit(2) from None
    listener.set_inheritable(False)
    return listener


def stop_on_termination() -> None:
    """SIGTERM and SIGHUP stop the demo as Ctrl-C does: every `finally` runs, so Prometheus is
    stopped and the temporary directory removed (their default action would skip both).

    While uvicorn serves it handles SIGTERM itself (a graceful shutdown) and raises it again
    afterwards, which lands here; SIGHUP is turned into that same SIGTERM."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # A second signal during clean-up must not interrupt it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        raise SystemExit(0)  # nothing printed here: the signal may land inside the console

    def hang_up(_signum: int, _frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, hang_up)


def commands_for(settings: Settings, *, temporary_ledger: bool) -> str:
    """The commands that read this demo's data, ready to paste (they work while it runs)."""
    from app.commands.ledger_place import sqlite_file  # noqa: PLC0415

    program = _program()
    file = sqlite_file(settings.database_url)  # absolute, to work from any directory
    url = settings.database_url if file is None else f"sqlite:///{file}"
    ledger = shlex.quote(url)
    definitions = shlex.quote(str(settings.definitions))
    source = shlex.quote(settings.prometheus_url)
    common = f"--definitions {definitions} --database-url {ledger}"
    return "\n".join(
        (
            f"Ledger: {url}",
            "Read it (and its Prometheus) from another terminal while the demo runs"
            + (
                " (it is removed with the demo's temporary files; to keep it, start the demo "
                "with --database-url sqlite:///demo.db):"
                if temporary_ledger
                else ":"
            ),
            f"  $ {program} report {common}",
            f"  $ {program} report --json {common}",
            f"  $ {program} validate --definitions {definitions} --prometheus-url {source}",
        )
    )


def _program() -> str:
    """`faultline` when that is what the shell finds, else the path this process runs from."""
    here = Path(sys.argv[0]).resolve()
    found = shutil.which("faultline")
    if found is not None and Path(found).resolve() == here:
        return "faultline"
    return shlex.quote(str(here)) if here.name == "faultline" else "faultline"
