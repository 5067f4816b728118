"""A real Alertmanager for tests and the demo: Debian's `prometheus-alertmanager` on a free
loopback port.

Clustering is off (no gossip port), storage lives in a temporary directory, and its own
notifications go to a webhook URL the caller gives (a test's `WebhookReceiver`) with second-scale
group timers so a test sees them quickly; without one (the demo) it only holds the alerts, for
its web UI and API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from app.testbed.prometheus import await_ready, free_port

BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")


def find_alertmanager() -> str | None:
    for name in BINARY_NAMES:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
        )
        if found:
            return found
    return None


class AlertmanagerServer:
    def __init__(self, binary: str, work_dir: Path, webhook_url: str | None = None) -> None:
        self.binary = binary
        self.work_dir = work_dir
        self.webhook_url = webhook_url
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = {
            "route": {
                "receiver": "hook",
                "group_by": ["alertname", "service", "slo"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {"name": "hook"}
                if self.webhook_url is None
                else {
                    "name": "hook",
                    "webhook_configs": [{"url": self.webhook_url, "send_resolved": True}],
                }
            ],
        }
        config_path = self.work_dir / "alertmanager.yml"
        config_path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        log = (self.work_dir / "alertmanager.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
            [
                self.binary,
                f"--config.file={config_path}",
                f"--storage.path={self.work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        outcome = await_ready(self._process, f"{self.url}/-/ready", timeout)
        if outcome == "ready":
            return
        if outcome == "exited":
            raise RuntimeError(f"alertmanager exited:\n{self.log_tail()}")
        raise RuntimeError(f"alertmanager not ready within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def log_tail(self) -> str:
        path = self.work_dir / "alertmanager.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active, unresolved alerts unless filtered otherwise)."""
        query = "&".join(f"{name}={value}" for name, value in filters.items())
        url = f"{self.url}/api/v2/alerts" + (f"?{query}" if query else "")
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback http
            return list(json.loads(response.read()))
