"""Loaded definitions: SLOs with their service context, the catalog and the alert configuration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from app.slo.alert_spec import AlertPolicy, BudgetPolicy, IncidentRule, Receiver, Route
from app.slo.catalog import Catalog
from app.slo.corrections import Correction, file_source
from app.slo.spec import SLOSpec, slo_key

if TYPE_CHECKING:
    from app.slo.sampling import Sampling


@dataclass(frozen=True)
class SLODefinition:
    """One SLO as the engine sees it: the spec, its service, and the file it came from."""

    service: str
    spec: SLOSpec
    owner: str | None = None
    service_labels: Mapping[str, str] = field(default_factory=dict)
    source: str = "<memory>"
    line: int = 1
    text: str = ""  # the SLO's YAML as written, for people to read; not part of any hash
    # Set by the engine: the interval its series are sampled at and the slice that follows
    # (`spec.slice_seconds` is then the effective slice; the YAML's is `configured_slice`).
    sampling: Sampling | None = None

    @cached_property  # listed, filtered and looked up on every request: computed once
    def key(self) -> str:
        return slo_key(self.service, self.spec.name)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def labels(self) -> dict[str, str]:
        """Service labels, overridden by the SLO's own."""
        return {**self.service_labels, **self.spec.labels}

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything in the definition changes."""
        spec = self.spec.model_dump(mode="json", by_alias=True)
        if spec.get("scrape_interval") is None:
            spec.pop("scrape_interval", None)  # hashes stay what they were before the key existed
        for grouping in ("group_by", "max_groups"):
            if spec.get(grouping) is None:
                spec.pop(grouping, None)  # likewise for ungrouped SLOs
        payload: dict[str, object] = {
            "service": self.service,
            "owner": self.owner,
            "labels": self.labels,
            "spec": spec,
        }
        if self.sampling is not None:  # what the engine learned is part of what it stores
            payload["sampling"] = [self.sampling.interval, self.sampling.origin.value]
        return _digest(payload)

    @cached_property
    def declared_hash(self) -> str:
        """The definition as its files declare it: `content_hash` without what the engine
        learned at run time (the sample interval and the slice it leads to), so processes that
        load the same files agree on it whatever each has learned so far."""
        if self.sampling is None:
            return self.content_hash
        spec = self.spec.model_copy(update={"slice_seconds": self.sampling.configured_slice})
        return replace(self, spec=spec, sampling=None).content_hash

    @cached_property
    def history_hash(self) -> str:
        """Changes only when the stored ledger would differ: queries, slicing, budgeting, modes.

        The objective is not part of it: the ledger stores counts, and budget figures are derived
        from counts and the objective when they are read.
        """
        spec = self.spec
        payload: dict[str, object] = {
            "sli": spec.sli.model_dump(mode="json") if spec.sli else None,
            "slice": spec.slice_seconds,
            "budgeting": spec.effective_budgeting.value,
            "slice_target": spec.slice_target,
            "modes": [
                {"name": mode.name, "bad": mode.bad, "when": mode.when}
                for mode in spec.failure_modes
            ],
        }
        if spec.group_by:  # a ledger per group: regrouping recomputes history
            payload["groups"] = [list(spec.group_by), spec.group_limit]
        return _digest(payload)


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AlertsConfig:
    """Everything in `alerts/`, merged across files."""

    policies: Mapping[str, AlertPolicy] = field(default_factory=lambda: {"default": AlertPolicy()})
    budget_policy: BudgetPolicy = field(default_factory=BudgetPolicy)
    incidents: IncidentRule = field(default_factory=IncidentRule)
    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    dashboard_url: str | None = None


@dataclass(frozen=True)
class DefinitionSet:
    """The SLOs that loaded cleanly, and the context they are judged in."""

    slos: tuple[SLODefinition, ...]
    catalog: Catalog
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    # Corrections a service file gives for all its SLOs (an SLO's own are in its spec).
    service_corrections: tuple[Correction, ...] = ()

    @cached_property
    def _by_key(self) -> dict[str, SLODefinition]:
        return {slo.key: slo for slo in reversed(self.slos)}  # the first of duplicates wins

    def get(self, key: str) -> SLODefinition | None:
        return self._by_key.get(key)

    def keys(self) -> list[str]:
        return [slo.key for slo in self.slos]

    def policy_for(self, slo: SLODefinition) -> AlertPolicy:
        return self.alerts.policies.get(slo.spec.alerting.policy) or AlertPolicy()

    def declared_corrections(self) -> list[Correction]:
        """Every budget correction the YAML files declare, service-wide and per SLO."""
        own = [
            Correction(spec, slo.service, slo.name, source=file_source(slo.source))
            for slo in self.slos
            for spec in slo.spec.corrections
        ]
        return [*self.service_corrections, *own]
