"""The real-Prometheus test bed: a simulated shop, its ground truth, and Prometheus to query.

- `scenario`, `scenarios`: what happens when (named scenarios with their story);
- `simulation`, `traffic`, `series`: the steppable model and the series it exports;
- `dataset`: a generated scenario (every sample, and the events per minute);
- `truth`, `window`, `shipped`, `promsemantics`: ground truth per slice and SLO (tests only);
- `exposition`, `tsdb`, `prometheus`, `exporter`: OpenMetrics/text output, TSDB build, Prometheus
  server, and the live exporter.

This package face exports only what the demo (`app.demo`) uses, so the demo never loads the
ground-truth modules; tests import those from their modules. An import contract allows
`app.testbed` only from the demo and the tests. Nothing here runs at import time.
"""

from app.testbed.dataset import generate
from app.testbed.exporter import MetricsExporter
from app.testbed.prometheus import PrometheusNotInstalledError, PrometheusServer, find_binary
from app.testbed.scenario import (
    CacheStampede,
    ErrorBurst,
    Injection,
    PaymentTimeouts,
    QueueBacklog,
    RegionOutage,
    ReplicaLag,
    ReplicationConflicts,
    Scenario,
    WorkerOutage,
)
from app.testbed.scenarios import demo_history
from app.testbed.simulation import Simulation
from app.testbed.tsdb import build_tsdb

__all__ = [
    "CacheStampede",
    "ErrorBurst",
    "Injection",
    "MetricsExporter",
    "PaymentTimeouts",
    "PrometheusNotInstalledError",
    "PrometheusServer",
    "QueueBacklog",
    "RegionOutage",
    "ReplicaLag",
    "ReplicationConflicts",
    "Scenario",
    "Simulation",
    "WorkerOutage",
    "build_tsdb",
    "demo_history",
    "find_binary",
    "generate",
]
