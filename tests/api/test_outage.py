"""A real `faultline serve` and a PostgreSQL that is not there yet, then goes away for a while.

The process waits for the database at start with one line per attempt, comes up when it
answers, and during a later outage answers 503 "ledger store is unavailable" (naming no host,
port, driver or SQL) and logs one line when the outage starts and one when it ends.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import httpx
import pytest

from app.api.errors import STORE_UNAVAILABLE
from tests.api.processes import ServeProcess, TcpProxy, wait_for
from tests.conftest import RunningPrometheus
from tests.fixtures.databases import POSTGRES, postgres_answers, postgres_schema, schema_url

pytestmark = [pytest.mark.prometheus, pytest.mark.postgres, pytest.mark.slow]

READS = ("/api/v1/slos", "/api/v1/slos/checkout/checkout-success", "/api/v1/alerts")


def test_serve_waits_for_the_database_and_logs_an_outage_once(
    prometheus_over: Callable[[str], RunningPrometheus], tmp_path
) -> None:
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    running = prometheus_over("steady")
    proxy = TcpProxy(POSTGRES)  # not started: the database is unreachable at start
    with postgres_schema() as schema:
        environment = {
            "FAULTLINE_DATABASE_URL": schema_url(schema, proxy.port),
            "FAULTLINE_PROMETHEUS_URL": running.url,
        }
        serve = ServeProcess(tmp_path, environment)
        try:
            wait_for(
                lambda: serve.log().count("does not answer (attempt") >= 3,
                30,
                f"three start-up attempts were not logged:\n{serve.log()}",
            )
            assert serve.process.poll() is None, serve.log()
            attempts = [line for line in serve.log().splitlines() if "does not answer" in line]
            assert f"postgres@127.0.0.1:{proxy.port}/test" in attempts[0]
            assert "attempt 1: connection failed" in attempts[0], attempts
            assert "retrying in 1s" in attempts[0] and "retrying in 2s" in attempts[1], attempts

            proxy.start()
            serve.wait_answering(timeout=60)
            with serve.client() as client:
                assert client.get("/api/v1/slos").status_code == 200

                proxy.stop()  # an outage: connections cut, new ones refused
                # Long enough for a round of the backfill worker (15 s) and many dispatcher
                # polls: none of them may log more than the outage's one line.
                outage_ends = time.monotonic() + 16
                while time.monotonic() < outage_ends:
                    for path in READS:
                        answer = client.get(path)
                        assert answer.status_code == 503, (path, answer.text)
                        assert answer.json() == {
                            "error": {"status": 503, "message": STORE_UNAVAILABLE}
                        }
                    assert client.get("/readyz").status_code == 503
                    assert client.get("/metrics").status_code == 200  # counts the errors
                    time.sleep(1)
                assert "faultline_store_errors_total 0.0" not in client.get("/metrics").text

                proxy.start()
                wait_for(
                    lambda: _answers(client, "/api/v1/slos"),
                    30,
                    "the API did not answer again after the outage",
                )
            wait_for(lambda: "answers again" in serve.log(), 10, "the end was not logged")
        finally:
            # serve first: it gives its evaluator lease back as it stops (a database write), and
            # a database gone by then would be a second outage.
            code = serve.stop()
            proxy.stop()
    log = serve.log()
    assert code in (0, -signal.SIGTERM), log  # uvicorn re-raises the signal once it stopped
    assert "Traceback" not in log, log
    assert log.count("is unavailable:") == 1, log  # the outage, once
    assert log.count("answers again after") == 1, log


def _answers(client: httpx.Client, path: str) -> bool:
    return client.get(path).status_code == 200
