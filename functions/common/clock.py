from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """ISO 8601 in UTC with milliseconds; sorts as text, which the created_key indexes rely on."""
    return utc_text(datetime.now(UTC))


def utc_text(moment: datetime) -> str:
    """An aware datetime as the hub writes every time: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_seconds(text: str) -> int:
    """A time the hub wrote (utc_text) as Unix seconds, as DynamoDB TTL attributes want it."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
