"""Tell an order's customer that it entered a status: SMS and email, each only with the customer's consent
and a contact to reach, from the channel's templates or the hub's defaults (docs/notifications.md)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from common.config import settings
from common.observability import logger
from common.templates import TemplateRefused
from notifications.adapters import ses, sms_ru
from notifications.adapters.default_templates import defaults
from notifications.domain import templates
from notifications.domain.messages import (
    MEDIA,
    TOPIC_OF_STATUS,
    MediumResult,
    NotificationResult,
    SmsGateway,
    SmsPermanent,
    SmsTransient,
    combined,
    consented,
    masked_email,
    masked_phone,
)
from reference import config_table
from reference.models import ChannelNotifications, Medium


def customer(
    order: Mapping[str, Any],
    status: str,
    key: str,
    *,
    media: Collection[Medium] = MEDIA,
    sms_gateway: SmsGateway | None = None,
) -> NotificationResult:
    """Notify the customer of `order` (as `GET /v1/orders/{id}` shows it) that it entered `status`. `key`
    names this notification (order, action, status entry); a retry after a transient failure passes
    `media=result.unfinished` so what went is not sent again. `sms_gateway` replaces the configured one."""
    topic = TOPIC_OF_STATUS.get(status)
    if topic is None:
        return NotificationResult("skipped", "not_notified")
    channel = config_table.channel(str(order.get("channel", "")))
    notifications = channel.notifications if channel is not None else ChannelNotifications()
    filled = templates.values(order, channel.name if channel is not None else "")
    notice = _Notice(
        order=order,
        key=key,
        channel=notifications,
        message=templates.Message(defaults(), notifications.templates, topic, notifications.language, filled),
        sms_gateway=sms_gateway,
    )
    results = tuple(notice.told(medium) for medium in MEDIA if medium in media)
    for ended in results:
        logger.info(
            "customer notification",
            extra={
                "order_id": order.get("order_id"),
                "status": status,
                "key": key,
                "medium": ended.medium,
                "outcome": ended.outcome,
                "reason": ended.reason,
                "to": ended.to,
            },
        )
    return combined(results)


@dataclass(frozen=True)
class _Notice:
    order: Mapping[str, Any]
    key: str
    channel: ChannelNotifications
    message: templates.Message
    sms_gateway: SmsGateway | None

    def told(self, medium: Medium) -> MediumResult:
        person = self.order.get("customer") or {}
        contact = str(person.get("phone" if medium == "sms" else "email") or "")
        unsent = self._unsent(medium, person, contact)
        if unsent:
            return MediumResult(medium, "skipped", unsent)
        to = masked_phone(contact) if medium == "sms" else masked_email(contact)
        try:
            message_id = self._sms(contact) if medium == "sms" else self._email(contact)
        except (SmsTransient, ses.EmailTransient) as failure:
            return MediumResult(medium, "transient_failure", str(failure), to=to)
        except (SmsPermanent, ses.EmailPermanent) as failure:
            return MediumResult(medium, "permanent_failure", str(failure), to=to)
        except TemplateRefused as refused:
            return MediumResult(medium, "permanent_failure", f"the template cannot be filled: {refused}", to=to)
        return MediumResult(medium, "sent", message_id=message_id, to=to)

    def _unsent(self, medium: Medium, person: dict[str, Any], contact: str) -> str | None:
        """Why the medium is not used for this customer (None: it is). A deployment without an SMS gateway
        URL sends no SMS; without a sender (the hub's or the channel's), no email."""
        if medium == "sms":
            on = self.sms_gateway is not None or bool(settings().sms_gateway_url)
        else:
            on = bool(self.channel.email_sender or settings().notify_email_from)
        if not on:
            return "medium_off"
        if not consented(medium, person.get("consent"), self.channel):
            return "no_consent"
        return None if contact else "no_contact"

    def _sms(self, phone: str) -> str:
        gateway = self.sms_gateway if self.sms_gateway is not None else sms_ru.gateway(self.channel.sms_sender)
        return gateway.send(phone, self.message.sms(), self.key)

    def _email(self, address: str) -> str:
        sender = self.channel.email_sender or settings().notify_email_from
        return ses.send(
            sender, address, self.message.email(), order_id=str(self.order.get("order_id", "")), key=self.key
        )
