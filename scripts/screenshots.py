"""Screenshots of every dashboard page at 1440 px and 390 px wide, light and dark, for
docs/dashboards.md.

It runs `faultline demo` as a newcomer would (generated history in a local Prometheus, fed live),
waits until the first evaluation has backfilled every SLO, and saves each page, whole, with the
Debian headless Chromium into docs/img/<page>-<width>-<theme>.png. With `pngquant` installed the
files are quantised to keep the repository small. Run from the repository root:

    .venv/bin/python scripts/screenshots.py [--days 30] [--out docs/img]

With `--grouped` the demo serves one grouped SLO instead of the shipped ones (storefront
availability with a budget per region, `GROUPED_YAML`) and only the pages of grouped SLOs are
saved: the overview expanded, the SLO page with its worst groups, and the burning region's page.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.testbed.prometheus import free_port  # noqa: E402
from tests.web.browsing import load, set_screen  # noqa: E402
from tests.web.harness import chromium  # noqa: E402

PAGES = {
    "slos": "/",
    "failure-modes": "/failure-modes",
    "alerts": "/alerts",
    "slo-checkout-success": "/slo/checkout/checkout-success",
    "slo-replica-lag": "/slo/orders/replica-lag",
    "boards": "/boards",
    "board-payments": "/boards/payments",
    "operations": "/operations",
}
GROUPED_PAGES = {
    "groups-slos": "/?groups=expanded",
    "groups-slo": "/slo/storefront/availability-by-region",
    "groups-us-east": "/slo/storefront/availability-by-region?group=region:us-east",
}
GROUPED_YAML = """\
service: storefront
labels: {team: storefront, tier: "1"}
slos:
  - name: availability-by-region
    description: Storefront pages load without a server error, with a budget per region.
    objective: 99.9
    group_by: [region]
    sli:
      events:
        total: sum by (region) (rate(http_requests_total{service="storefront"}[{{window}}]))
        bad: >-
          sum by (region) (rate(http_requests_total{service="storefront",
          code=~"5.."}[{{window}}]))
    failure_modes:
      - name: region-outage
        design_choice: multi-region
        when: min by (region) (probe_success{job="blackbox"}) == 0
      - name: orders-backlog
        design_choice: queue
        when: >-
          max(aws_sqs_approximate_age_of_oldest_message_maximum{dimension_QueueName="orders"})
          > 300
"""
WIDTHS = (1440, 390)
MAX_HEIGHT = 4000  # a page taller than this is cut: the top tells the story
FAULTLINE = str(Path(sys.executable).with_name("faultline"))


def evaluated(client: httpx.Client, slack: int) -> bool:
    """Every SLO has been evaluated to within `slack` seconds of now."""
    try:
        listing = client.get("/api/v1/slos", params={"limit": 500}).json()
    except (httpx.TransportError, ValueError):
        return False
    now = time.time()
    slos = listing.get("items", [])
    return bool(slos) and all(
        item.get("evaluated_through")
        and now - datetime.fromisoformat(item["evaluated_through"]).timestamp() < slack
        for item in slos
    )


def wait_until_evaluated(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=10) as client:
        while not evaluated(client, slack=600):
            if process.poll() is not None:
                raise SystemExit(f"the demo stopped (exit {process.returncode})")
            if time.monotonic() > deadline:
                raise SystemExit(f"the demo did not finish backfilling in {timeout:.0f}s")
            time.sleep(2)


def wait_for_alerts(url: str, timeout: float) -> None:
    """Give the live flare-ups up to `timeout` seconds to page (the demo's first one does within
    minutes; a ticket may fire before it), so /alerts shows the flare-up's own alert."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                if any(a.get("severity") == "page" for a in client.get("/api/v1/alerts").json()):
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(5)
    print("no alert fired in time: the alerts page will say so")


def grouped_definitions(directory: Path) -> Path:
    """A definitions directory with the grouped SLO and the shipped design-choice catalog."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "storefront.yaml").write_text(GROUPED_YAML)
    catalog = REPO / "slo_definitions" / "design_choices.yaml"
    (directory / catalog.name).write_bytes(catalog.read_bytes())
    return directory


def shoot(url: str, out: Path, pages: dict[str, str]) -> list[Path]:
    driver = chromium(1440, 900)
    saved = []
    try:
        for dark in (False, True):
            for width in WIDTHS:
                for name, path in pages.items():
                    set_screen(driver, width=width, dark=dark)
                    load(driver, url + path, timeout=120)
                    time.sleep(1.0)  # let Plotly finish laying out
                    height = int(driver.execute_script("return document.body.scrollHeight"))
                    driver.execute_cdp_cmd(
                        "Emulation.setDeviceMetricsOverride",
                        {
                            "width": width,
                            "height": min(height, MAX_HEIGHT),
                            "deviceScaleFactor": 1,
                            "mobile": width < 600,
                        },
                    )
                    time.sleep(0.5)
                    target = out / f"{name}-{width}-{'dark' if dark else 'light'}.png"
                    driver.save_screenshot(str(target))
                    saved.append(target)
                    print(f"saved {target}", flush=True)
    finally:
        driver.quit()
    return saved


def shrink(paths: list[Path]) -> None:
    quantiser = shutil.which("pngquant")
    if quantiser is None:
        print("pngquant not installed: PNGs are kept as Chromium wrote them")
        return
    for path in paths:
        subprocess.run(  # noqa: S603 - pngquant, found on PATH
            [quantiser, "--force", "--skip-if-larger", "--output", str(path), "64", str(path)],
            check=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--alerts-timeout", type=float, default=900)
    parser.add_argument("--grouped", action="store_true", help="the grouped SLO's pages only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [FAULTLINE, "demo", "--port", str(port), "--days", str(args.days)]
    pages = GROUPED_PAGES if args.grouped else PAGES
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as scratch:
        if args.grouped:
            command += ["--definitions", str(grouped_definitions(Path(scratch) / "defs"))]
        process = subprocess.Popen(  # noqa: S603 - our own faultline
            command,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
        try:
            wait_until_evaluated(url, process, args.timeout)
            wait_for_alerts(url, args.alerts_timeout)
            shrink(shoot(url, args.out, pages))
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.returncode not in (0, -signal.SIGINT):
                log.seek(0)
                print(log.read().decode(errors="replace")[-3000:])
    print(f"done at {datetime.now(UTC):%H:%M} UTC")


if __name__ == "__main__":
    main()
