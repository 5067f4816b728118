"""The real-Prometheus test bed: a simulated shop, its ground truth, and Prometheus to query.

- `scenario`, `scenarios`: what happens when (named scenarios with their story);
- `simulation`, `traffic`, `series`: the steppable model and the series it exports;
- `dataset`: a generated scenario (every sample, and the events per minute);
- `truth`, `window`, `shipped`, `promsemantics`: ground truth per slice and SLO;
- `exposition`, `tsdb`, `prometheus`, `exporter`: OpenMetrics/text output, TSDB build, Prometheus
  server, and the live exporter.

Nothing here runs at import time.
"""

from app.testbed.dataset import Dataset, generate, hidden_reset_losses
from app.testbed.scenario import Scenario
from app.testbed.scenarios import NAMED_SCENARIOS, NamedScenario, named
from app.testbed.simulation import Simulation
from app.testbed.truth import GroundTruth, SLOTruth
from app.testbed.window import SliceTruth, WindowTruth

__all__ = [
    "NAMED_SCENARIOS",
    "Dataset",
    "GroundTruth",
    "NamedScenario",
    "SLOTruth",
    "Scenario",
    "Simulation",
    "SliceTruth",
    "WindowTruth",
    "generate",
    "hidden_reset_losses",
    "named",
]
