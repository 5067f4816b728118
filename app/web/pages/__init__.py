"""The pages: each turns a context (engine, URL state, theme) into a title and a body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engine.service import Engine
from app.web.theme import Theme
from app.web.urlstate import ViewState


@dataclass(frozen=True)
class Context:
    engine: Engine
    state: ViewState
    theme: Theme
    boards_dir: Path
    base_url: str = ""


@dataclass(frozen=True)
class Page:
    title: str
    body: list[Any]
