"""The commands read `alerts/` and the catalog relative to the working directory, as users run them."""

from __future__ import annotations

import pytest

from tests.interop.helpers import ROOT


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
