"""Customer notifications on a local hub: channels and orders set up over HTTP as a shop does, the
notification use case called with the order as the hub shows it (as the lifecycle's notify_customer
action does), email read back from SES in moto and SMS from a fake SMS.ru on 127.0.0.1. Consent decides
(the customer's word, else the channel's default), failures end as transient or permanent, a retry of
what did not go sends nothing twice, and no log line carries a phone or an email address."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from common import config, secrets
from notifications.adapters.sms_ru import api_id_parameter
from notifications.use_cases import notify
from oms_local.runtime import LocalHub
from tests.fakes.server import serve
from tests.fakes.sms_ru import API_ID, Failure, FakeSmsRu
from tests.support.api import Api
from tests.support.builders import courier_order, warehouse_and_store

SENDER = "orders@shop.example"
PHONE, DIGITS = "+7 916 555-12-34", "79165551234"
EMAIL = "anna.petrova@example.ru"
BOTH = {"sms": True, "email": True}


@pytest.fixture
def sms_ru() -> Iterator[FakeSmsRu]:
    fake = FakeSmsRu()
    with serve(fake.app()) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def shop(sms_ru: FakeSmsRu) -> Iterator[Api]:
    """The hub's SMS gateway is the fake, its SES sender verified; channel web notifies in Russian."""
    with LocalHub() as hub:
        # As the stack's SmsGatewayUrl and NotifyEmailFrom set them (the hub restores them on exit).
        os.environ["SMS_GATEWAY_URL"] = sms_ru.url  # type: ignore[attr-defined]
        os.environ["NOTIFY_EMAIL_FROM"] = SENDER
        config.settings.cache_clear()
        secrets.put_secret(api_id_parameter(), API_ID)
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        api = warehouse_and_store(Api(hub))
        yield api
    config.settings.cache_clear()


def sent_emails(api: Api) -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][api.hub.template.region].sent_messages)


def placed(api: Api, external_id: str = "web-1001", **customer: Any) -> dict[str, Any]:
    body = courier_order(external_id)
    body["customer"] = {**body["customer"], **customer}
    answer = api.post("/v1/orders", body)
    assert answer.status == 201, answer.body
    shown = api.get(f"/v1/orders/{answer.body['order_id']}")
    assert shown.status == 200
    return dict(shown.body)


def channel(api: Api, **notifications: Any) -> None:
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site", "notifications": notifications}).status == 200


def test_a_consenting_customer_gets_an_sms_and_an_email(shop: Api, sms_ru: FakeSmsRu) -> None:
    order = placed(shop, consent=BOTH)
    assert order["customer"]["consent"] == BOTH  # the order shows what the customer agreed to

    result = notify.customer(order, "confirmed", f"{order['order_id']}:notify_customer:confirmed")

    assert (result.outcome, result.reason) == ("sent", None)
    assert [(r.medium, r.outcome, r.to) for r in result.media] == [
        ("sms", "sent", "7********34"),
        ("email", "sent", "a***@example.ru"),
    ]
    assert [(m["to"], m["msg"]) for m in sms_ru.messages] == [
        (DIGITS, "Заказ web-1001 подтверждён. Сумма 3980.00 руб. Site")  # noqa: RUF001 - Russian, as meant
    ]
    [email] = sent_emails(shop)
    assert (email.source, email.destinations["ToAddresses"], email.subject) == (
        SENDER,
        [EMAIL],
        "Заказ web-1001 подтверждён",
    )
    assert "Anna Petrova" in email.body and "<b>web-1001</b>" in email.body  # the HTML part
    assert result.as_record()["media"][1]["message_id"] == email.id


def test_a_medium_the_deployment_leaves_empty_is_off(shop: Api, sms_ru: FakeSmsRu) -> None:
    """Empty SmsGatewayUrl / NotifyEmailFrom (the stack's defaults): nothing is sent on that medium."""
    order = placed(shop, consent=BOTH)
    os.environ["SMS_GATEWAY_URL"] = ""
    config.settings.cache_clear()
    result = notify.customer(order, "confirmed", "k-off-1")
    assert [(r.medium, r.outcome, r.reason) for r in result.media] == [
        ("sms", "skipped", "medium_off"),
        ("email", "sent", None),
    ]
    os.environ["NOTIFY_EMAIL_FROM"] = ""
    config.settings.cache_clear()
    assert notify.customer(order, "confirmed", "k-off-2").outcome == "skipped"
    assert sms_ru.messages == [] and len(sent_emails(shop)) == 1


def test_no_consent_no_message(shop: Api, sms_ru: FakeSmsRu) -> None:
    order = placed(shop)  # no consent on the order, and the channel assumes none
    result = notify.customer(order, "shipped", "k-1")
    assert (result.outcome, result.reason) == ("skipped", "no_consent")
    refused = notify.customer(placed(shop, "web-1002", consent={"sms": False, "email": False}), "shipped", "k-2")
    assert (refused.outcome, refused.reason) == ("skipped", "no_consent")
    assert sms_ru.requests == [] and sent_emails(shop) == []


