"""A notification's text: the channel's own template where it has one, else the hub's default, filled with
the order's values in jinja2's sandbox (HTML autoescaped). Pure: the defaults are read by an adapter and
passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from common.templates import render
from reference.models import Language, NotificationTopic, TemplateOverride


@dataclass(frozen=True)
class Wording:
    """One topic's templates in one language."""

    sms: str
    subject: str
    text: str | None
    html: str | None


@dataclass(frozen=True)
class Defaults:
    """The hub's wording per language and topic, and each language's email frame (`{{ content }}`)."""

    wordings: Mapping[tuple[Language, NotificationTopic], Wording]
    layouts: Mapping[Language, str]


@dataclass(frozen=True)
class Email:
    subject: str
    text: str | None
    html: str | None


def values(order: Mapping[str, Any], channel_name: str) -> dict[str, Any]:
    """What a template may use (docs/notifications.md): the order as `GET /v1/orders/{id}` shows it."""
    customer = order.get("customer") or {}
    delivery = order.get("delivery") or {}
    payment = order.get("payment") or {}
    tracking = order.get("tracking") or {}
    total = order.get("total")
    return {
        "order_id": order.get("order_id"),
        "order_number": order.get("external_id") or order.get("order_id"),
        "name": customer.get("name"),
        "channel": channel_name,
        "total": None if total is None else f"{Decimal(str(total)):.2f}",
        "delivery_method": delivery.get("method"),
        "pickup_location": delivery.get("location_id"),
        "tracking_number": tracking.get("number"),
        "tracking_url": tracking.get("url"),
        "payment_url": payment.get("link_url"),
    }


def _wording(
    defaults: Defaults, overrides: Sequence[TemplateOverride], topic: NotificationTopic, language: Language
) -> tuple[Wording, TemplateOverride | None, TemplateOverride | None]:
    own = {(o.medium, o.language, o.topic): o for o in overrides}
    return defaults.wordings[(language, topic)], own.get(("sms", language, topic)), own.get(("email", language, topic))


def sms_text(
    defaults: Defaults,
    overrides: Sequence[TemplateOverride],
    topic: NotificationTopic,
    language: Language,
    filled: Mapping[str, Any],
) -> str:
    wording, own, _ = _wording(defaults, overrides, topic, language)
    source = own.text if own is not None and own.text is not None else wording.sms
    return " ".join(render(source, filled, html=False).split())  # one line, single spaces: fewer SMS parts


def email(
    defaults: Defaults,
    overrides: Sequence[TemplateOverride],
    topic: NotificationTopic,
    language: Language,
    filled: Mapping[str, Any],
) -> Email:
    wording, _, own = _wording(defaults, overrides, topic, language)
    subject, text, html = (
        (own.subject or "", own.text, own.html) if own else (wording.subject, wording.text, wording.html)
    )
    rendered_subject = " ".join(render(subject, filled, html=False).split())
    content = None if html is None else Markup(render(html, filled, html=True).strip())  # noqa: S704 - autoescaped
    framed = (
        None
        if content is None
        else render(defaults.layouts[language], {**filled, "subject": rendered_subject, "content": content}, html=True)
    )
    return Email(
        subject=rendered_subject,
        text=None if text is None else render(text, filled, html=False).strip() + "\n",
        html=None if framed is None else framed.strip() + "\n",
    )
