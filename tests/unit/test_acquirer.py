"""The acquirer client against the fake acquirer on 127.0.0.1: retries on 429/5xx honouring Retry-After,
no retry on other errors, and a typed error once retries run out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from partners.clients.acquirer import AcquirerUnavailable
from partners.clients.acquirer_client import ATTEMPTS, Acquirer
from tests.fakes.acquirer import API_KEY, FakeAcquirer, Served


@pytest.fixture
def fake() -> Iterator[FakeAcquirer]:
    acquirer = FakeAcquirer()
    with Served(acquirer):
        yield acquirer


def test_a_link_is_idempotent_per_attempt(fake: FakeAcquirer) -> None:
    client = Acquirer(fake.url, API_KEY)
    first = client.payment_link("ord_1", Decimal("10.5"), attempt=1)
    assert client.payment_link("ord_1", Decimal("10.5"), attempt=1) == first
    assert client.payment_link("ord_1", Decimal("10.5"), attempt=2) != first
    assert fake.requests[0]["body"] == {"order_id": "ord_1", "amount": "10.50"}
    assert fake.requests[0]["authorization"] == f"Bearer {API_KEY}"


def test_retry_after_is_honoured(fake: FakeAcquirer) -> None:
    fake.fail_next(429, retry_after="1")
    started = time.monotonic()
    assert Acquirer(fake.url, API_KEY).refund("ord_2", "pay_1", Decimal(3)).startswith("ref_")
    assert time.monotonic() - started >= 1
    assert len(fake.served("/v1/refunds")) == 2


def test_server_errors_are_retried_until_the_attempts_run_out(fake: FakeAcquirer) -> None:
    fake.fail_next(503, retry_after="0", times=ATTEMPTS)
    with pytest.raises(AcquirerUnavailable) as failed:
        Acquirer(fake.url, API_KEY).refund("ord_3", "pay_1", Decimal(3))
    assert failed.value.body()["error"] == "acquirer_unavailable"
    assert len(fake.requests) == ATTEMPTS


def test_a_refused_request_is_not_retried(fake: FakeAcquirer) -> None:
    with pytest.raises(AcquirerUnavailable):
        Acquirer(fake.url, "wrong-key").refund("ord_4", "pay_1", Decimal(3))
    assert len(fake.requests) == 1
