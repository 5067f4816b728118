"""Definitions by generation: a new set becomes the next generation, the current one is kept,
an older one is not registered again unless forced (an operator's deliberate rollback)."""

from __future__ import annotations

from app.store import generations
from app.store.store import Store


def test_an_older_set_is_superseded_and_only_a_forced_reload_brings_it_back(
    database_url: str,
) -> None:
    store = Store(database_url).open()
    try:

        def decide(digest: str, *, force: bool = False) -> generations.Decision:
            with store.begin() as connection:
                return generations.decide(connection, digest, "p", 100, force=force)

        old, new = generations.set_hash(["a", "b"]), generations.set_hash(["a", "c"])
        assert generations.set_hash(["b", "a"]) == old  # order of files does not matter
        assert decide(old) == generations.Decision(1, register=True)
        assert decide(old) == generations.Decision(1, register=True)
        assert decide(new) == generations.Decision(2, register=True)
        assert decide(old) == generations.Decision(2, register=False, superseded_by=2)
        assert decide(new) == generations.Decision(2, register=True)
        assert decide(old, force=True) == generations.Decision(3, register=True)
        assert decide(new) == generations.Decision(3, register=False, superseded_by=3)
        with store.read() as connection:
            assert generations.current(connection) == 3
    finally:
        store.close()
