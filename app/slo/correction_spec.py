"""Budget corrections as written: a named exclusion window with a category and a note.

A correction is one-off (`start`, `end`: RFC 3339) or recurring (`rrule`: RFC 5545 with DTSTART,
plus `duration`). Slices it covers are kept in the ledger but spend no budget. The same model
reads the `corrections:` lists of SLO files and the body of `POST /api/v1/corrections`, so both
refuse the same mistakes with the same words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.slo.recurrence import Recurrence, RecurrenceError, parse_recurrence
from app.slo.spec_base import NAME_PATTERN, DurationSeconds, Spec


class CorrectionCategory(StrEnum):
    MAINTENANCE = "maintenance"
    DEPLOYMENT = "deployment"
    OUT_OF_SCOPE_TRAFFIC = "out-of-scope-traffic"
    OTHER = "other"


def _epoch(value: object) -> int:
    """RFC 3339 with an offset (`2024-03-04T10:00:00Z`), a YAML timestamp or epoch seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not an RFC 3339 time; write e.g. 2024-03-04T10:00:00Z"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("give the time zone offset, e.g. 2024-03-04T10:00:00Z or +01:00")
        return int(value.timestamp())
    if isinstance(value, date):
        raise ValueError("give a time, not only a date, e.g. 2024-03-04T00:00:00Z")
    raise ValueError("expected an RFC 3339 time such as 2024-03-04T10:00:00Z")


def _rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


# Epoch seconds inside; RFC 3339 in JSON, so a dumped spec reads back and reads well.
Timestamp = Annotated[
    int,
    BeforeValidator(_epoch),
    PlainSerializer(_rfc3339, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2024-03-04T10:00:00Z"}),
]
Duration = Annotated[
    DurationSeconds, WithJsonSchema({"type": "string", "example": "2h", "pattern": r"^\d+[smhdw]"})
]


class CorrectionSpec(Spec):
    """One exclusion window, or a recurring series of them."""

    name: Annotated[str, Field(pattern=NAME_PATTERN, description="unique within its scope")]
    category: CorrectionCategory
    note: Annotated[str, Field(min_length=1, max_length=2000, description="why, for the audit")]
    start: Timestamp | None = None
    end: Timestamp | None = None
    rrule: Annotated[
        str | None,
        Field(
            max_length=2000,
            description="RFC 5545: a DTSTART line (TZID for local time), then RRULE "
            "(and optionally RDATE / EXDATE) lines",
            examples=["DTSTART;TZID=Europe/Berlin:20240303T020000\nRRULE:FREQ=WEEKLY;BYDAY=SU"],
        ),
    ] = None
    duration: Duration | None = None

    @field_validator("category", mode="before")
    @classmethod
    def _known_category(cls, value: object) -> object:
        known = [category.value for category in CorrectionCategory]
        if isinstance(value, str) and value.strip() not in known:
            raise ValueError(f"unknown category {value!r}; use one of {', '.join(known)}")
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("start")
        if value is not None and start is not None and value <= start:
            raise ValueError("`end` must be after `start`")
        return value

    @field_validator("rrule")
    @classmethod
    def _valid_rule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_recurrence(value)
            except RecurrenceError as error:
                raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        one_off = self.start is not None or self.end is not None
        recurring = self.rrule is not None or self.duration is not None
        if one_off and recurring:
            raise ValueError(
                "a correction is one-off (`start` and `end`) or recurring (`rrule` and "
                "`duration`), not both"
            )
        if not one_off and not recurring:
            raise ValueError(
                "give `start` and `end` (one-off) or `rrule` and `duration` (recurring)"
            )
        if one_off and (self.start is None or self.end is None):
            raise ValueError("a one-off correction needs both `start` and `end`")
        if recurring and (self.rrule is None or self.duration is None):
            raise ValueError("a recurring correction needs both `rrule` and `duration`")
        return self

    @property
    def recurrence(self) -> Recurrence | None:
        return parse_recurrence(self.rrule) if self.rrule is not None else None

    def intervals(self, after: int, before: int) -> list[tuple[int, int]]:
        """The excluded intervals `[a, b)` (epoch seconds) that overlap `[after, before)`."""
        if self.start is not None and self.end is not None:
            overlaps = self.start < before and self.end > after
            return [(self.start, self.end)] if overlaps else []
        recurrence = self.recurrence
        assert recurrence is not None and self.duration is not None  # by the model validator
        # An occurrence that began up to one duration earlier still covers `after`.
        starts = recurrence.starts_between(after - self.duration + 1, before)
        return [(start, start + self.duration) for start in starts]
