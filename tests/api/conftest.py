"""A real Faultline server (uvicorn on loopback) over a ledger built from a real Prometheus."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from app.api.metrics import EngineMetrics
from app.engine.service import Engine
from app.runtime.factory import create_app
from app.runtime.settings import Settings
from app.testbed.prometheus import free_port
from tests.conftest import RunningPrometheus
from tests.engine.conftest import REPO, make_engine

TOKEN = "test-token-5f1c"


@dataclass
class Served:
    url: str
    engine: Engine
    running: RunningPrometheus
    end: int
    database_url: str
    definitions: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


class ServerThread:
    """uvicorn in a thread; `stop()` shuts it down gracefully (lifespan included)."""

    def __init__(self, app: object, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 30) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve_engine(
    engine: Engine,
    *,
    definitions: Path,
    database_url: str,
    prometheus_url: str,
    token: str | None = TOKEN,
    **settings: object,
) -> tuple[ServerThread, str]:
    port = free_port()
    config = Settings(
        definitions=definitions,
        alerts=REPO / "alerts",
        database_url=database_url,
        prometheus_url=prometheus_url,
        port=port,
        scheduler_enabled=False,
        api_token=SecretStr(token) if token else None,
        **settings,  # type: ignore[arg-type]
    )

    def factory(_: Settings, metrics: EngineMetrics) -> Engine:
        return engine

    server = ServerThread(create_app(config, engine_factory=factory), port)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture
def served(
    prometheus_over: Callable[[str], RunningPrometheus], database_url: str, tmp_path: Path
) -> Iterator[Callable[..., Served]]:
    """`served(name)`: the scenario evaluated into a ledger and served over HTTP."""
    servers: list[ServerThread] = []

    def start(name: str, *, copy_definitions: bool = False, **settings: object) -> Served:
        running = prometheus_over(name)
        end = running.scenario.end
        definitions = REPO / "slo_definitions"
        if copy_definitions:  # tests that edit files work on a copy
            target = tmp_path / "slo_definitions"
            target.mkdir()
            for file in definitions.iterdir():
                (target / file.name).write_bytes(file.read_bytes())
            definitions = target
        engine = make_engine(running.url, database_url, running.scenario.start, end)
        result = engine.tick(now=end)
        assert not result.errors and result.unavailable is None
        server, url = serve_engine(
            engine,
            definitions=definitions,
            database_url=database_url,
            prometheus_url=running.url,
            **settings,
        )
        servers.append(server)
        return Served(url, engine, running, end, database_url, definitions)

    yield start
    for server in servers:
        server.stop()
