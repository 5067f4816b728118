"""Alerting fixtures: real receivers (webhook, Alertmanager), stores, and ledgers to judge."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.slo.definitions import DefinitionSet
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
from app.store import ledger, registry
from app.store.store import Store
from app.testbed.alertmanager import AlertmanagerServer, find_alertmanager
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import NOON, SECRET, only, shipped
from tests.store.conftest import database_url  # noqa: F401 - re-exported fixture


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=SECRET)
    receiver.start()
    yield receiver
    receiver.released.set()
    receiver.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[AlertmanagerServer, WebhookReceiver]]:
    """A real Alertmanager whose own notifications land in a webhook receiver."""
    binary = find_alertmanager()
    if binary is None:
        pytest.fail(
            "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager); "
            "tests marked `alertmanager` need a real one",
            pytrace=False,
        )
    hook = WebhookReceiver()
    hook.start()
    server = AlertmanagerServer(binary, tmp_path / "alertmanager", hook.url)
    server.start()
    yield server, hook
    server.stop()
    hook.stop()


@dataclass
class SyntheticLedger:
    """A real store with the shipped SLOs registered and slices written by hand."""

    store: Store
    definitions: DefinitionSet

    def slo_id(self, key: str) -> int:
        with self.store.read() as connection:
            stored = registry.get_slo(connection, key)
        assert stored is not None
        return stored.id

    def redefine(self, definitions: DefinitionSet, now: int) -> None:
        """Load `definitions` and register them, as the leader of a redeployed process does
        (alerts are judged by the registered definition)."""
        self.definitions = definitions
        with self.store.begin() as connection:
            registry.sync_definitions(connection, definitions.slos, now)

    def fill(
        self,
        key: str,
        first: int,
        last: int,
        *,
        total: float = 1000.0,
        bad: float = 0.0,
        modes: Mapping[str, float] | None = None,
        no_data: bool = False,
    ) -> None:
        """Write one-minute slices with ends `first..last` and move the checkpoint to `last`."""
        credited = dict(modes or {})
        records = [
            SliceRecord(t=t, status=SliceStatus.NO_DATA)
            if no_data
            else SliceRecord(
                t=t,
                status=SliceStatus.OK,
                total=total,
                bad=bad,
                unattributed=bad - sum(credited.values()),
                modes={name: ModeSlice(credited=amount) for name, amount in credited.items()},
            )
            for t in range(first, last + 1, 60)
        ]
        slo_id = self.slo_id(key)
        with self.store.begin() as connection:
            ledger.write_slices(connection, slo_id, records)
            registry.advance_checkpoint(connection, slo_id, first, last, 60)


@pytest.fixture
def synthetic(database_url: str) -> Iterator[Callable[[DefinitionSet | None], SyntheticLedger]]:  # noqa: F811
    stores: list[Store] = []

    def make(definitions: DefinitionSet | None = None) -> SyntheticLedger:
        chosen = definitions or only(shipped(), "checkout/checkout-success")
        store = Store(database_url).open()
        stores.append(store)
        with store.begin() as connection:
            registry.sync_definitions(connection, chosen.slos, NOON)
        return SyntheticLedger(store, chosen)

    yield make
    for store in stores:
        store.close()
