"""Definitions by generation: a set never seen becomes the next generation, the current one is
kept, an older one is not registered again while another process is live, unless forced (an
operator's deliberate rollback); alone, it becomes the newest again."""

from __future__ import annotations

from app.store import generations
from app.store.store import Store


def test_an_older_set_is_superseded_while_others_live(database_url: str) -> None:
    store = Store(database_url).open()
    try:

        def decide(
            digest: str, *, force: bool = False, others_live: bool = True
        ) -> generations.Decision:
            with store.begin() as connection:
                return generations.decide(
                    connection, digest, "p", 100, force=force, others_live=others_live
                )

        old, new = generations.set_hash(["a", "b"]), generations.set_hash(["a", "c"])
        assert generations.set_hash(["b", "a"]) == old  # order of files does not matter
        assert decide(old) == generations.Decision(1, 1, register=True)
        assert decide(old) == generations.Decision(1, 1, register=True)
        assert decide(new) == generations.Decision(2, 2, register=True)
        # Another process is live: the old set is not written back.
        assert decide(old).superseded
        assert decide(old) == generations.Decision(2, 1, register=False)
        assert decide(new) == generations.Decision(2, 2, register=True)
        assert decide(old, force=True) == generations.Decision(3, 3, register=True)
        assert decide(new) == generations.Decision(3, 2, register=False)
        # Alone (files reverted on a single process): it goes in.
        assert decide(new, others_live=False) == generations.Decision(4, 4, register=True)
        with store.read() as connection:
            assert [g.generation for g in generations.history(connection)] == [3, 4]
            current = generations.current(connection)
        assert current is not None and current.set_hash == new
    finally:
        store.close()
