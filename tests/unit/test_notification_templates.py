# ruff: noqa: RUF001  (Russian wording beside Latin order numbers is meant, not a look-alike letter)
"""Notification wording: the hub's defaults in Russian and English for every topic, the channel's own
templates where it has them, autoescaped HTML, the tracking lines only when there is tracking, the sandbox,
and the decisions around them (consent, masks, how results combine)."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from common.templates import TemplateRefused
from notifications.adapters.default_templates import defaults
from notifications.domain import templates
from notifications.domain.messages import MediumResult, combined, consented, masked_email, masked_phone
from reference.models import ChannelIn, ChannelNotifications, Language, NotificationTopic, TemplateOverride

TOPICS = get_args(NotificationTopic)
LANGUAGES = get_args(Language)


def order(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "order_id": "ord_0123456789abcdef01234567",
        "channel": "web",
        "external_id": "WEB-1001",
        "status": "confirmed",
        "customer": {"name": "Анна", "phone": "+79123456789", "email": "anna@example.com"},
        "delivery": {"method": "click_collect", "location_id": "store-1"},
        "payment": {"method": "prepaid", "link_url": "https://pay.example/ord_1/1"},
        "total": 1390.5,
    }
    return {**base, **changes}


def filled(**changes: Any) -> dict[str, Any]:
    return templates.values(order(**changes), "Shop")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_an_sms_and_an_email_in_each_language(topic: NotificationTopic, language: Language) -> None:
    sms = templates.Message(defaults(), [], topic, language, filled()).sms()
    email = templates.Message(defaults(), [], topic, language, filled()).email()
    assert "WEB-1001" in sms and "\n" not in sms and "  " not in sms
    assert "WEB-1001" in email.subject
    assert email.text is not None and "Анна" in email.text
    assert email.html is not None and email.html.startswith("<!DOCTYPE html>") and f'lang="{language}"' in email.html
    assert "WEB-1001" in email.html and "{{" not in email.html + email.text + sms


def test_russian_and_english_say_it_in_their_language() -> None:
    assert templates.Message(defaults(), [], "confirmed", "ru", filled()).sms() == (
        "Заказ WEB-1001 подтверждён. Сумма 1390.50 руб. Shop"
    )
    assert templates.Message(defaults(), [], "confirmed", "en", filled()).sms() == (
        "Order WEB-1001 is confirmed. Total 1390.50 RUB. Shop"
    )
    assert "https://pay.example/ord_1/1" in templates.Message(defaults(), [], "payment_link", "ru", filled()).sms()
    assert "store-1" in templates.Message(defaults(), [], "ready_for_pickup", "en", filled()).sms()


def test_html_escapes_what_the_order_carries_and_plain_text_keeps_it() -> None:
    hostile = filled(customer={"name": '<script>alert("x")</script> & Co'}, external_id="<b>1</b>")
    email = templates.Message(defaults(), [], "delivered", "en", hostile).email()
    assert email.html is not None and email.text is not None
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html and "&amp; Co" in email.html
    assert "<b>1</b>" not in email.html and "&lt;b&gt;1&lt;/b&gt;" in email.html  # in the title too
    assert '<script>alert("x")</script> & Co' in email.text
    assert "<b>1</b>" in templates.Message(defaults(), [], "delivered", "en", hostile).sms()


def test_shipped_names_the_tracking_only_when_there_is_one() -> None:
    without = templates.Message(defaults(), [], "shipped", "ru", filled()).email()
    sms_without = templates.Message(defaults(), [], "shipped", "ru", filled()).sms()
    assert without.text is not None and without.html is not None
    assert "Трек-номер" not in without.text + without.html + sms_without
    assert sms_without == "Заказ WEB-1001 в пути. Shop"

    tracked = filled(tracking={"number": "1234567890", "url": "https://cdek.example/track?n=1234567890&x=1"})
    email = templates.Message(defaults(), [], "shipped", "ru", tracked).email()
    assert email.text is not None and email.html is not None
    assert "Трек-номер: 1234567890" in email.text and "https://cdek.example/track?n=1234567890&x=1" in email.text
    assert '<a href="https://cdek.example/track?n=1234567890&amp;x=1">1234567890</a>' in email.html
    assert "Трек-номер 1234567890" in templates.Message(defaults(), [], "shipped", "ru", tracked).sms()


def test_a_channels_own_template_replaces_the_default_of_its_medium_and_language_only() -> None:
    own = [
        TemplateOverride(
            topic="confirmed", medium="sms", language="ru", text="{{ name }}, заказ {{ order_number }} наш!"
        ),
        TemplateOverride(
            topic="confirmed",
            medium="email",
            language="ru",
            subject="Ура, {{ order_number }}",
            html="<p>Привет, {{ name }}</p>",
        ),
    ]
    hostile = filled(customer={"name": "<i>Анна</i>"})
    assert templates.Message(defaults(), own, "confirmed", "ru", hostile).sms() == "<i>Анна</i>, заказ WEB-1001 наш!"
    email = templates.Message(defaults(), own, "confirmed", "ru", hostile).email()
    assert email.subject == "Ура, WEB-1001"
    assert email.text is None  # the channel wrote only the HTML part
    assert email.html is not None and "<p>Привет, &lt;i&gt;Анна&lt;/i&gt;</p>" in email.html
    assert email.html.startswith("<!DOCTYPE html>")  # inside the hub's frame
    assert templates.Message(defaults(), own, "confirmed", "en", hostile).sms().startswith("Order WEB-1001")
    assert templates.Message(defaults(), own, "shipped", "ru", hostile).sms().startswith("Заказ WEB-1001")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # a call
        "{{ name.upper.__globals__['os'].system('id') }}",
        "{% for a in name %}{% for b in name %}{{ a }}{% endfor %}{% endfor %}",  # loops: a render of any length
        "{{ name * 1000000000 }}",  # arithmetic: a gigabyte string
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{{ name | format(name) }}",  # a filter outside the short list
        "{{" + "(" * 400 + "name" + ")" * 400 + "}}",  # deeper than the parser recurses
    ],
)
def test_a_template_may_only_read_test_and_filter_its_values(source: str) -> None:
    own = [TemplateOverride.model_construct(topic="delivered", medium="sms", language="en", text=source)]
    with pytest.raises(TemplateRefused):
        templates.Message(defaults(), own, "delivered", "en", filled()).sms()
    with pytest.raises(ValidationError, match="not a template"):
        TemplateOverride(topic="delivered", medium="sms", language="en", text=source)


def test_python_internals_read_as_nothing() -> None:
    own = [
        TemplateOverride(
            topic="delivered", medium="sms", language="en", text="[{{ name.__class__ }}]{{ name | upper }}"
        )
    ]
    assert templates.Message(defaults(), own, "delivered", "en", filled()).sms() == "[]АННА"


def test_a_channel_is_refused_with_a_broken_or_incomplete_template() -> None:
    def channel(*overrides: dict[str, Any]) -> ChannelIn:
        return ChannelIn.model_validate(
            {"kind": "web", "name": "Shop", "notifications": {"templates": list(overrides)}}
        )

    sms = {"topic": "shipped", "medium": "sms", "language": "ru", "text": "{{ order_number }}"}
    assert channel(sms).notifications.templates[0].text == "{{ order_number }}"
    for broken in (
        {**sms, "text": "{% if tracking_number %}no end"},
        {**sms, "subject": "an SMS has no subject"},
        {"topic": "shipped", "medium": "email", "language": "ru", "text": "no subject"},
        {**sms, "topic": "lost"},
        {**sms, "language": "de"},
        {**sms, "text": "a control \x1b[2J character"},
    ):
        with pytest.raises(ValidationError):
            channel(broken)
    with pytest.raises(ValidationError, match="listed twice"):
        channel(sms, sms)
    assert ChannelIn.model_validate({"kind": "web", "name": "Shop"}).notifications == ChannelNotifications()


@pytest.mark.parametrize(
    ("given", "default", "sent"),
    [
        (None, False, False),
        (None, True, True),
        ({}, True, True),
        ({"sms": True}, False, True),
        ({"sms": False}, True, False),
        ({"email": True}, False, False),
    ],
)
def test_consent_is_the_customers_word_else_the_channels_default(
    given: dict[str, bool] | None, default: bool, sent: bool
) -> None:
    assert consented("sms", given, ChannelNotifications(sms=default)) is sent


def test_masks_keep_contacts_out_of_logs() -> None:
    assert masked_phone("+7 (912) 345-67-89") == "7********89"
    assert masked_email("anna.petrova@example.com") == "a***@example.com"


def test_a_retryable_failure_outweighs_a_final_one_and_a_success_a_skip() -> None:
    sent = MediumResult("sms", "sent", message_id="1")
    skipped = MediumResult("email", "skipped", "no_consent")
    assert combined((sent, skipped)).outcome == "sent"
    assert combined((MediumResult("sms", "skipped", "no_consent"), skipped)).reason == "no_consent"
    mixed = combined((MediumResult("sms", "skipped", "no_contact"), skipped))
    assert (mixed.outcome, mixed.reason) == ("skipped", "sms: no_contact; email: no_consent")
    transient = combined(
        (MediumResult("sms", "permanent_failure", "x"), MediumResult("email", "transient_failure", "y"))
    )
    assert (transient.outcome, transient.unfinished) == ("transient_failure", ("email",))
