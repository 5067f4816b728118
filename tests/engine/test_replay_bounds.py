"""A replay is bounded in cost as well as in range: at most 10 million SLO slice ends per request
(100 SLOs over 30 days is 4.3 million, about 4.5 s on an idle machine), refused before the
ledger is read, with what to change. `POST /api/v1/replay` answers ReplayError with 422."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.replay import MAX_SLICE_ENDS, ReplayError, run_replay
from app.engine.replay_slots import ReplayBusyError, ReplaySlots
from app.slo.replay_models import ReplayRequest
from tests.alerting.copies import registered_copies
from tests.alerting.support import only, shipped

NOW = 1_709_510_400


def test_too_many_slice_ends_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    definitions, store, _ = registered_copies(
        f"sqlite:///{tmp_path}/ledger.db", only(shipped(), "checkout/checkout-success"), 120, NOW
    )
    try:
        # 120 SLOs x 92 days of 1-minute slices: 15.9 million.
        with pytest.raises(ReplayError, match="too much at once: 15897600 slice ends"):
            run_replay(store, definitions, ReplayRequest(since="92d"), base_url="", now=NOW)
        assert MAX_SLICE_ENDS < 120 * 92 * 1440
        # The same SLOs over 30 days (5.2 million) are answered (registered, no slices yet).
        answer = run_replay(store, definitions, ReplayRequest(since="30d"), base_url="", now=NOW)
        assert len(answer.slos) == 120
        # Fewer SLOs over the long range are answered too.
        few = ReplayRequest(slos=("checkout/checkout-000",), since="92d")
        assert len(run_replay(store, definitions, few, base_url="", now=NOW).slos) == 1
    finally:
        store.close()


def test_a_process_computes_a_few_replays_at_once_and_refuses_more() -> None:
    slots = ReplaySlots(2)
    busy = pytest.raises(ReplayBusyError, match="2 replays are being computed already")
    with slots.taken(), slots.taken(), busy, slots.taken():
        pass  # pragma: no cover - refused before
    with pytest.raises(RuntimeError), slots.taken():
        raise RuntimeError  # a failed replay gives its slot back too
    with slots.taken(), slots.taken():
        pass
    assert issubclass(ReplayBusyError, ReplayError)  # every caller already answers ReplayError
