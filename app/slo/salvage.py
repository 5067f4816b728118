"""A stand-in for an SLO that failed schema validation, so the later checks still run on it.

Schema problems (a bad objective, an unknown key) keep an SLO from loading; without a parsed
spec the checks that come after the schema (PromQL syntax, design choices, alert policies) would
not run, and a file would have to be fixed in waves. Here each broken part is replaced by a
valid placeholder, and whatever the later checks find in a placeholder is not reported.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.slo.spec import SLOSpec

Loc = tuple[int | str, ...]

# Valid values for the keys an SLO cannot do without; any other broken key is dropped.
PLACEHOLDERS: dict[str, Any] = {
    "name": "placeholder",
    "objective": 99.0,
    "sli": {"events": {"total": "vector(1)", "bad": "vector(0)", "unit": "count"}},
}
# Lists whose items are replaced one by one, so one broken item leaves its neighbours checked.
ITEM_PLACEHOLDERS: dict[str, Any] = {
    "failure_modes": {"design_choice": "placeholder", "when": "vector(1)"},
}
# Keys the SLO-wide rules (its `_consistent` validator) combine: set aside when such a rule
# fails, since the error names no single key.
CROSS_CHECKED = ("budgeting", "slice_target", "slice")
# Keys those rules read: a rule that fails once one of them is a placeholder may be the
# placeholder's doing, so it is reported only while none of them has been replaced.
RULE_KEYS = (*CROSS_CHECKED, "sli", "failure_modes", "group_by", "max_groups")
ROUNDS = 4  # a placeholder can reveal a problem of another key; a few rounds settle it


def salvage(item: Any) -> tuple[SLOSpec, tuple[Loc, ...], tuple[str, ...]] | None:
    """The spec with each broken part replaced, the locations replaced, and the messages of
    SLO-wide rules the schema's first errors hid (pydantic runs them only once every field is
    valid); None when such a rule failed with nothing left to replace, or the item is no map."""
    if not isinstance(item, dict):
        return None
    data = dict(item)
    replaced: list[Loc] = []
    hidden: list[str] = []
    for round_ in range(ROUNDS):
        try:
            return SLOSpec.model_validate(data), tuple(replaced), tuple(hidden)
        except ValidationError as error:
            parts = {_broken_part(detail["loc"], data) for detail in error.errors()}
            rules = [
                str(d["msg"]).removeprefix("Value error, ") for d in error.errors() if not d["loc"]
            ]
        if round_ and not any(str(part[0]) in RULE_KEYS for part in replaced):
            hidden.extend(rule for rule in rules if rule not in hidden)
        if () in parts:
            parts.discard(())
            if data.get("sli") is None:
                parts.add(("sli",))
            elif all((key,) in replaced for key in CROSS_CHECKED):
                return None
            else:
                parts.update((key,) for key in CROSS_CHECKED)
        for part in sorted(parts, key=str):
            _replace(data, part)
            replaced.append(part)
    return None


def is_replaced(loc: Loc, replaced: tuple[Loc, ...]) -> bool:
    return any(loc[: len(part)] == part for part in replaced)


def _broken_part(loc: tuple[int | str, ...], data: dict[str, Any]) -> Loc:
    """The top-level key, or the list item of `ITEM_PLACEHOLDERS`, that holds the error."""
    if not loc:
        return ()
    key = loc[0]
    items = data.get(str(key))
    if key in ITEM_PLACEHOLDERS and len(loc) > 1 and isinstance(items, list):
        return (key, loc[1])
    return (key,)


def _replace(data: dict[str, Any], part: Loc) -> None:
    key = str(part[0])
    if len(part) == 2 and isinstance(part[1], int):
        items = list(data[key])
        items[part[1]] = {"name": f"placeholder-{part[1]}", **ITEM_PLACEHOLDERS[key]}
        data[key] = items
    elif key in PLACEHOLDERS:
        data[key] = PLACEHOLDERS[key]
    else:
        data.pop(key, None)
