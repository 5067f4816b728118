"""Who spent the budget: per-mode ledger credit grouped by failure mode, design choice or
dependency, for one SLO or across the organisation, over any range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.engine.service import Engine
from app.engine.view_models import Attribution, AttributionGroup, GroupBy, SLOShare
from app.slo.budget import consumed_by, share_of_bad
from app.slo.ledger import WindowTotals
from app.slo.report import rfc3339
from app.slo.windows import Window, align_down, align_up
from app.store import history, ledger
from app.store.registry import StoredSLO


@dataclass
class _Group:
    design_choice: str | None
    consumed: float = 0.0
    bad: float = 0.0
    slos: dict[str, SLOShare] = field(default_factory=dict)

    def add(self, key: str, consumed: float, share: float, bad: float) -> None:
        self.consumed += consumed
        self.bad += bad
        previous = self.slos.get(key)
        if previous is not None:  # two modes of one SLO in the same group
            consumed, share = consumed + previous.consumed, share + previous.share
            bad += previous.bad or 0.0
        self.slos[key] = SLOShare(slo=key, consumed=consumed, share=share, bad=bad)


def attribution_for(
    engine: Engine, window: Window, totals_by_slo: Mapping[str, WindowTotals], group_by: GroupBy
) -> Attribution:
    """Group each SLO's per-mode spend by failure mode, design choice or dependency."""
    groups: dict[str, _Group] = {}
    unattributed: list[SLOShare] = []
    for key, totals in totals_by_slo.items():
        definition = engine.definitions.get(key)
        if definition is None:
            continue
        budget = definition.spec.budget
        if totals.unattributed > 0:
            unattributed.append(
                SLOShare(
                    slo=key,
                    consumed=consumed_by(totals.unattributed, totals, budget),
                    share=share_of_bad(totals.unattributed, totals),
                    bad=totals.unattributed,
                )
            )
        for mode in definition.spec.failure_modes:
            credited = totals.credited.get(mode.name, 0.0)
            if group_by == "failure_mode":
                name, choice = mode.name, mode.design_choice
            elif group_by == "design_choice":
                name, choice = mode.design_choice, mode.design_choice
            else:
                name, choice = mode.dependency or "(none)", None
            groups.setdefault(name, _Group(choice)).add(
                key,
                consumed_by(credited, totals, budget),
                share_of_bad(credited, totals),
                credited,
            )
    catalog = engine.definitions.catalog
    out = []
    for name, group in groups.items():
        entry = catalog.get(group.design_choice) if group.design_choice else None
        out.append(
            AttributionGroup(
                group=name,
                design_choice=group.design_choice,
                consumed=group.consumed,
                bad=group.bad,
                slos=sorted(group.slos.values(), key=lambda share: -share.consumed),
                introduces=entry.introduces if entry else None,
                verification=entry.verification if entry else None,
            )
        )
    out.sort(key=lambda group: (-group.consumed, group.group))
    return Attribution(
        start=rfc3339(window.start),
        end=rfc3339(window.end),
        group_by=group_by,
        groups=out,
        unattributed=sorted(unattributed, key=lambda share: -share.consumed),
    )


def slo_attribution(
    engine: Engine, key: str, stored: StoredSLO, window: Window, group_by: GroupBy
) -> Attribution:
    """One SLO's spend over `window`, summed exactly from its slices and rollups."""
    with engine.store.read() as connection:
        totals = ledger.window_totals(connection, stored.id, [window])[0]
    return attribution_for(engine, window, {key: totals}, group_by)


def hour_range(window: Window) -> Window:
    """`window` rounded outwards to whole hours: cross-SLO sums come from hourly rollups."""
    return Window(align_down(window.start, 3600), align_up(window.end, 3600))


def org_attribution(
    engine: Engine, window: Window, group_by: GroupBy, services: Sequence[str] | None = None
) -> Attribution:
    """Spend of every loaded SLO (of `services`, when given) over the whole hours of `window`."""
    hours = hour_range(window)
    keys = [d.key for d in engine.definitions.slos if not services or d.service in services]
    with engine.store.read() as connection:
        spends, modes = history.spend_by_mode(connection, hours, keys)
    credited: dict[str, dict[str, float]] = {}
    for mode in modes:
        credited.setdefault(mode.slo_key, {})[mode.failure_mode] = mode.credited
    totals = {
        spend.slo_key: WindowTotals(
            total=spend.total,
            bad=spend.bad,
            unattributed=spend.unattributed,
            credited=credited.get(spend.slo_key, {}),
            slices=1,
        )
        for spend in spends
    }
    return attribution_for(engine, hours, totals, group_by)
