"""Staff notifications of SLA tiers on a local hub: roles' contacts set over HTTP as an operator does, then
`notify_role` called as the SLA monitor calls it. Email read back from SES in moto, webhook posts taken by a
receiver on 127.0.0.1 that verifies them as the docs say a receiver should. A store role is told through its
location's entry, else the role's own; 5xx and timeouts answer False (retried), a 4xx True and one error
line; no log line carries an address or the secret."""

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

from common import config
from sla_monitor.adapters import webhook
from sla_monitor.domain.messages import SlaMessage
from sla_monitor.use_cases.notify import notify_role
from tests.fakes.server import serve
from tests.fakes.staff_webhook import PATH, Answer, FakeStaffWebhook
from tests.support.api import Api

SENDER = "sla@shop.example"
SECRET = "whsec-0123456789abcdef"
STORE_EMAIL, DUTY_EMAIL = "msk-store.team@shop.example", "duty.manager@shop.example"


@pytest.fixture
def receiver() -> Iterator[FakeStaffWebhook]:
    fake = FakeStaffWebhook(SECRET)
    with serve(fake.app()) as url:
        fake.url = url + PATH  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def staff(api: Api) -> Iterator[Api]:
    """The stack's NotifyEmailFrom verified in SES; two stores."""
    os.environ["NOTIFY_EMAIL_FROM"] = SENDER
    config.settings.cache_clear()
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    for store in ("msk-1", "spb-2"):
        assert api.put(f"/v1/locations/{store}", {"name": store, "kind": "store"}).status == 200
    yield api
    config.settings.cache_clear()


def sent_emails(api: Api) -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][api.hub.template.region].sent_messages)


def message(
    kind: str = "warn", role: str = "store_staff", location_id: str | None = "msk-1", **changes: Any
) -> SlaMessage:
    fields: dict[str, Any] = {
        "kind": kind,
        "order_id": "ord_0123456789abcdef01234567",
        "status": "confirmed",
        "channel": "web",
        "location_id": location_id,
        "role": role,
        "due_at": "2026-12-03T10:00:00.000Z",
        "overdue_seconds": -900,
    }
    return SlaMessage(**{**fields, **changes})


def contacts(api: Api, role: str, body: dict[str, Any]) -> None:
    answer = api.put(f"/v1/roles/{role}/contacts", body)
    assert answer.status == 200, answer.body


def test_a_store_role_is_told_through_its_locations_entry_else_the_roles_own(
    staff: Api, receiver: FakeStaffWebhook
) -> None:
    hook = {"url": receiver.url, "secret": SECRET}  # type: ignore[attr-defined]
    contacts(
        staff,
        "store_staff",
        {"emails": [DUTY_EMAIL], "locations": {"msk-1": {"emails": [STORE_EMAIL], "webhook": hook}}},
    )

    assert notify_role("store_staff", "msk-1", message()) is True
    [email] = sent_emails(staff)
    assert (email.source, email.destinations["ToAddresses"]) == (SENDER, [STORE_EMAIL])
    assert email.subject == "Заказ ord_0123456789abcdef01234567: срок статуса confirmed через 15 мин"
    assert "2026-12-03 10:00 UTC" in email.body and "/v1/orders/ord_0123456789abcdef01234567" in email.body
    assert receiver.received == [
        {
            "type": "sla.warned",
            "order_id": "ord_0123456789abcdef01234567",
            "status": "confirmed",
            "channel": "web",
            "location_id": "msk-1",
            "role": "store_staff",
            "due_at": "2026-12-03T10:00:00.000Z",
            "overdue_seconds": -900,
            "link": "/v1/orders/ord_0123456789abcdef01234567",
        }
    ]

    # Another store has no entry: the role's own addresses, and no webhook (the role has none).
    assert notify_role("store_staff", "spb-2", message("breach", location_id="spb-2", overdue_seconds=120)) is True
    assert sent_emails(staff)[1].destinations["ToAddresses"] == [DUTY_EMAIL]
    assert len(receiver.received) == 1


