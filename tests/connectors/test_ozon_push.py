"""Ozon push over HTTP into the real hub: orders, cancellations, statuses, deadlines, exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json

from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from tests.support.api import Api
from tests.support.partners import OZON_TOKEN, ozon, push
from tests.support.sample_events import load_event

POSTING = "24219509-0020-1"
ORDER = order_id_for("ozon", POSTING)


def _orders(api: Api) -> list[dict]:
    return api.get("/v1/orders", "channel=ozon").body["items"]


def test_ping_is_answered_with_version_name_and_time(hub: LocalHub, market: Api) -> None:
    answer = ozon(hub, "ozon_ping.json")
    assert answer.status == 200
    assert set(answer.body) == {"version", "name", "time"}


def test_a_posting_pushed_twice_becomes_one_reserved_order(hub: LocalHub, market: Api) -> None:
    first = ozon(hub, "ozon_new_posting.json")
    second = ozon(hub, "ozon_new_posting.json")
    assert first.status == second.status == 200
    assert first.body == second.body == {"result": True}
    order = market.wait_for(ORDER, "reserved")
    assert [o["order_id"] for o in _orders(market)] == [ORDER]
    assert order["external_id"] == POSTING
    assert order["delivery"]["method"] == "marketplace"
    assert order["ship_by"] == "2026-11-26T10:00:00.000Z"
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 1390.0}]
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 2, "available": 8}


def test_the_cancellation_releases_the_stock_and_its_duplicate_changes_nothing(hub: LocalHub, market: Api) -> None:
    ozon(hub, "ozon_new_posting.json")
    market.wait_for(ORDER, "reserved")
    assert ozon(hub, "ozon_posting_cancelled.json").body == {"result": True}
    order = market.wait_for(ORDER, "cancelled")
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert ozon(hub, "ozon_posting_cancelled.json").status == 200
    assert market.order(ORDER)["timeline"] == order["timeline"]
    assert order["timeline"][-1]["source"] == "partner:ozon"


def test_an_older_status_after_a_newer_one_changes_nothing(hub: LocalHub, market: Api) -> None:
    ozon(hub, "ozon_new_posting.json")
    market.wait_for(ORDER, "reserved")
    # Newer: Ozon took it into delivery at 09:00 (the hub tracks the packing itself, so no step here) ...
    assert (
        ozon(
            hub,
            "ozon_state_changed.json",
            new_state="posting_transferring_to_delivery",
            changed_state_date="2026-11-25T09:00:00Z",
        ).status
        == 200
    )
    # ... then a cancellation stamped 07:30 arrives late: it must not cancel the order.
    assert ozon(hub, "ozon_posting_cancelled.json").status == 200
    assert market.wait_for(ORDER, "reserved")["timeline"][-1]["status"] == "reserved"
    assert market.stock("SKU-A", "wh-1")["reserved"] == 2


def test_a_cancellation_before_its_posting_is_parked_and_applied_when_the_posting_arrives(
    hub: LocalHub, market: Api
) -> None:
    assert ozon(hub, "ozon_posting_cancelled.json").body == {"result": True}
    assert _orders(market) == []
    ozon(hub, "ozon_new_posting.json")
    market.wait_for(ORDER, "cancelled")
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_a_moved_cutoff_moves_the_sla_deadline(hub: LocalHub, market: Api) -> None:
    ozon(hub, "ozon_new_posting.json")
    market.wait_for(ORDER, "reserved")
    assert ozon(hub, "ozon_cutoff_date_changed.json").body == {"result": True}
    order = market.order(ORDER)
    assert order["ship_by"] == "2026-11-26T15:00:00.000Z"
    assert order["timeline"][-1]["event"] == "ship_by_changed"


def test_wrong_or_missing_credentials_are_refused_and_change_nothing(hub: LocalHub, market: Api) -> None:
    for token in ("wrong-token-123", "", None):
        answer = ozon(hub, "ozon_new_posting.json", token=token)
        assert answer.status == 401
        assert answer.body["error"]["code"] == "ERROR_UNKNOWN"  # Ozon's own vocabulary
        assert answer.body["error"]["message"].startswith("unauthorized:")
    unknown = push(hub, "no-such-channel", load_event("ozon_new_posting.json"), token=OZON_TOKEN)
    assert unknown.status == 401
    assert _orders(market) == []
    assert market.stock("SKU-A", "wh-1")["reserved"] == 0


def test_a_signed_push_is_checked_over_the_raw_body(hub: LocalHub, market: Api) -> None:
    raw = json.dumps(load_event("ozon_new_posting.json")).encode()
    good = "sha256=" + hmac.new(OZON_TOKEN.encode(), raw, hashlib.sha256).hexdigest()
    assert push(hub, "ozon", raw, headers={"X-Signature": "sha256=" + "0" * 64}).status == 401
    assert push(hub, "ozon", raw + b" ", headers={"X-Signature": good}).status == 401
    assert _orders(market) == []
    assert push(hub, "ozon", raw, headers={"X-Signature": good}).status == 200
    market.wait_for(ORDER, "reserved")


def test_a_malformed_push_is_a_400_in_ozon_format_and_changes_nothing(hub: LocalHub, market: Api) -> None:
    bad = ozon(hub, "ozon_new_posting.json", products=[])
    assert bad.status == 400
    assert bad.body["error"]["code"] == "ERROR_PARAMETER_VALUE_MISSED"
    assert bad.body["error"]["message"].startswith("bad_request:")
    assert json.loads(bad.body["error"]["details"])[0]["loc"] == ["TYPE_NEW_POSTING", "products"]
    not_json = push(hub, "ozon", b"{not json", token=OZON_TOKEN)
    assert not_json.status == 400
    assert _orders(market) == []
    # a type the hub does not act on is acknowledged
    assert ozon(hub, {"message_type": "TYPE_STOCKS_CHANGED", "seller_id": 15}).body == {"result": True}


def test_the_same_posting_retried_after_a_rejection_is_processed(hub: LocalHub, market: Api) -> None:
    bad_sku = ozon(hub, "ozon_new_posting.json", products=[{"sku": 1, "offer_id": "bad sku!", "quantity": 1}])
    assert bad_sku.status == 422 and bad_sku.body["error"]["message"].startswith("validation_error:")
    # the claim of the failed attempt was forgotten: Ozon's retry (fixed by the seller) goes through
    assert ozon(hub, "ozon_new_posting.json").status == 200
    market.wait_for(ORDER, "reserved")
