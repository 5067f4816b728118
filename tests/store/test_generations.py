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

        def decide(
            digest: str, *, force: bool = False, live: frozenset[int] = frozenset({2, 3})
        ) -> generations.Decision:
            with store.begin() as connection:
                return generations.decide(connection, digest, "p", 100, force=force, live=live)

        old, new = generations.set_hash(["a", "b"]), generations.set_hash(["a", "c"])
        assert generations.set_hash(["b", "a"]) == old  # order of files does not matter
        assert decide(old) == generations.Decision(1, 1, register=True)
        assert decide(old) == generations.Decision(1, 1, register=True)
        assert decide(new) == generations.Decision(2, 2, register=True)
        # Another live process holds generation 2: the old set is not written back.
        assert decide(old) == generations.Decision(2, 1, register=False, superseded_by=2)
        assert decide(new) == generations.Decision(2, 2, register=True)
        assert decide(old, force=True) == generations.Decision(3, 3, register=True)
        assert decide(new) == generations.Decision(3, 2, register=False, superseded_by=3)
        # Nobody else holds the current set (files reverted on a single process): it goes in.
        assert decide(new, live=frozenset()) == generations.Decision(4, 4, register=True)
        with store.read() as connection:
            assert generations.current(connection) == 4
    finally:
        store.close()
