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


@dataclass(frozen=True)
class StaffDefaults:
    """The hub's staff emails (templates, not rendered) per language and name, and each language's frame."""

    emails: Mapping[tuple[Language, str], Email]
    layouts: Mapping[Language, str]

    def email(self, language: Language, name: str, values: Mapping[str, Any]) -> Email:
        wording = self.emails[(language, name)]
        return email(wording.subject, wording.text, wording.html, self.layouts[language], values)


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
        "pickup_code": order.get("pickup_code"),  # click & collect at the desk; never stored or logged
    }


def email(subject: str, text: str | None, html: str | None, layout: str, values: Mapping[str, Any]) -> Email:
    """An email from its templates: the subject on one line, the HTML part framed by `layout` (`{{ content }}`)."""
    rendered_subject = " ".join(render(subject, values, html=False).split())
    framed = None
    if html is not None:
        content = Markup(render(html, values, html=True).strip())  # noqa: S704 - autoescaped above
        framed = render(layout, {**values, "subject": rendered_subject, "content": content}, html=True).strip() + "\n"
    return Email(
        subject=rendered_subject,
        text=None if text is None else render(text, values, html=False).strip() + "\n",
        html=framed,
    )


@dataclass(frozen=True)
class Message:
    """One topic told in one language: the channel's own templates where it has them, else the defaults."""

    defaults: Defaults
    overrides: Sequence[TemplateOverride]
    topic: NotificationTopic
    language: Language
    values: Mapping[str, Any]

    def _own(self, medium: str) -> TemplateOverride | None:
        wanted = (self.topic, medium, self.language)
        return next((o for o in self.overrides if (o.topic, o.medium, o.language) == wanted), None)

    def sms(self) -> str:
        own = self._own("sms")
        source = own.text if own is not None and own.text is not None else self._default().sms
        return " ".join(render(source, self.values, html=False).split())  # one line, single spaces: fewer parts

    def email(self) -> Email:
        own = self._own("email")
        default = self._default()
        subject, text, html = (
            (own.subject or "", own.text, own.html) if own else (default.subject, default.text, default.html)
        )
        return email(subject, text, html, self.defaults.layouts[self.language], self.values)

    def _default(self) -> Wording:
        return self.defaults.wordings[(self.language, self.topic)]
