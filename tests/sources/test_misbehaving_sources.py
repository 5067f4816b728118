"""A source that misbehaves ends every query in a named state within its deadline.

Against a real HTTP server on loopback (tests/fixtures/fake_prometheus.py) that drips, sleeps,
answers HTML or junk, NaN, numbers too large to add, malformed matrices, 429, 5xx and 401.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from urllib3.exceptions import InsecureRequestWarning

from app.sources.credentials import Credential
from app.sources.errors import (
    CredentialsUnreadableError,
    MalformedAnswerError,
    NotPrometheusError,
    QueryCancelledError,
    SourceAuthError,
    SourceError,
    SourceTimeoutError,
    SourceUnavailableError,
)
from app.sources.prometheus import PrometheusSource, SourceConfig, prometheus_duration
from app.sources.retry import RetryPolicy
from tests.fixtures.certificates import make_certificates
from tests.fixtures.fake_prometheus import FakePrometheus

TIMEOUT = 1.0
ATTEMPTS = 2


def source(url: str, timeout: float = TIMEOUT) -> PrometheusSource:
    return PrometheusSource(
        SourceConfig(url=url, timeout=timeout, retry=RetryPolicy(ATTEMPTS, base=0.05, cap=0.1)),
        rng=random.Random(3),
    )


def ask(prometheus: PrometheusSource) -> dict[int, list[float]]:
    return prometheus.query_range("sum(rate(x_total[1m]))", 1800000060, 1800000180, 60)


@pytest.mark.parametrize(
    ("mode", "error", "requests", "message"),
    [
        ("drip", SourceTimeoutError, ATTEMPTS, "no full answer within 1s (after 2 attempts)"),
        ("sleep", SourceTimeoutError, ATTEMPTS, "no full answer within 1s"),
        ("rate_limited", SourceUnavailableError, ATTEMPTS, "HTTP 429: slow down"),
        ("server_error", SourceUnavailableError, ATTEMPTS, "HTTP 503: overloaded"),
        ("html", NotPrometheusError, 1, "not with the Prometheus API (HTTP 200, text/html)"),
        ("junk", NotPrometheusError, 1, "not with the Prometheus API (HTTP 200, text/plain)"),
        ("junk_json", NotPrometheusError, 1, "(HTTP 200, application/json)"),
        ("unauthorized", SourceAuthError, 1, "refused the request (HTTP 401"),
        ("no_data", MalformedAnswerError, 1, "`data` is missing"),
        ("result_string", MalformedAnswerError, 1, "expected a matrix result"),
        ("values_null", MalformedAnswerError, 1, "a series without a list of values"),
        ("non_numeric", MalformedAnswerError, 1, "a sample that is not a number"),
    ],
)
def test_each_misbehaviour_ends_in_a_named_error_within_the_deadline(
    fake_prometheus: type[FakePrometheus],
    mode: str,
    error: type[SourceError],
    requests: int,
    message: str,
) -> None:
    fake = fake_prometheus(mode=mode)
    before = set(threading.enumerate())
    started = time.monotonic()
    with pytest.raises(error) as raised:
        ask(source(fake.url))
    # Each attempt ends by its deadline; the pauses between attempts are capped at 0.1 s.
    assert time.monotonic() - started < ATTEMPTS * TIMEOUT + 1.0
    assert type(raised.value) is error and message in str(raised.value)
    assert len(fake.requests) == requests  # only what may pass is asked again
    assert fake.url in str(raised.value)  # the source is named
    leaked = [t for t in set(threading.enumerate()) - before if not t.daemon]
    assert not leaked  # no thread is left behind by a deadline


def test_a_url_that_is_not_prometheus_is_named_not_unavailable(
    fake_prometheus: type[FakePrometheus],
) -> None:
    fake = fake_prometheus(mode="html")
    with pytest.raises(NotPrometheusError) as raised:
        ask(source(fake.url))
    assert str(raised.value) == (
        f"{fake.url} answered, but not with the Prometheus API (HTTP 200, text/html)"
    )
    assert "unavailable" not in str(raised.value) and not raised.value.transient
    with_password = fake.url.replace("http://", "http://reader:S3CRET@")
    for mode in ("html", "unauthorized", "values_null", "sleep"):
        fake.mode = mode
        with pytest.raises(SourceError) as raised:
            ask(source(with_password, timeout=0.3))
        assert "S3CRET" not in str(raised.value) and "reader:***@" in str(raised.value), mode


def test_nan_and_huge_values_come_back_for_the_core_to_judge(
    fake_prometheus: type[FakePrometheus],
) -> None:
    fake = fake_prometheus(mode="nan")
    assert all(math.isnan(values[0]) for values in ask(source(fake.url)).values())
    fake.mode = "huge"
    assert ask(source(fake.url))[1800000060] == [1e308] * 3


def test_the_timeout_is_sent_as_a_duration_prometheus_accepts(
    fake_prometheus: type[FakePrometheus],
) -> None:
    fake = fake_prometheus(mode="nan")
    ask(source(fake.url, timeout=2.5))
    assert fake.requests[0]["timeout"] == "2500ms"  # Prometheus refuses "2.5s"
    assert prometheus_duration(15) == "15000ms"


def test_a_cancelled_query_ends_at_once(fake_prometheus: type[FakePrometheus]) -> None:
    fake = fake_prometheus(mode="drip")
    slow = source(fake.url, timeout=20)
    threading.Timer(0.3, slow.cancel).start()
    started = time.monotonic()
    with pytest.raises(QueryCancelledError):
        ask(slow)
    assert time.monotonic() - started < 1.5
    with pytest.raises(QueryCancelledError):  # and nothing new is asked after a shutdown
        ask(slow)
    assert len(fake.requests) == 1


def test_a_deadline_caps_the_whole_query_retries_included(
    fake_prometheus: type[FakePrometheus],
) -> None:
    fake = fake_prometheus(mode="sleep")
    started = time.monotonic()
    with pytest.raises(SourceTimeoutError):  # one full attempt timed out: the source is slow
        source(fake.url, timeout=0.3).query_range(
            "up", 1800000060, 1800000180, 60, deadline=time.monotonic() + 0.8
        )
    assert time.monotonic() - started < 1.2
    started = time.monotonic()
    with pytest.raises(QueryCancelledError):  # cut before any fair chance: left for later
        source(fake.url, timeout=20).query_range(
            "up", 1800000060, 1800000180, 60, deadline=time.monotonic() + 0.5
        )
    assert time.monotonic() - started < 1.0


def test_secrets_echoed_by_the_source_are_masked(fake_prometheus: type[FakePrometheus]) -> None:
    fake = fake_prometheus(mode="echo")
    config = SourceConfig(
        url=fake.url,
        retry=RetryPolicy(1),
        bearer_token=Credential("tok-echoed-1"),
        headers={"X-Api-Key": "key-echoed-2", "X-Scope-OrgID": "tenant-echoed"},
    )
    with pytest.raises(SourceUnavailableError) as raised:
        ask(PrometheusSource(config))
    message = str(raised.value)
    assert "Authorization: ***" in message and "X-Api-Key: ***" in message
    assert "tok-echoed-1" not in message and "key-echoed-2" not in message
    assert "X-Scope-OrgID: tenant-echoed" in message  # a tenant is no secret
    basic = replace(config, bearer_token=None, basic_auth=("reader", Credential("pw-echoed-3")))
    with pytest.raises(SourceUnavailableError) as raised:
        ask(PrometheusSource(basic))
    assert "Authorization: ***" in str(raised.value)  # not even the encoded pair


def test_a_token_file_that_disappears_is_named_not_retried(
    fake_prometheus: type[FakePrometheus], tmp_path: Path
) -> None:
    fake = fake_prometheus(mode="nan")
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    setting = "FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE"
    credential = Credential(file=token, setting=setting)
    prometheus = PrometheusSource(
        SourceConfig(url=fake.url, retry=RetryPolicy(3, base=0.05), bearer_token=credential)
    )
    assert ask(prometheus)
    token.unlink()
    with pytest.raises(CredentialsUnreadableError) as raised:
        ask(prometheus)
    assert str(raised.value) == (
        f"no request sent to Prometheus at {fake.url}: cannot read {setting} {token}: "
        "No such file or directory"
    )
    assert len(fake.requests) == 1
    token.write_text("rotated\n")
    assert ask(prometheus)  # read again once it is back


def test_the_deadline_and_verify_tls_hold_over_https(
    fake_prometheus: type[FakePrometheus], tmp_path: Path
) -> None:
    context = make_certificates(tmp_path).server_context()
    fake = fake_prometheus(mode="drip", tls=context)
    unverified = PrometheusSource(
        SourceConfig(url=fake.url, timeout=TIMEOUT, retry=RetryPolicy(1), verify_tls=False)
    )
    started = time.monotonic()
    with pytest.warns(InsecureRequestWarning), pytest.raises(SourceTimeoutError):
        ask(unverified)
    assert time.monotonic() - started < TIMEOUT + 0.5
    fake.mode = "nan"
    with pytest.warns(InsecureRequestWarning):
        assert ask(unverified)  # verify_tls=false holds whatever REQUESTS_CA_BUNDLE says
    with pytest.raises(SourceUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
        ask(source(fake.url))  # verified by default
