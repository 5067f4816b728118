"""The Prometheus adapter: exact instants, chunking, auth headers, retries, error mapping.

Against a real Prometheus where one exists (PromQL errors, chunked range queries) and a small
scripted HTTP server for what a real Prometheus will not do on cue (503s, auth checks).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.slo.counts import rewrite
from app.sources.credentials import Credential
from app.sources.deadline import deadline_session
from app.sources.errors import QueryError, SourceUnavailableError
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.sources.retry import RetryPolicy
from app.sources.shared_reads import SharedReads
from tests.conftest import RunningPrometheus

OK_BODY = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {"metric": {}, "values": [[1800000060, "1.5"], [1800000120, "NaN"]]},
            {"metric": {"a": "b"}, "values": [[1800000060, "+Inf"]]},
        ],
    },
}


class Scripted:
    """A loopback HTTP server answering `/api/v1/query_range` from a script of (status, body)."""

    def __init__(self, script: list[tuple[int, dict[str, object]]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append({k.lower(): v for k, v in self.headers.items()})
                status, body = outer.script.pop(0) if outer.script else (200, OK_BODY)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[Callable[[list[tuple[int, dict[str, object]]]], Scripted]]:
    servers: list[Scripted] = []

    def start(script: list[tuple[int, dict[str, object]]]) -> Scripted:
        servers.append(Scripted(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def source(url: str, sleeps: list[float] | None = None, **config: object) -> PrometheusSource:
    recorded = sleeps if sleeps is not None else []
    return PrometheusSource(
        SourceConfig(url=url, retry=RetryPolicy(attempts=4, base=0.5, cap=2.0), **config),  # type: ignore[arg-type]
        sleep=recorded.append,
        rng=random.Random(7),
    )


def test_values_come_back_per_instant_and_series(scripted: Callable[..., Scripted]) -> None:
    server = scripted([])
    series = source(server.url).query_range("up", 1800000060, 1800000120, 60)
    assert series[1800000120][0] != series[1800000120][0]  # NaN is handed on, judged by the core
    assert series[1800000060] == [1.5, float("inf")]


def test_retries_are_capped_with_full_jitter(scripted: Callable[..., Scripted]) -> None:
    unavailable = (503, {"status": "error", "errorType": "unavailable", "error": "overloaded"})
    server = scripted([unavailable, unavailable, unavailable])
    sleeps: list[float] = []
    series = source(server.url, sleeps).query_range("up", 1800000060, 1800000120, 60)
    assert 1800000060 in series and len(server.requests) == 4
    assert len(sleeps) == 3
    for retry, pause in enumerate(sleeps):  # uniform in [0, min(cap, base·2^retry)]
        assert 0 <= pause <= min(2.0, 0.5 * 2**retry)
    assert len(set(sleeps)) == 3  # jittered, not a fixed schedule


def test_a_server_that_keeps_failing_is_unavailable(scripted: Callable[..., Scripted]) -> None:
    failing = (502, {"status": "error", "error": "bad gateway"})
    server = scripted([failing] * 4)
    with pytest.raises(SourceUnavailableError, match="after 4 attempts") as raised:
        source(server.url).query_range("up", 1800000060, 1800000120, 60)
    assert raised.value.url == server.url


def test_a_refused_connection_is_unavailable() -> None:
    sleeps: list[float] = []
    with pytest.raises(SourceUnavailableError, match="ConnectionError"):
        source("http://127.0.0.1:9", sleeps).query_range("up", 1800000060, 1800000120, 60)
    assert len(sleeps) == 3


def test_bad_promql_is_the_query_s_fault_and_never_retried(
    scripted: Callable[..., Scripted],
) -> None:
    bad = (
        400,
        {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "}"'},
    )
    server = scripted([bad])
    sleeps: list[float] = []
    with pytest.raises(QueryError) as raised:
        source(server.url, sleeps).query_range("up}", 1800000060, 1800000120, 60)
    assert raised.value.message == 'parse error: unexpected "}"'
    assert raised.value.error_type == "bad_data"
    assert sleeps == [] and len(server.requests) == 1


def test_auth_and_custom_headers_are_sent(scripted: Callable[..., Scripted]) -> None:
    server = scripted([])
    token = Credential("s3cret")
    source(server.url, bearer_token=token, headers={"X-Scope-OrgID": "team-a"}).query_range(
        "up", 1800000060, 1800000120, 60
    )
    basic = scripted([])
    password = Credential("pw")
    source(basic.url, basic_auth=("reader", password)).query_range("up", 1800000060, 1800000120, 60)
    assert server.requests[0]["authorization"] == "Bearer s3cret"
    assert server.requests[0]["x-scope-orgid"] == "team-a"
    assert basic.requests[0]["authorization"] == "Basic cmVhZGVyOnB3"


def test_a_server_on_this_host_answers_uncompressed(scripted: Callable[..., Scripted]) -> None:
    # Compressing on loopback costs both sides CPU and saves no time; elsewhere it saves the
    # network, so requests' default (gzip) stays.
    server = scripted([])
    source(server.url).query_range("up", 1800000060, 1800000120, 60)
    assert server.requests[0]["accept-encoding"] == "identity"
    for url in ("http://localhost:9090", "http://[::1]:9090/prometheus", "http://127.0.0.2"):
        assert deadline_session(url).headers["Accept-Encoding"] == "identity"
    for url in ("http://prometheus.example:9090", "https://10.0.0.7:9090", "http://mimir"):
        assert "gzip" in str(deadline_session(url).headers["Accept-Encoding"])


def test_chunks_stay_under_the_points_limit() -> None:
    chunks = source("http://127.0.0.1:9", max_points=100).chunks(60, 60 * 1000, 60)
    assert chunks[0] == (60, 60 * 100)
    assert all((end - start) // 60 + 1 <= 100 for start, end in chunks)
    covered = [t for start, end in chunks for t in range(start, end + 1, 60)]
    assert covered == list(range(60, 60 * 1000 + 1, 60))  # every instant once, in order


def test_shared_reads_ask_once(scripted: Callable[..., Scripted]) -> None:
    server = scripted([])
    reads = SharedReads(source(server.url))
    first = reads.read({"a": "up", "b": "up"}, 1800000060, 1800000120, 60)
    second = reads.read({"c": "up"}, 1800000060, 1800000120, 60)
    assert first["a"] == first["b"] == second["c"]
    assert len(server.requests) == 1 and (reads.asked, reads.shared) == (1, 2)


@pytest.mark.prometheus
def test_a_real_prometheus_error_keeps_its_message(
    prometheus_over: Callable[[str], RunningPrometheus],
) -> None:
    running = prometheus_over("steady")
    real = source(running.url)
    with pytest.raises(QueryError) as raised:
        real.query_range(
            "sum(rate(http_requests_total[1m])) by (",
            running.scenario.start + 60,
            running.scenario.end,
            60,
        )
    assert raised.value.error_type == "bad_data"
    assert "parse error" in raised.value.message
    # A long range is read chunk by chunk and every instant comes back exactly once.
    # A fractional timeout is sent as milliseconds, which Prometheus accepts ("2.5s" it refuses).
    small = source(running.url, max_points=50, timeout=2.5)
    start, end = running.scenario.start + 60, running.scenario.end
    seen: list[int] = []
    for lo, hi in small.chunks(start, end, 60):
        seen += sorted(
            small.query_range('sum(rate(http_requests_total{service="checkout"}[1m]))', lo, hi, 60)
        )
    assert seen == list(range(start, end + 1, 60))


@pytest.mark.parametrize(
    ("version", "closed"),
    [("2.42.0", True), ("2.55.1", True), ("3.0.0", False), ("v3.5.0-rc.0", False), (None, True)],
)
def test_the_range_form_follows_the_server_s_major_version(
    scripted: Callable[..., Scripted], version: str | None, closed: bool
) -> None:
    """Prometheus 3 leaves a range's start sample out (`(t - w, t]`), 2.x keeps it
    (`[t - w, t]`): the counting queries are written for the one that answers."""
    data: dict[str, object] = {} if version is None else {"version": version}
    server = scripted([(200, {"status": "success", "data": data})])
    prometheus = source(server.url)
    assert prometheus.closed_ranges is closed
    assert prometheus.closed_ranges is closed  # asked once, then remembered
    assert len(server.requests) == 1
    window = "[59999ms]" if closed else "[60000ms]"
    assert window in rewrite("sum(rate(x[{{window}}]))", 60, closed_ranges=closed).query


def test_a_source_that_cannot_say_its_version_is_asked_again_later() -> None:
    refused = source("http://127.0.0.1:9")  # nothing listens on the discard port
    assert refused.closed_ranges is True  # the Debian package's way until it answers
    assert refused._closed is None


def test_a_real_prometheus_2_closes_its_ranges(
    prometheus_over: Callable[[str], RunningPrometheus],
) -> None:
    running = prometheus_over("steady")
    assert PrometheusSource(SourceConfig(url=running.url)).closed_ranges is True
    assert (
        PrometheusSource(SourceConfig(url=running.url, kind="victoriametrics")).closed_ranges
        is False
    )


@pytest.mark.parametrize("backend", ["prometheus", "victoriametrics"])
def test_queries_asked_in_one_request_answer_as_asked_alone(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Series of several queries told apart by their tag: each query's series, labels and
    order as its own request gives them; one bad query fails the whole request."""
    running = request.getfixturevalue(f"{backend}_over")("steady")
    real = source(running.url, kind=backend)
    queries = [
        'http_requests_total{service="checkout"}',  # many series, each with its labels
        'sum by (code) (rate(http_requests_total{service="checkout"}[5m]))',
        "nonexistent_metric_total",  # no series
        "sum(rate(http_requests_total[5m])) # a comment ends its line, not the request",
        'http_requests_total{service="checkout"}',  # the same query twice
    ]
    start, end = running.scenario.start + 3600, running.scenario.start + 3600 + 300
    batched = real.query_batch(queries, start, end, 60)
    assert len(batched) == len(queries)
    for query, answer in zip(queries, batched, strict=True):
        alone = real.query_matrix(query, start, end, 60)
        assert len(answer.series) == len(alone.series), query
        for (times, values), (times_alone, values_alone) in zip(
            answer.series, alone.series, strict=True
        ):
            assert times.tolist() == times_alone.tolist()
            assert values.tolist() == values_alone.tolist()
    assert len(batched[0].series) > 1 and not batched[2].series
    with pytest.raises(QueryError):
        real.query_batch([queries[1], "sum(rate(http_requests_total[5m])) by ("], start, end, 60)
