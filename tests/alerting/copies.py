"""Copies of the shipped checkout/checkout-success SLO, registered in a fresh ledger.

The alerting and replay benchmarks and the batched-evaluation test measure N identical SLOs;
this builds them once.
"""

from __future__ import annotations

from dataclasses import replace

from app.slo.definitions import DefinitionSet
from app.store import registry
from app.store.store import Store


def registered_copies(
    url: str, base: DefinitionSet, count: int, registered_at: int
) -> tuple[DefinitionSet, Store, list[int]]:
    """`count` copies of `base`'s first SLO named checkout-000…, their store and ledger ids."""
    template = base.slos[0]
    copies = tuple(
        replace(template, spec=template.spec.model_copy(update={"name": f"checkout-{i:03d}"}))
        for i in range(count)
    )
    store = Store(url).open()
    with store.begin() as connection:
        registry.sync_definitions(connection, copies, registered_at)
        ids = [slo.id for slo in registry.list_slos(connection)]
    return replace(base, slos=copies), store, ids
