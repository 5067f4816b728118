"""Burn-rate alerts that name what is burning, delivered once.

Judging (pure, from ledger totals): `conditions` (rules, verdicts, the minimum-events guard),
`transitions` (the state machine), `facts` and `summary` (what the alert says), `document`
(labels, annotations, the JSON frozen with each transition), `routing` (which receivers).

Storing and delivering: `evaluator` (after every tick: states, events and outbox rows in one
transaction), `states` and `outbox` (the tables), `dispatcher` and `notifiers` (Alertmanager
API v2 and signed webhooks, with backoff and idempotency keys), `metrics` (outbox age), `views`
(read models for the API and dashboards).

For teams that alert from Prometheus: `promrules` (recording and alerting rules, from the pure
`app.slo.promexpr`, which the Grafana export shares).

Alerting reads the ledger, never Prometheus (an import contract holds it to that).
"""
