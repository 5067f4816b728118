"""docs/dashboards.md shows every page at 1440 px and 390 px, light and dark: the screenshot
script shoots every fixed page of the dashboards (and an SLO page and a board), each PNG it
writes is in docs/img at its width, and the docs link every one of them."""

from __future__ import annotations

import importlib.util
import re
import struct
from pathlib import Path
from types import ModuleType

from app.web.dashboard import FIXED_PAGES

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "img"
THEMES = ("light", "dark")


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "scripts/screenshots.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_width(path: Path) -> int:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    width: int = struct.unpack(">I", head[16:20])[0]
    return width


def test_the_script_shoots_every_page() -> None:
    paths = set(script().PAGES.values())
    for fixed in FIXED_PAGES:
        assert f"/{fixed}" in paths, f"/{fixed}: add it to PAGES in scripts/screenshots.py"
    assert any(re.fullmatch(r"/slo/[^/]+/[^/]+", path) for path in paths)
    assert any(re.fullmatch(r"/boards/[^/]+", path) for path in paths)


def test_every_screenshot_is_there_at_its_width_and_in_the_docs() -> None:
    shots = script()
    linked = set(re.findall(r"\]\((img/[^)]+\.png)\)", (REPO / "docs/dashboards.md").read_text()))
    expected = {
        f"img/{name}-{width}-{theme}.png"
        for name in (*shots.PAGES, *shots.GROUPED_PAGES)  # `--grouped` shoots the latter
        for width in shots.WIDTHS
        for theme in THEMES
    }
    assert set(shots.WIDTHS) == {1440, 390}
    assert linked == expected, (sorted(expected - linked), sorted(linked - expected))
    for name in expected:
        path = REPO / "docs" / name
        assert path.is_file(), f"{name}: run scripts/screenshots.py"
        assert png_width(path) == int(name.split("-")[-2]), name
    stale = {f"img/{path.name}" for path in IMAGES.glob("*.png")} - expected
    assert not stale, f"images no page is shot for: {sorted(stale)}"
