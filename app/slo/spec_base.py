"""Building blocks every spec model shares: the strict base model, name patterns, durations.

Kept apart from `app.slo.spec` so that models `SLOSpec` embeds (budget corrections) can use them
without an import cycle.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from app.slo.durations import DurationError, parse_duration

NAME_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# The error type of a rule about a key as a whole (a list naming something twice, a key that
# needs another): validation points at the key, not at its value (`app.slo.yamlsource`).
KEY_RULE = "key_rule"


def key_rule(message: str) -> PydanticCustomError:
    """Raise from a field validator: the problem is reported at that field's key."""
    return PydanticCustomError(KEY_RULE, message)


class Spec(BaseModel):
    """Base for every spec model: immutable, and unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True
    )


def duration_field(value: object) -> int:
    """A positive duration: `"5m"`, `"2h"`, `"30d"` or whole seconds."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("expected a duration such as 1m, 5m, 1h or 30d")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("a duration must be longer than zero")
        return value
    try:
        return parse_duration(value)
    except DurationError as error:
        raise ValueError(str(error)) from None


DurationSeconds = Annotated[int, BeforeValidator(duration_field)]
