"""What staff are told of an SLA tier: the webhook's JSON and a signature a receiver can check by the documented
recipe, the staff emails in each language for each tier kind, and which contacts a role uses at a location."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from notifications.adapters.default_templates import staff_defaults
from reference.models import Language, RoleContacts, WebhookIn
from sla_monitor.domain.messages import (
    EVENT_TYPES,
    SlaMessage,
    TierKind,
    email_values,
    order_link,
    signed_headers,
    webhook_body,
)

LINK = "https://admin.shop.example/admin/orders/ord_1"


FIELDS: dict[str, Any] = {
    "order_id": "ord_1",
    "status": "picked",
    "channel": "web",
    "location_id": "msk-1",
    "role": "store_staff",
    "due_at": "2026-12-03T10:00:00.000Z",
}


def message(kind: TierKind = "warn", overdue_seconds: int = -900, **changes: Any) -> SlaMessage:
    return SlaMessage(kind=kind, overdue_seconds=overdue_seconds, **{**FIELDS, **changes})


def test_the_signature_is_the_hmac_of_the_timestamp_a_dot_and_the_raw_body() -> None:
    body = webhook_body(message("breach", 61), LINK)
    headers = signed_headers("whsec-0123456789abcdef", body, 1_796_000_000)
    recipe = hmac.new(b"whsec-0123456789abcdef", b"1796000000." + body, hashlib.sha256).hexdigest()
    assert headers == {
        "Content-Type": "application/json",
        "X-OmsHub-Timestamp": "1796000000",
        "X-OmsHub-Signature": f"sha256={recipe}",
    }
    assert signed_headers("another-secret-value", body, 1_796_000_000) != headers
    assert signed_headers("whsec-0123456789abcdef", body, 1_796_000_001) != headers  # the time is signed too
    assert json.loads(body) == {"type": "sla.breached", **FIELDS, "overdue_seconds": 61, "link": LINK}


def test_the_link_follows_the_deployments_pattern_else_the_api_path() -> None:
    assert order_link("https://admin.shop.example/admin/orders/{order_id}", "ord_1") == LINK
    assert order_link("", "ord_1") == "/v1/orders/ord_1"


@pytest.mark.parametrize("language", get_args(Language))
@pytest.mark.parametrize("kind", get_args(TierKind))
def test_every_tier_kind_has_an_email_in_each_language(kind: TierKind, language: Language) -> None:
    email = staff_defaults().email(language, kind, email_values(message(kind), LINK))
    assert "ord_1" in email.subject and "\n" not in email.subject
    assert email.text is not None and "picked" in email.text and LINK in email.text and "msk-1" in email.text
    assert email.html is not None and f'lang="{language}"' in email.html and f'href="{LINK}"' in email.html
    assert "{{" not in email.subject + email.text + email.html and "{%" not in email.text + email.html
    assert {f"sla.{word}" for word in ("warned", "escalated", "breached")} == set(EVENT_TYPES.values())


def test_minutes_left_before_the_deadline_and_over_after_it() -> None:
    before = staff_defaults().email("ru", "warn", email_values(message("warn", -900), LINK))
    assert before.subject == "Заказ ord_1: срок статуса picked через 15 мин"
    assert "Срок: 2026-12-03 10:00 UTC, осталось 15 мин." in (before.text or "")
    after = staff_defaults().email("en", "escalate", email_values(message("escalate", 1800), LINK))
    assert "Deadline 2026-12-03 10:00 UTC, passed 30 min ago." in (after.text or "")
    due_now = staff_defaults().email("en", "warn", email_values(message("warn", 0), LINK))
    assert due_now.subject == "Order ord_1: picked is due now"


def test_html_is_escaped() -> None:
    email = staff_defaults().email("en", "breach", email_values(message("breach", 60, channel="<b>x</b>"), LINK))
    assert "&lt;b&gt;x&lt;/b&gt;" in (email.html or "") and "<b>x</b>" in (email.text or "")


def test_a_store_role_uses_its_locations_entry_else_its_own_and_other_roles_always_their_own() -> None:
    entry = {"emails": ["msk@shop.example"], "webhook": None}
    store = RoleContacts(role="store_staff", emails=["all@shop.example"], locations={"msk-1": entry})
    assert (store.scope_for("msk-1"), store.told_for("msk-1").emails) == ("msk-1", ["msk@shop.example"])
    assert (store.scope_for("spb-2"), store.told_for("spb-2").emails) == (None, ["all@shop.example"])
    assert store.scope_for(None) is None
    ops = RoleContacts(role="ops", emails=["ops@shop.example"], locations={"msk-1": entry})
    assert (ops.scope_for("msk-1"), ops.told_for("msk-1").emails) == (None, ["ops@shop.example"])


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("https://chat.shop.example/hooks/1", True),
        ("http://127.0.0.1:8081/relay", True),
        ("http://localhost/relay", True),
        ("http://chat.shop.example/hooks/1", False),
        ("http://10.0.0.5/relay", False),
        ("ftp://127.0.0.1/relay", False),
    ],
)
def test_a_webhook_is_https_except_to_this_machine(url: str, taken: bool) -> None:
    if taken:
        assert str(WebhookIn(url=url, secret="whsec-0123456789abcdef").url).startswith(url)
    else:
        with pytest.raises(ValidationError):
            WebhookIn(url=url, secret="whsec-0123456789abcdef")
