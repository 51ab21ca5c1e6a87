"""Connector mappings and webhook rules, pure: partner shapes in, canonical events out."""

from __future__ import annotations

import ipaddress
from decimal import Decimal

import pytest

from partners.clients import cdek, ozon, wildberries, yandex_market
from partners.clients.base import BadPayload, NewOrder, Ping, ShipByChange, StatusChange, parse_json
from partners.clients.registry import MODULES, connector_for
from partners.domain.inbound import authentic, order_in, source_allowed
from tests.support.sample_events import load_event


def test_every_partner_module_is_registered_under_its_kind() -> None:
    assert {connector_for(kind).kind for kind in ("ozon", "wildberries", "yandex_market", "cdek")} == {
        "ozon",
        "wildberries",
        "yandex_market",
        "cdek",
    }
    assert len(MODULES) == 4 and connector_for("web") is None


def test_ozon_messages_map_to_canonical_events() -> None:
    assert ozon.parse(load_event("ozon_ping.json"), "") == [Ping()]
    [new] = ozon.parse(load_event("ozon_new_posting.json"), "")
    assert isinstance(new, NewOrder) and new.external_id == "24219509-0020-1"
    # Ozon's push carries no price: the order is completed from the posting (`lookup`) before it is created
    assert new.lines[0].sku == "SKU-A" and new.lookup
    [cancel] = ozon.parse(load_event("ozon_posting_cancelled.json"), "")
    assert isinstance(cancel, StatusChange) and cancel.event == "cancel"
    [delivered] = ozon.parse(load_event("ozon_state_changed.json"), "")
    assert delivered.event == "deliver" and delivered.event_id != cancel.event_id
    [cutoff] = ozon.parse(load_event("ozon_cutoff_date_changed.json"), "")
    assert isinstance(cutoff, ShipByChange) and cutoff.ship_by.hour == 15
    assert ozon.parse({"message_type": "TYPE_STOCKS_CHANGED"}, "") == []


def test_an_ozon_status_push_without_its_documented_optional_time_is_still_a_status() -> None:
    # Ozon's docs mark only message_type and posting_number required
    untimed = {k: v for k, v in load_event("ozon_state_changed.json").items() if k != "changed_state_date"}
    [change] = ozon.parse(untimed, "")
    assert isinstance(change, StatusChange) and change.at is None and change.event == "deliver"
    assert change.event_id == "state:24219509-0020-1:posting_delivered:"


def test_the_same_posting_has_the_same_identity_from_push_and_poll() -> None:
    [pushed] = ozon.parse(load_event("ozon_new_posting.json"), "")
    polled = NewOrder("24219509-0020-1", ())
    assert pushed.event_id == polled.event_id


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message_type": 5},
        {"message_type": "TYPE_NEW_POSTING"},
        {**load_event("ozon_new_posting.json"), "products": [{"sku": 1}]},
    ],
)
def test_ozon_shapes_that_do_not_match_are_bad_payloads(body: dict) -> None:
    with pytest.raises(BadPayload):
        ozon.parse(body, "")


def test_other_partners_map_their_statuses_through_one_table() -> None:
    [ym] = yandex_market.parse(load_event("ym_order_status_updated.json"), "notification")
    assert ym.event == yandex_market.STATUS_EVENTS["CANCELLED"] == "cancel"
    [courier] = cdek.parse(load_event("cdek_order_status.json"), "")
    assert courier.order_id == "ORDER-ID" and courier.event == cdek.STATUS_EVENTS["DELIVERED"] == "deliver"
    task = wildberries.AssemblyTask.model_validate(load_event("wb_orders_new.json")["orders"][0])
    assert task.new_order().lines[0].price == Decimal("1190")
    assert wildberries.TaskStatus(id=1, supplierStatus="complete", wbStatus="sold").change().event == "deliver"


def test_partner_json_must_be_an_object() -> None:
    for raw in (b"", b"[]", b"{oops", b"\xff"):
        with pytest.raises(BadPayload):
            parse_json(raw)


def test_webhook_auth_token_or_signature_and_never_without_a_secret() -> None:
    assert authentic("s3cret-token", token="s3cret-token", signature=None, body=b"{}")
    assert not authentic("s3cret-token", token="s3cret-tokeN", signature=None, body=b"{}")
    assert not authentic(None, token="", signature=None, body=b"{}")
    assert not authentic("", token="", signature=None, body=b"{}")
    # a signature header, when sent, is what counts (a leaked token in the URL does not help)
    assert not authentic("s3cret-token", token="s3cret-token", signature="sha256=00", body=b"{}")


def test_source_allow_list() -> None:
    ranges = [ipaddress.ip_network("5.45.192.0/18"), ipaddress.ip_network("2a02:6b8::/32")]
    assert source_allowed("5.45.207.10", ranges) and source_allowed("2a02:6b8::1", ranges)
    assert not source_allowed("203.0.113.9", ranges) and not source_allowed("garbage", ranges)
    assert source_allowed("203.0.113.9", [])


def test_a_marketplace_order_ships_through_the_marketplace_by_its_deadline() -> None:
    [new] = ozon.parse(load_event("ozon_new_posting.json"), "")
    order = order_in("ozon", "ozon", new)
    assert order.delivery.method == "marketplace" and order.payment.method == "prepaid"
    assert order.ship_by == new.ship_by and order.external_id == new.external_id
