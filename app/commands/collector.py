"""Garbage collection around a command's start-up (standard library only: `app.cli` imports
this before anything heavy)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class _Process:
    """Whether this process runs one command and ends with it (`app.cli.main` says so). Only
    then is what start-up made frozen: a test that calls a command in its own process must
    not freeze its whole session's objects, garbage included."""

    one_command = False


def one_command_process() -> None:
    _Process.one_command = True


@contextmanager
def uncollected() -> Iterator[None]:
    """No garbage collection while a command imports what it needs, and, in a process of one
    command, what the imports made frozen after (kept out of every later collection). The
    modules, models and SQLAlchemy constructs live as long as the process; the collector's
    passes over them cost a short command a tenth of its CPU time (and before the freeze, a
    third)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _Process.one_command:
            gc.freeze()
        if enabled:
            gc.enable()
