"""A password in the Prometheus URL shows nowhere: logs, /readyz, the API, /metrics, the ledger.

Two real `faultline serve` processes are given `http://user:PASSWORD@…`: one for a real
Prometheus, one for a port nobody listens on, so every message that names the source is made.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.testbed.prometheus import free_port
from tests.api.conftest import TOKEN
from tests.api.processes import ServeProcess, everything_seen
from tests.conftest import RunningPrometheus

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

PASSWORD = "s3cr3t-pw"


def with_password(url: str) -> str:
    return url.replace("http://", f"http://user:{PASSWORD}@", 1)


def test_the_prometheus_password_shows_nowhere(
    prometheus_over: Callable[[str], RunningPrometheus], tmp_path: Path
) -> None:
    running = prometheus_over("steady")
    urls = {"live": running.url, "dead": f"http://127.0.0.1:{free_port()}"}
    servers: dict[str, ServeProcess] = {}
    for name, url in urls.items():
        (tmp_path / name).mkdir()
        environment = {
            "FAULTLINE_DATABASE_URL": f"sqlite:///{tmp_path / name}/ledger.db",
            "FAULTLINE_API_TOKEN": TOKEN,
        }
        servers[name] = ServeProcess(
            tmp_path / name, environment, "--prometheus-url", with_password(url)
        )
    seen = everything_seen(servers, TOKEN, {name: tmp_path / name / "ledger.db" for name in urls})

    leaks = [where for where, text in seen.items() if PASSWORD in text]
    assert not leaks, {where: _around(seen[where]) for where in leaks}
    # Proof that the places looked at do name the source, masked:
    masked = with_password(urls["dead"]).replace(PASSWORD, "***")
    for where in ("dead /readyz", "dead /api/v1/slos", "dead log", "dead ledger"):
        assert masked in seen[where], (where, seen[where][:2000])
    assert "user:***@" in seen["live log"]


def _around(text: str) -> str:
    at = text.index(PASSWORD)
    return text[max(0, at - 300) : at + 100]
