"""The hub's one time representation: aware UTC datetimes inside, one wire format outside (ISO 8601 in UTC
with milliseconds and `Z`, as every stored time and every JSON answer has it)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def current() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def utc_now() -> str:
    """Now in the wire format; sorts as text, which the created_key indexes rely on."""
    return utc_text(current())


def utc_text(moment: datetime) -> str:
    """An aware datetime as the hub writes every time: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_moment(text: str) -> datetime:
    """A time the hub wrote (utc_text) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def utc_day(text: str) -> date:
    """The UTC date of a time the hub wrote (utc_text)."""
    return utc_moment(text).date()


def epoch_seconds(text: str) -> int:
    """A time the hub wrote (utc_text) as Unix seconds, as DynamoDB TTL attributes want it."""
    return int(utc_moment(text).timestamp())
