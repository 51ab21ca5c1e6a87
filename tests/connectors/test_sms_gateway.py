"""The SMS.ru connector against a fake SMS.ru on 127.0.0.1 that holds each request to the real API
(POST, a UTF-8 form, json=1, the documented parameters only): what is sent, and how every answer ends
(taken; 5xx and timeouts retried, then transient; 4xx and refusals permanent; SMS.ru's repeat refusal
of a message it already took counted as sent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications.adapters.sms_ru import REPEAT_ID, SmsRu
from notifications.domain.messages import SmsPermanent, SmsTransient
from tests.fakes.server import serve
from tests.fakes.sms_ru import API_ID, Failure, FakeSmsRu

PHONE = "8 (912) 345-67-89"
FAST = {"timeout": 0.5, "max_backoff": 0.05}


@pytest.fixture
def fake() -> Iterator[tuple[FakeSmsRu, str]]:
    sms_ru = FakeSmsRu()
    with serve(sms_ru.app()) as url:
        yield sms_ru, url


def test_a_message_is_sent_as_the_api_documents(fake: tuple[FakeSmsRu, str]) -> None:
    sms_ru, url = fake
    sms_id = SmsRu(url, API_ID, sender="SHOP", **FAST).send(PHONE, "Заказ 1001 подтверждён", "ord_1:notify:confirmed")
    assert sms_ru.requests == [
        {"api_id": API_ID, "to": "79123456789", "msg": "Заказ 1001 подтверждён", "json": "1", "from": "SHOP"}
    ]
    assert [(m["to"], m["msg"], m["sms_id"]) for m in sms_ru.messages] == [
        ("79123456789", "Заказ 1001 подтверждён", sms_id)
    ]


def test_without_a_sender_the_accounts_default_is_used(fake: tuple[FakeSmsRu, str]) -> None:
    sms_ru, url = fake
    SmsRu(url, API_ID, **FAST).send("+7 912 345 67 89", "hello", "k")
    assert "from" not in sms_ru.requests[0]
    assert sms_ru.messages[0]["to"] == "79123456789"


@pytest.mark.parametrize("failure", [Failure(http_status=503), Failure(http_status=500), Failure(delay_s=2.0)])
def test_a_5xx_or_a_timeout_is_retried_and_then_taken(fake: tuple[FakeSmsRu, str], failure: Failure) -> None:
    sms_ru, url = fake
    sms_ru.fail_next(failure)
    SmsRu(url, API_ID, **FAST).send(PHONE, "hello", "k")
    assert len(sms_ru.requests) == 2
    assert len(sms_ru.messages) == 1


@pytest.mark.parametrize("failure", [Failure(http_status=502), Failure(delay_s=2.0)])
def test_an_outage_after_every_retry_is_transient(fake: tuple[FakeSmsRu, str], failure: Failure) -> None:
    sms_ru, url = fake
    sms_ru.fail_next(failure, times=3)
    with pytest.raises(SmsTransient):
        SmsRu(url, API_ID, attempts=3, **FAST).send(PHONE, "hello", "k")
    assert len(sms_ru.requests) == 3
    assert sms_ru.messages == []


@pytest.mark.parametrize("status", [400, 403, 404])
def test_an_http_4xx_is_permanent_and_not_retried(fake: tuple[FakeSmsRu, str], status: int) -> None:
    sms_ru, url = fake
    sms_ru.fail_next(Failure(http_status=status))
    with pytest.raises(SmsPermanent, match=f"HTTP {status}"):
        SmsRu(url, API_ID, **FAST).send(PHONE, "hello", "k")
    assert len(sms_ru.requests) == 1


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (Failure(status_code=220), SmsTransient),  # service temporarily unavailable
        (Failure(status_code=500), SmsTransient),  # SMS.ru's own server error, in the body
        (Failure(status_code=201), SmsPermanent),  # not enough money on the account
        (Failure(message_code=207), SmsPermanent),  # no route to this number
        (Failure(message_code=209), SmsPermanent),  # the number is on the stop list
    ],
)
def test_refusals_in_the_body_are_told_apart(
    fake: tuple[FakeSmsRu, str], failure: Failure, error: type[Exception]
) -> None:
    sms_ru, url = fake
    sms_ru.fail_next(failure)
    with pytest.raises(error, match=str(failure.status_code or failure.message_code)) as raised:
        SmsRu(url, API_ID, **FAST).send(PHONE, "hello", "k")
    assert "79123456789" not in str(raised.value)
    assert sms_ru.messages == []


def test_a_wrong_api_id_an_unapproved_sender_and_a_bad_number_are_permanent(fake: tuple[FakeSmsRu, str]) -> None:
    sms_ru, url = fake
    with pytest.raises(SmsPermanent, match="200"):
        SmsRu(url, "not-the-key", **FAST).send(PHONE, "hello", "k")
    with pytest.raises(SmsPermanent, match="204"):
        SmsRu(url, API_ID, sender="OTHER", **FAST).send(PHONE, "hello", "k")
    with pytest.raises(SmsPermanent, match="202"):
        SmsRu(url, API_ID, **FAST).send("12345", "hello", "k")
    assert sms_ru.messages == []


def test_a_resend_of_a_message_the_gateway_took_is_not_a_second_sms(fake: tuple[FakeSmsRu, str]) -> None:
    """The first answer lost (the hub timed out after SMS.ru took it): the retry gets SMS.ru's repeat
    refusal (231), which means the message went."""
    sms_ru, url = fake
    gateway = SmsRu(url, API_ID, **FAST)
    first = gateway.send(PHONE, "Order 1001 is confirmed", "k")
    assert gateway.send(PHONE, "Order 1001 is confirmed", "k") == REPEAT_ID
    assert [m["sms_id"] for m in sms_ru.messages] == [first]
    gateway.send(PHONE, "Order 1001 has shipped", "k2")
    assert len(sms_ru.messages) == 2
