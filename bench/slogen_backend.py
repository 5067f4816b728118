"""Google's slo-generator, run at a fixed instant: a backend plugin and an in-process dump.

Runs in slo-generator's own virtualenv (bench/bench_slogen.py makes it), never in Faultline's.
slo-generator's Prometheus backend accepts `--timestamp` but asks Prometheus for "now"; this
subclass sends the timestamp with each instant query, so both tools read the same instant.
Configs name it as the backend `slogen_backend.TimedPrometheusBackend` (this folder on
PYTHONPATH).

Run as a script (`python slogen_backend.py SLO_DIR CONFIG TIMESTAMP`), it computes every SLO in
process and prints, per SLO and window, slo-generator's burn rate from its own event counts:
its reports round the SLI to six decimals and the burn rate to one, which at a 99.9 % objective
leaves a burn rate of 0.06 only two significant digits.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from slo_generator.backends.prometheus import PrometheusBackend


class TimedPrometheusBackend(PrometheusBackend):  # type: ignore[misc]
    """The built-in Prometheus backend, with the query instant passed to Prometheus."""

    def query(
        self,
        filter: str,  # the parent class names it so
        window: int,
        timestamp: int | None = None,
        operators: list[str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        expression = self._fmt_query(filter, window, operators or [], labels or {})
        arguments: dict[str, Any] = {"metric": expression}
        if timestamp is not None:
            arguments["time"] = timestamp
        answer: dict[str, Any] = json.loads(self.client.query(**arguments))
        return answer


def burn_rates(
    slo_dir: str, config_path: str, timestamp: float
) -> dict[str, dict[int, float | None]]:
    from slo_generator import utils  # noqa: PLC0415 - only in slo-generator's virtualenv
    from slo_generator.compute import compute  # noqa: PLC0415

    config = utils.load_config(config_path)
    rates: dict[str, dict[int, float | None]] = {}
    for slo in utils.load_configs(slo_dir, kind="ServiceLevelObjective"):
        for report in compute(slo, config, timestamp=timestamp):
            valid = report.get("valid") and report.get("events_count", 0) > 0
            rates.setdefault(slo["metadata"]["name"], {})[report["window"]] = (
                report["bad_events_count"] / report["events_count"] / report["error_budget_target"]
                if valid
                else None
            )
    return rates


if __name__ == "__main__":
    print(json.dumps(burn_rates(sys.argv[1], sys.argv[2], float(sys.argv[3]))))
