"""What a role is told of an SLA tier (docs/notifications.md, "Staff notifications"): the message, the outgoing
webhook's JSON and signature headers, and the values of the staff email templates. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from common.clock import utc_moment
from common.signatures import hmac_sha256_hex

TierKind = Literal["warn", "escalate", "breach"]
EVENT_TYPES: Mapping[TierKind, str] = {"warn": "sla.warned", "escalate": "sla.escalated", "breach": "sla.breached"}
TIMESTAMP_HEADER = "X-OmsHub-Timestamp"
SIGNATURE_HEADER = "X-OmsHub-Signature"


@dataclass(frozen=True)
class SlaMessage:
    """One tier of one status entry. `due_at` is the status's deadline (hub time text); `overdue_seconds` is
    how far past it the tier fired, negative before it (a warning: the seconds left)."""

    kind: TierKind
    order_id: str
    status: str
    channel: str
    location_id: str | None
    role: str
    due_at: str
    overdue_seconds: int


def order_link(pattern: str, order_id: str) -> str:
    """Where staff open the order: the deployment's pattern (`{order_id}` in it), else the API's own path."""
    return pattern.replace("{order_id}", order_id) if pattern else f"/v1/orders/{order_id}"


def webhook_body(message: SlaMessage, link: str) -> bytes:
    """The JSON posted to a role's webhook, as sent and signed (compact UTF-8)."""
    body = {
        "type": EVENT_TYPES[message.kind],
        "order_id": message.order_id,
        "status": message.status,
        "channel": message.channel,
        "location_id": message.location_id,
        "role": message.role,
        "due_at": message.due_at,
        "overdue_seconds": message.overdue_seconds,
        "link": link,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The signature covers the timestamp too: a receiver that refuses old timestamps refuses replays."""
    signature = hmac_sha256_hex(secret, f"{timestamp}.".encode() + body)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"sha256={signature}",
    }


def email_values(message: SlaMessage, link: str) -> dict[str, Any]:
    """What a staff email template may use (docs/notifications.md)."""
    minutes = round(abs(message.overdue_seconds) / 60)
    return {
        "order_id": message.order_id,
        "status": message.status,
        "channel": message.channel,
        "location_id": message.location_id,
        "role": message.role,
        "due": utc_moment(message.due_at).strftime("%Y-%m-%d %H:%M UTC"),
        "minutes_left": minutes if message.overdue_seconds < 0 else None,
        "minutes_over": minutes if message.overdue_seconds > 0 else None,
        "link": link,
    }
