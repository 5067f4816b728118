"""Which receivers get an alert: routes in order, matched on severity, service and labels.

Routes are tried top to bottom; every matching route adds its receiver, and a matching route
with `continue: false` ends the search. With no routes at all, every receiver gets everything
(one Alertmanager and nothing else is the common setup and needs no route).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.slo.alert_spec import Receiver, Route, RouteMatch


def matches(match: RouteMatch, labels: Mapping[str, str]) -> bool:
    return (
        (not match.severity or labels.get("severity") in match.severity)
        and (not match.service or labels.get("service") in match.service)
        and all(labels.get(name) == value for name, value in match.labels.items())
    )


def receivers_for(
    labels: Mapping[str, str], routes: Sequence[Route], receivers: Mapping[str, Receiver]
) -> list[str]:
    """Names of the receivers an alert with `labels` goes to, in route order, each once."""
    if not routes:
        return sorted(receivers)
    chosen: list[str] = []
    for route in routes:
        if not matches(route.match, labels):
            continue
        if route.receiver in receivers and route.receiver not in chosen:
            chosen.append(route.receiver)
        if not route.continue_:
            break
    return chosen
