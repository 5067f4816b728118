"""Real Prometheus for tests and the demo (TSDBs are built by `app.testbed.tsdb`).

`PrometheusServer` runs `/usr/bin/prometheus` on 127.0.0.1 on a free port with a 400-day
retention (the default 15 days would delete a 30-day history), logging to a file; optionally
with rule files, evaluated every `evaluation_interval`, and Alertmanagers to notify. It keeps its
port across `stop()` and `start()`, so a test can take it down for a while and bring it back.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

INSTALL_HINT = "install the Debian package: apt-get install prometheus"


class PrometheusNotInstalledError(RuntimeError):
    """The prometheus or promtool binary is missing."""


class PrometheusError(RuntimeError):
    """Prometheus or promtool failed; the message carries the end of its output."""


def find_binary(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
    )
    if found is None:
        raise PrometheusNotInstalledError(f"`{name}` was not found; {INSTALL_HINT}")
    return found


def require_loopback(target: str) -> str:
    """A scrape target on this machine only (`127.0.0.1:9100`, `localhost:9100`, `[::1]:9100`)."""
    host = target.rsplit(":", 1)[0].strip("[]")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"scrape target {target!r} is not on loopback")
    return target


def await_ready(
    process: subprocess.Popen[bytes] | None, probe_url: str, timeout: float
) -> Literal["ready", "exited", "timed out"]:
    """Poll `probe_url` until it answers 200, the process exits, or `timeout` seconds pass.

    Shared by every server the test bed starts (Prometheus, VictoriaMetrics, Alertmanager);
    each names its own failure.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is None or process.poll() is not None:
            return "exited"
        try:
            with urllib.request.urlopen(probe_url, timeout=1.0) as response:  # noqa: S310
                if response.status == 200:
                    return "ready"
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    return "timed out"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (bind to 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class PrometheusServer:
    """`/usr/bin/prometheus` over `data_dir`, on loopback, optionally scraping `scrape_targets`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        scrape_targets: Sequence[str] = (),
        scrape_interval: str = "15s",
        work_dir: Path | None = None,
        ready_timeout: float = 60.0,
        retention: str = "400d",
        rule_files: Sequence[Path] = (),
        evaluation_interval: str | None = None,
        alertmanagers: Sequence[str] = (),
    ) -> None:
        self.binary = find_binary("prometheus")
        self.data_dir = data_dir
        self.scrape_targets = tuple(require_loopback(target) for target in scrape_targets)
        self.scrape_interval = scrape_interval
        self.ready_timeout = ready_timeout
        self.retention = retention
        self.rule_files = tuple(rule_files)
        self.evaluation_interval = evaluation_interval
        self.alertmanagers = tuple(require_loopback(target) for target in alertmanagers)
        self._owns_work_dir = work_dir is None
        self.work_dir = (
            Path(tempfile.mkdtemp(prefix="faultline-prometheus-")) if work_dir is None else work_dir
        )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.work_dir / "prometheus.yml"
        self.log_path = self.work_dir / "prometheus.log"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._started_once = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The running server's process id (benchmarks read its CPU time)."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start and wait until `/-/ready` answers; a first start retries on a taken port."""
        if self.running:
            return
        self._write_config()
        attempts = 1 if self._started_once else 3
        for attempt in range(attempts):
            try:
                self._launch()
                self._started_once = True
                return
            except PrometheusError:
                if attempt + 1 == attempts or "address already in use" not in self.log_tail():
                    raise
                self.port = free_port()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def close(self) -> None:
        """Stop, and remove the config and log directory if this server created it."""
        self.stop()
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _write_config(self) -> None:
        scrape_configs = (
            [
                {
                    "job_name": "faultline-testbed",
                    "honor_labels": True,  # keep the job/instance labels the exporter sets
                    "scrape_interval": self.scrape_interval,
                    "scrape_timeout": "1s" if self.scrape_interval in ("1s", "2s") else "10s",
                    "static_configs": [{"targets": list(self.scrape_targets)}],
                }
            ]
            if self.scrape_targets
            else []
        )
        config: dict[str, object] = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval or self.scrape_interval,
            },
            "scrape_configs": scrape_configs,
            "rule_files": [str(path) for path in self.rule_files],
        }
        if self.alertmanagers:
            targets = [{"targets": list(self.alertmanagers)}]
            config["alerting"] = {"alertmanagers": [{"static_configs": targets}]}
        # JSON is YAML, and needs no YAML writer.
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    def _launch(self) -> None:
        command = [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        with self.log_path.open("ab") as log:
            # A session of its own: Ctrl-C in a terminal reaches only the parent, which then
            # stops Prometheus in order instead of racing it.
            self._process = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop(timeout=5)
            raise

    def _wait_ready(self) -> None:
        outcome = await_ready(self._process, f"{self.url}/-/ready", self.ready_timeout)
        if outcome == "ready":
            return
        if outcome == "exited":
            raise PrometheusError(f"prometheus exited during start-up:\n{self.log_tail()}")
        raise PrometheusError(
            f"prometheus was not ready within {self.ready_timeout:.0f} s at {self.url}:\n"
            f"{self.log_tail()}"
        )
