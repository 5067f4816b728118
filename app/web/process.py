"""What the dashboards need of the running process, declared here and provided by `app.runtime`.

The runtime mounts the dashboards, so they name the process state by what they read
(Protocols) instead of importing `app.runtime`, and share nothing with the API package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from app.engine.service import Engine


class DashboardSettings(Protocol):
    @property
    def dashboards(self) -> Path:
        """The directory of board files."""
        ...

    @property
    def require_token_for_reads(self) -> bool: ...

    @property
    def base_url(self) -> str:
        """Where the dashboards are served (the links in alert texts)."""
        ...

    def accepts_token(self, presented: str | None) -> bool:
        """Whether `presented` is the API token (compared in constant time)."""
        ...


class DashboardState(Protocol):
    """The process state the pages read (`app.runtime.state.AppState` provides it)."""

    engine: Engine

    @property
    def settings(self) -> DashboardSettings: ...
