"""Looking into the Dash components a page builder returns (no browser needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def nodes(component: Any) -> Iterator[Any]:
    """`component` and every component under it, depth first."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            yield from nodes(child)


def by_id(component: Any, wanted: str) -> Any:
    """The one component under `component` whose id is `wanted`."""
    (found,) = [node for node in nodes(component) if getattr(node, "id", None) == wanted]
    return found
