"""What a notification is: its topic for a workflow status, whom it may reach, how it ended, and the masks
that keep contacts out of logs. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from reference.models import ChannelNotifications, Medium, NotificationTopic

MEDIA: tuple[Medium, ...] = ("sms", "email")

# The workflows' statuses that notify (workflows/*.yaml `notify_customer`) and what the customer is told.
TOPIC_OF_STATUS: Mapping[str, NotificationTopic] = {
    "confirmed": "confirmed",
    "ready_for_pickup": "ready_for_pickup",
    "at_pickup_point": "ready_for_pickup",
    "at_post_office": "ready_for_pickup",
    "held": "ready_for_pickup",
    "shipped": "shipped",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "expired": "cancelled",
    "returned_to_stock": "cancelled",
    "awaiting_payment": "payment_link",
    "payment_link": "payment_link",
}

Outcome = Literal["sent", "skipped", "transient_failure", "permanent_failure"]


@dataclass(frozen=True)
class MediumResult:
    """One medium's end: `reason` says why it was skipped or failed; `to` is the masked contact."""

    medium: Medium
    outcome: Outcome
    reason: str | None = None
    message_id: str | None = None
    to: str | None = None


@dataclass(frozen=True)
class NotificationResult:
    """A notification's end over every medium. A transient failure is worth the same call again later (with
    `media` limited to the ones that did not end, so nothing sent is sent twice); a permanent one needs an
    operator; skipped ones (`medium_off`, `no_consent`, `no_contact`, `not_notified`) are final."""

    outcome: Outcome
    reason: str | None
    media: tuple[MediumResult, ...] = field(default_factory=tuple)

    @property
    def unfinished(self) -> tuple[Medium, ...]:
        return tuple(result.medium for result in self.media if result.outcome == "transient_failure")

    def as_record(self) -> dict[str, Any]:
        """The result as an order's action record stores it (contacts masked)."""
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "media": [{k: v for k, v in vars(result).items() if v is not None} for result in self.media],
        }


def combined(results: tuple[MediumResult, ...]) -> NotificationResult:
    """A failure still worth retrying outweighs a final one, a final one a success, a success a skip."""
    for outcome in ("transient_failure", "permanent_failure", "sent", "skipped"):
        ended = [result for result in results if result.outcome == outcome]
        if ended:
            reasons = list(dict.fromkeys(result.reason for result in ended if result.reason))
            if len(reasons) > 1:
                reasons = [f"{result.medium}: {result.reason}" for result in ended if result.reason]
            return NotificationResult(outcome, "; ".join(reasons) or None, results)
    return NotificationResult("skipped", "not_notified", results)


def consented(medium: Medium, consent: Mapping[str, Any] | None, channel: ChannelNotifications) -> bool:
    """The customer's own word when the order carries it, else the channel's default."""
    given = (consent or {}).get(medium)
    return bool(getattr(channel, medium)) if given is None else given is True


class SmsTransient(Exception):
    """The gateway did not take the message now (down, timing out, throttling): the same send may work later."""


class SmsPermanent(Exception):
    """The gateway refused the message for good (bad number, stop list, account or sender problem)."""


class SmsGateway(Protocol):
    """An SMS provider's API. `key` names the notification: a gateway that takes an idempotency key gets it;
    returns the gateway's message id, raises SmsTransient or SmsPermanent (reasons without the phone)."""

    def send(self, phone: str, text: str, key: str) -> str: ...


def international(phone: str) -> str:
    """The digits of an international number, as SMS gateways take it: a Russian 8XXXXXXXXXX becomes 7XXXXXXXXXX."""
    digits = re.sub(r"\D", "", phone)
    return "7" + digits[1:] if len(digits) == 11 and digits.startswith("8") else digits


def masked_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[:1] + "*" * max(len(digits) - 3, 0) + digits[-2:]


def masked_email(email: str) -> str:
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"
