"""TSDB blocks from a dataset: OpenMetrics files converted by `promtool`.

`promtool tsdb create-blocks-from openmetrics` re-reads its whole input once per block window,
so the data is cut into one file per block window (486 h, the largest block Prometheus itself
compacts to with a 400-day retention, so it never re-compacts them) and the files are converted
in parallel, one `promtool` per CPU.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.testbed.dataset import Dataset
from app.testbed.exposition import write_openmetrics_file
from app.testbed.prometheus import PrometheusError, find_binary

BLOCK_SECONDS = 486 * 3600


@dataclass(frozen=True)
class TsdbBuild:
    path: Path
    samples: int
    blocks: int
    write_seconds: float
    promtool_seconds: float


def _chunks(start: int, end: int) -> list[tuple[int, int | None]]:
    """[from, to) windows aligned to promtool's blocks; the last one is open to keep `end`."""
    edges = list(range((start // BLOCK_SECONDS + 1) * BLOCK_SECONDS, end + 1, BLOCK_SECONDS))
    bounds: list[tuple[int, int | None]] = []
    lower = start
    for edge in edges:
        if edge > lower:
            bounds.append((lower, edge))
            lower = edge
    bounds.append((lower, None))
    return bounds


def build_tsdb(
    dataset: Dataset, directory: Path, *, work_dir: Path | None = None, timeout: float = 600.0
) -> TsdbBuild:
    """Turn a dataset into TSDB blocks in `directory` (created if needed)."""
    promtool = find_binary("promtool")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="faultline-tsdb-", dir=work_dir) as scratch:
        root = Path(scratch)
        began = time.perf_counter()
        jobs: list[tuple[Path, Path]] = []
        samples = 0
        for number, (lower, upper) in enumerate(
            _chunks(dataset.scenario.start, dataset.scenario.end)
        ):
            source = root / f"chunk-{number}.om"
            written = write_openmetrics_file(dataset, source, lower, upper)
            if written:
                samples += written
                jobs.append((source, root / f"blocks-{number}"))
        written_at = time.perf_counter()
        _run_promtool(promtool, jobs, timeout)
        converted_at = time.perf_counter()
        blocks = 0
        for _, output in jobs:
            for block in sorted(output.iterdir()):
                if block.is_dir():
                    shutil.move(str(block), directory / block.name)
                    blocks += 1
    return TsdbBuild(directory, samples, blocks, written_at - began, converted_at - written_at)


def _run_promtool(promtool: str, jobs: Sequence[tuple[Path, Path]], timeout: float) -> None:
    """Convert every chunk, as many at once as there are CPUs."""
    deadline = time.monotonic() + timeout
    pending = list(jobs)
    running: list[tuple[subprocess.Popen[bytes], Path]] = []
    workers = max(1, os.cpu_count() or 1)
    try:
        while pending or running:
            while pending and len(running) < workers:
                source, output = pending.pop(0)
                command = [
                    promtool, "tsdb", "create-blocks-from", "openmetrics",
                    f"--max-block-duration={BLOCK_SECONDS // 3600}h", "--quiet",
                    str(source), str(output),
                ]  # fmt: skip
                log = source.with_suffix(".log")
                with log.open("wb") as sink:
                    process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
                running.append((process, log))
            # Left in `running` while waited for: a signal raised inside the wait (the demo's
            # SIGTERM/SIGHUP) must find it there and kill it too.
            process, log = running[0]
            try:
                code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise PrometheusError(f"promtool took longer than {timeout:.0f} s") from None
            running.pop(0)
            if code != 0:
                tail = log.read_text(errors="replace")[-2000:]
                raise PrometheusError(f"promtool failed with exit code {code}:\n{tail}")
    finally:
        for process, _ in running:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def link_tsdb(source: Path, destination: Path) -> Path:
    """A private copy of a built TSDB; block files are hard-linked when possible (they are
    immutable, and Prometheus only ever deletes them), so one build serves many servers."""

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    shutil.copytree(source, destination, copy_function=link_or_copy, dirs_exist_ok=True)
    return destination
