"""Query parameters of the paged lists (SLOs, a grouped SLO's groups): one declaration each, so
every list filters, orders and pages alike."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

Search = Annotated[str | None, Query(max_length=200, description="Substring of the key")]
Order = Literal["asc", "desc"] | None
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
