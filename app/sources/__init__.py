"""The Prometheus adapter: PromQL at fixed timestamps, timeouts, capped jittered retries, errors.

Works against any Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics).
"""
