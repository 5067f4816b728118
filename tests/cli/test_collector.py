"""The start-up collector switch: frozen only in a process of one command, re-enabled after."""

from __future__ import annotations

import gc

import pytest

from app.commands import collector


def test_a_command_called_in_a_test_process_freezes_nothing() -> None:
    frozen = gc.get_freeze_count()
    with collector.uncollected():
        assert not gc.isenabled()
        garbage = [[] for _ in range(100)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    del garbage


def test_a_process_of_one_command_freezes_what_start_up_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector._Process, "one_command", False)
    collector.one_command_process()
    try:
        with collector.uncollected():
            made = [[] for _ in range(100)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)
    finally:
        gc.unfreeze()