def test_the_channels_default_stands_where_the_customer_said_nothing(shop: Api, sms_ru: FakeSmsRu) -> None:
    channel(shop, sms=True, language="en", sms_sender="SHOP")
    result = notify.customer(placed(shop), "ready_for_pickup", "k-1")
    assert [(r.medium, r.outcome, r.reason) for r in result.media] == [
        ("sms", "sent", None),
        ("email", "skipped", "no_consent"),
    ]
    assert sms_ru.messages[0]["from"] == "SHOP" and sms_ru.messages[0]["msg"].startswith("Order web-1001 is ready")
    declined = notify.customer(placed(shop, "web-1002", consent={"sms": False}), "ready_for_pickup", "k-2")
    assert (declined.outcome, declined.reason) == ("skipped", "no_consent")
    assert len(sms_ru.messages) == 1 and sent_emails(shop) == []


def test_a_customer_without_the_contact_is_skipped(shop: Api, sms_ru: FakeSmsRu) -> None:
    body = courier_order()
    body["customer"] = {"name": "Anna Petrova", "email": EMAIL, "consent": BOTH}
    order_id = shop.post("/v1/orders", body).body["order_id"]
    result = notify.customer(shop.get(f"/v1/orders/{order_id}").body, "delivered", "k-1")
    assert [(r.medium, r.outcome, r.reason) for r in result.media] == [
        ("sms", "skipped", "no_contact"),
        ("email", "sent", None),
    ]
    assert sms_ru.requests == []


def test_a_status_without_a_notification_sends_nothing(shop: Api, sms_ru: FakeSmsRu) -> None:
    result = notify.customer(placed(shop, consent=BOTH), "packed", "k-1")
    assert (result.outcome, result.reason, result.media) == ("skipped", "not_notified", ())
    assert sms_ru.requests == [] and sent_emails(shop) == []


def test_a_gateway_outage_is_transient_and_the_retry_sends_only_what_did_not_go(shop: Api, sms_ru: FakeSmsRu) -> None:
    order = placed(shop, consent=BOTH)
    sms_ru.fail_next(Failure(http_status=503), times=3)
    first = notify.customer(order, "cancelled", "k-1")
    assert (first.outcome, first.unfinished) == ("transient_failure", ("sms",))
    assert first.media[0].reason is not None and DIGITS not in first.media[0].reason
    assert len(sent_emails(shop)) == 1 and sms_ru.messages == []

    again = notify.customer(order, "cancelled", "k-1", media=first.unfinished)
    assert (again.outcome, [r.medium for r in again.media]) == ("sent", ["sms"])
    assert len(sent_emails(shop)) == 1 and len(sms_ru.messages) == 1


def test_refusals_are_permanent(shop: Api, sms_ru: FakeSmsRu) -> None:
    channel(shop, email_sender="unverified@shop.example")
    order = placed(shop, consent=BOTH)
    sms_ru.fail_next(Failure(message_code=209))  # the number is on the account's stop list
    result = notify.customer(order, "delivered", "k-1")
    assert result.outcome == "permanent_failure"
    assert [(r.medium, r.outcome, r.reason) for r in result.media] == [
        ("sms", "permanent_failure", "sms_ru refused the message: 209"),
        ("email", "permanent_failure", "SES refused the message: MessageRejected"),
    ]
    assert sent_emails(shop) == []


def test_the_channels_own_wording_is_used(shop: Api, sms_ru: FakeSmsRu) -> None:
    own = {"topic": "shipped", "medium": "sms", "language": "ru", "text": "{{ name }}: {{ order_number }} едет"}
    channel(shop, templates=[own])
    notify.customer(placed(shop, consent={"sms": True}), "shipped", "k-1")
    assert sms_ru.messages[0]["msg"] == "Anna Petrova: web-1001 едет"


def test_bad_notification_settings_and_consent_are_refused_and_change_nothing(shop: Api) -> None:
    before = shop.get("/v1/channels/web").body
    for notifications in (
        {"templates": [{"topic": "shipped", "medium": "sms", "language": "ru", "text": "{% if x %}"}]},
        {
            "templates": [
                {"topic": "shipped", "medium": "sms", "language": "ru", "text": "{% for c in name %}{% endfor %}"}
            ]
        },
        {"language": "de"},
        {"email_sender": "not an address"},
        {"sms": "yes"},
    ):
        answer = shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "notifications": notifications})
        assert answer.status == 422, (notifications, answer.body)
    assert shop.get("/v1/channels/web").body == before
    body = courier_order()
    body["customer"] = {**body["customer"], "consent": {"sms": "yes"}}
    assert shop.post("/v1/orders", body).status == 422
    assert shop.get("/v1/orders").body["items"] == []


def test_logs_carry_no_phone_or_email(shop: Api, sms_ru: FakeSmsRu, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the functions' level; the SDK's and powertools' DEBUG dumps hold whole requests
    order = placed(shop, consent=BOTH)
    notify.customer(order, "confirmed", "k-1")
    sms_ru.fail_next(Failure(http_status=502), times=3)
    notify.customer(order, "shipped", "k-2")  # a retried, failing call logs too
    logged = " ".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    assert "customer notification" in logged and "7********34" in logged and "a***@example.ru" in logged
    for personal in (PHONE, DIGITS, EMAIL, "anna.petrova"):
        assert personal not in logged


def test_without_the_gateways_key_the_sms_waits_for_an_operator(shop: Api, sms_ru: FakeSmsRu) -> None:
    boto3.client("ssm").delete_parameter(Name=api_id_parameter())
    secrets.forget()
    result = notify.customer(placed(shop, consent={"sms": True}), "confirmed", "k-1")
    assert (result.outcome, result.reason) == ("permanent_failure", "no sms_ru api_id is configured")
    assert sms_ru.requests == []
