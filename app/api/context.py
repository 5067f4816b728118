"""What the API needs of the running process, declared here and provided by `app.runtime`.

The runtime assembles the API, so the API names the process state by what it reads and does
(Protocols) instead of importing `app.runtime`: the arrow points one way only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from app.engine.service import Engine
from app.slo.definitions import DefinitionSet
from app.slo.problems import Problem

if TYPE_CHECKING:
    from app.engine.scheduler import EngineScheduler


class AccessSettings(Protocol):
    """The settings the API reads: its token rules and the staleness bound of /readyz."""

    @property
    def api_token(self) -> SecretStr | None: ...

    def accepts_token(self, presented: str | None) -> bool:
        """Whether `presented` is the API token (compared in constant time)."""
        ...

    @property
    def require_token_for_reads(self) -> bool: ...

    @property
    def stale_after(self) -> float: ...

    @property
    def base_url(self) -> str:
        """Where the dashboards are served (links in alert texts, replayed ones too)."""
        ...


class LoadedDefinitions(Protocol):
    """Definition files as read from disk: the valid set, and every problem found."""

    @property
    def definitions(self) -> DefinitionSet: ...

    @property
    def problems(self) -> Sequence[Problem]: ...


class ServiceState(Protocol):
    """The process state the routes read (`app.runtime.state.AppState` provides it)."""

    engine: Engine
    scheduler: EngineScheduler | None
    definition_problems: list[str]

    @property
    def settings(self) -> AccessSettings: ...

    def load_definitions(self) -> LoadedDefinitions:
        """The definition files as they are on disk now (what a reload would run)."""
        ...