def test_a_role_in_english_with_the_deployments_order_link(staff: Api, receiver: FakeStaffWebhook) -> None:
    os.environ["ORDER_LINK"] = "https://admin.shop.example/admin/orders/{order_id}"
    config.settings.cache_clear()
    hook = {"url": receiver.url, "secret": SECRET}  # type: ignore[attr-defined]
    contacts(staff, "ops", {"emails": [DUTY_EMAIL, "ops@shop.example"], "webhook": hook, "language": "en"})

    assert notify_role("ops", "msk-1", message("escalate", role="ops", overdue_seconds=1800)) is True
    [email] = sent_emails(staff)  # one message to the whole team
    assert email.destinations["ToAddresses"] == [DUTY_EMAIL, "ops@shop.example"]
    assert email.subject == "Escalated: order ord_0123456789abcdef01234567 is still confirmed"
    assert "passed 30 min ago" in email.body
    [post] = receiver.received
    assert (post["type"], post["link"]) == (
        "sla.escalated",
        "https://admin.shop.example/admin/orders/ord_0123456789abcdef01234567",
    )
    os.environ.pop("ORDER_LINK")


def test_nothing_configured_is_true_and_sends_nothing(staff: Api, receiver: FakeStaffWebhook) -> None:
    assert notify_role("ops", None, message(role="ops", location_id=None)) is True
    contacts(staff, "store_manager", {"emails": []})
    assert notify_role("store_manager", "msk-1", message(role="store_manager")) is True
    assert sent_emails(staff) == [] and receiver.posts == 0


def test_an_unreachable_receiver_is_false_and_a_refusing_one_true_and_logged_once(
    staff: Api, receiver: FakeStaffWebhook, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(webhook, "TIMEOUT", 0.3)
    contacts(staff, "ops", {"emails": [], "webhook": {"url": receiver.url, "secret": SECRET}})  # type: ignore[attr-defined]
    tier = message("breach", role="ops", overdue_seconds=60)

    receiver.answer_next(Answer(status=503))
    assert notify_role("ops", "msk-1", tier) is False
    receiver.answer_next(Answer(delay_s=1.0))
    assert notify_role("ops", "msk-1", tier) is False
    receiver.answer_next(Answer(status=429))  # "not now"
    assert notify_role("ops", "msk-1", tier) is False
    assert notify_role("ops", "msk-1", tier) is True  # the retry that gets through
    assert len(receiver.received) == 1

    receiver.answer_next(Answer(status=400))
    assert notify_role("ops", "msk-1", tier) is True  # it will not take this form later either
    refused = [r for r in caplog.records if r.getMessage() == "staff notification refused"]
    assert [(r.medium, r.reason) for r in refused] == [("webhook", "HTTP 400")]  # type: ignore[attr-defined]
    retried = [r.reason for r in caplog.records if getattr(r, "outcome", None) == "transient_failure"]  # type: ignore[attr-defined]
    assert retried == ["HTTP 503", "timed out", "HTTP 429"]

    # A receiver that is gone altogether: the connection is refused.
    contacts(staff, "ops", {"emails": [], "webhook": {"url": "http://127.0.0.1:9/hooks/sla"}})
    assert notify_role("ops", "msk-1", tier) is False


def test_a_sender_ses_refuses_is_true_and_email_off_sends_none(staff: Api, receiver: FakeStaffWebhook) -> None:
    hook = {"url": receiver.url, "secret": SECRET}  # type: ignore[attr-defined]
    contacts(staff, "ops", {"emails": [DUTY_EMAIL], "webhook": hook})
    os.environ["NOTIFY_EMAIL_FROM"] = "unverified@shop.example"
    config.settings.cache_clear()
    assert notify_role("ops", None, message(role="ops", location_id=None)) is True  # an operator must verify it
    os.environ["NOTIFY_EMAIL_FROM"] = ""  # the stack's default: email off
    config.settings.cache_clear()
    assert notify_role("ops", None, message(role="ops", location_id=None)) is True
    assert sent_emails(staff) == [] and len(receiver.received) == 2  # the webhook went both times


def test_logs_carry_no_address_and_no_secret(
    staff: Api, receiver: FakeStaffWebhook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the functions' level; the SDK's DEBUG dumps hold whole requests
    hook = {"url": receiver.url, "secret": SECRET}  # type: ignore[attr-defined]
    contacts(
        staff,
        "store_staff",
        {"emails": [DUTY_EMAIL], "locations": {"msk-1": {"emails": [STORE_EMAIL], "webhook": hook}}},
    )
    receiver.answer_next(Answer(status=500))
    notify_role("store_staff", "msk-1", message())
    notify_role("store_staff", "spb-2", message(location_id="spb-2"))
    logged = " ".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    assert "m***@shop.example" in logged and "d***@shop.example" in logged  # masked
    for private in (STORE_EMAIL, DUTY_EMAIL, SECRET, "msk-store.team", receiver.url):  # type: ignore[attr-defined]
        assert private not in logged
