"""Value types and text patterns every function shares: identifiers, SKUs, units, numbers, moments and
days, and the character classes free text and names may not contain. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictInt,
    TypeAdapter,
    WithJsonSchema,
)

# Characters that make no sense in ids and names and can spoof or break what operators read: C0/C1 controls,
# DEL and the bidirectional marks, embeddings, overrides and isolates. Free text may keep tab and line breaks.
CONTROLS = r"\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROLS_BUT_BREAKS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
ONE_LINE = rf"^[^{CONTROLS}]*$"  # names, ids, cities
FREE_TEXT = rf"^[^{CONTROLS_BUT_BREAKS}]*$"  # addresses, notes, reasons
EMAIL = rf"^[^@\s{CONTROLS}]+@[^@\s{CONTROLS}]+\.[^@\s{CONTROLS}]+$"  # one address, no display name


Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=rf"^[^\s#{CONTROLS}]+$")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]

# Whole numbers are JSON integers: true, "1", 1.5 and 1e40 are refused, not coerced. The bound keeps every
# sum the hub makes of them far inside DynamoDB's 38 digits and Python's float range.
MAX_UNITS = 1_000_000_000
Units = Annotated[StrictInt, Field(ge=0, le=MAX_UNITS)]


def a_number(value: Any) -> Any:
    if isinstance(value, (bool, str, bytes)):
        raise ValueError("must be a JSON number")  # noqa: TRY004 - pydantic reports only ValueError as invalid input
    return value


Number = Annotated[float, BeforeValidator(a_number)]  # a float given as a number (not true, not "0.5")


# Times the hub computes with (deadlines, promises, holds) stay where datetime arithmetic cannot overflow and
# where they make sense for an order.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)


def _in_window(moment: datetime) -> datetime:
    # The year is checked first: converting year 1 or 9999 with an offset to UTC overflows.
    if not EARLIEST.year <= moment.year <= LATEST.year or not EARLIEST <= moment.astimezone(UTC) <= LATEST:
        raise ValueError(f"must be between {EARLIEST.date()} and {LATEST.date()} (UTC)")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_in_window)]
_MOMENT = TypeAdapter(Moment)


def _day(value: Any) -> Any:
    """A date as YYYY-MM-DD, or an aware date-time (its UTC day): a naive time is refused as elsewhere."""
    if isinstance(value, datetime):
        return _MOMENT.validate_python(value).astimezone(UTC).date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(  # noqa: TRY004 - pydantic reports only ValueError as invalid input
            "must be a date (YYYY-MM-DD) or a date-time with a UTC offset"
        )
    if len(value) == 10:
        return value
    try:
        moment = _MOMENT.validate_python(value)
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD) or a date-time with a UTC offset, from 2000 to 2100") from None
    return moment.astimezone(UTC).date()


def _day_in_window(day: date) -> date:
    if not EARLIEST.date() <= day <= LATEST.date():
        raise ValueError(f"must be between {EARLIEST.date()} and {LATEST.date()}")
    return day


Day = Annotated[
    date,
    BeforeValidator(_day),
    AfterValidator(_day_in_window),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}),
]
