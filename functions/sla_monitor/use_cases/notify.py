"""Tell a role of an SLA tier through the channels configured for it (PUT /v1/roles/{role}/contacts): one
email to its addresses through SES and one signed post to its webhook; a store role at the order's location
through that location's entry when it has one (docs/notifications.md, "Staff notifications")."""

from __future__ import annotations

import time
from dataclasses import dataclass

from common.config import settings
from common.observability import count, logger
from notifications.adapters import ses
from notifications.adapters.default_templates import staff_defaults
from notifications.domain.messages import masked_email
from reference import config_table
from reference.models import Contacts, RoleContacts
from sla_monitor.adapters import webhook
from sla_monitor.domain.messages import SlaMessage, email_values, order_link, signed_headers, webhook_body


@dataclass(frozen=True)
class _Told:
    medium: str
    outcome: str  # sent | refused | off | transient_failure
    reason: str | None = None
    to: str | None = None


def notify_role(role: str, location_id: str | None, message: SlaMessage) -> bool:
    """True when every configured channel took the message (or refused it for good, or nothing is configured);
    False when one could not be reached now: call again later. A retry tells every channel again (neither
    SES nor a webhook takes an idempotency key): receivers may see a message twice, never miss one."""
    contacts = config_table.role_contacts(role)
    if contacts is None:
        _log(role, location_id, None, message, _Told("any", "off", "no_contacts"))
        return True
    scope = contacts.scope_for(location_id)
    told = contacts.told_for(location_id)
    link = order_link(settings().order_link, message.order_id)
    results = [_email(contacts, told, message, link), _webhook(role, scope, told, message, link)]
    for result in results:
        if result is not None:
            _log(role, location_id, scope, message, result)
    return all(result is None or result.outcome != "transient_failure" for result in results)


def _email(contacts: RoleContacts, told: Contacts, message: SlaMessage, link: str) -> _Told | None:
    if not told.emails:
        return None
    to = ", ".join(masked_email(address) for address in told.emails)
    sender = settings().notify_email_from
    if not sender:
        return _Told("email", "off", "medium_off", to)  # the deployment's NotifyEmailFrom is empty
    email = staff_defaults().email(contacts.language, message.kind, email_values(message, link))
    try:
        ses.send(sender, told.emails, email, order_id=message.order_id, key=f"sla-{message.kind}-{contacts.role}")
    except ses.EmailTransient as failure:
        return _Told("email", "transient_failure", str(failure), to)
    except ses.EmailPermanent as failure:
        return _Told("email", "refused", str(failure), to)
    return _Told("email", "sent", to=to)


def _webhook(role: str, scope: str | None, told: Contacts, message: SlaMessage, link: str) -> _Told | None:
    if told.webhook is None:
        return None
    secret = config_table.role_webhook_secret(role, scope)
    if secret is None:  # removed from SSM by hand: an unsigned post would teach receivers to accept any
        return _Told("webhook", "refused", "its secret is missing from SSM: PUT the role's contacts with one")
    body = webhook_body(message, link)
    # The receiver checks the timestamp against its own clock: real time, not the hub's (faster locally).
    headers = signed_headers(secret, body, int(time.time()))
    delivery, reason = webhook.post(str(told.webhook.url), body, headers)
    outcome = {"accepted": "sent", "refused": "refused", "unavailable": "transient_failure"}[delivery]
    return _Told("webhook", outcome, None if delivery == "accepted" else reason)


def _log(role: str, location_id: str | None, scope: str | None, message: SlaMessage, told: _Told) -> None:
    """One line per channel, addresses masked; a refusal as an error (it is not retried: it needs a person)."""
    extra = {
        "role": role,
        "location_id": location_id,
        "contacts_of": scope or "role",
        "order_id": message.order_id,
        "status": message.status,
        "tier": message.kind,
        "medium": told.medium,
        "outcome": told.outcome,
        "reason": told.reason,
        "to": told.to,
    }
    if told.outcome == "refused":
        count("StaffNotificationRefused")
        logger.error("staff notification refused", extra=extra)
    else:
        logger.info("staff notification", extra=extra)
