"""Every connector held to the partners' published specs (shared/partners/specs, read by
tests.support.partner_specs): the fixtures hold only what partners send, every documented push parses and
is answered in the partner's own format over HTTP, Ozon postings are priced from Ozon before they become
orders, Market's cancellation is timed by its own field, and a request outside a spec fails its test."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from partners.clients import cdek, ozon, yandex_market
from partners.clients.base import NewOrder, Ping, ShipByChange, StatusChange
from partners.clients.http import PartnerHttp, PartnerRejected
from tests.fakes.partners import FakeOzon, FakeWildberries
from tests.fakes.server import serve
from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.partner_specs import spec
from tests.support.partners import CDEK_TOKEN, OZON_TOKEN, YM_ADDRESS, YM_TOKEN, push
from tests.support.sample_events import load_event
from tests.support.waiting import settled

# Fixtures standing for partner messages: a push (checked against the schema its discriminator names)
# or an API answer (method, path, status).
FIXTURES: dict[str, tuple[str, tuple[str, str, int] | None]] = {
    "ozon_ping.json": ("ozon", None),
    "ozon_new_posting.json": ("ozon", None),
    "ozon_posting_cancelled.json": ("ozon", None),
    "ozon_state_changed.json": ("ozon", None),
    "ozon_cutoff_date_changed.json": ("ozon", None),
    "ozon_unfulfilled_list.json": ("ozon", ("POST", "/v3/posting/fbs/unfulfilled/list", 200)),
    "wb_orders_new.json": ("wildberries", ("GET", "/api/v3/orders/new", 200)),
    "ym_ping.json": ("yandex_market", None),
    "ym_order_created.json": ("yandex_market", None),
    "ym_order_status_updated.json": ("yandex_market", None),
    "ym_order_cancelled.json": ("yandex_market", None),
    "cdek_order_status.json": ("cdek", None),
}
PARSERS = {"ozon": ozon.parse, "cdek": cdek.parse, "yandex_market": yandex_market.parse}
DOCS_OFFER_ID = "Товар2"  # noqa: RUF001 - the offer id of Ozon's Russian docs example is Cyrillic


def _examples(partner: str) -> list[tuple[str, dict[str, Any]]]:
    found = list(spec(partner).inbound_examples())
    return found + [
        (f"docs-2025-09 swagger example {n}", body)
        for n, body in enumerate(spec(partner).inbound.get("docs_2025_09_new_posting_example", []))
    ]


EXAMPLES = [(partner, name, body) for partner in ("ozon", "cdek") for name, body in _examples(partner)]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_fixture_holds_only_what_the_partner_documents(name: str) -> None:
    partner, answer = FIXTURES[name]
    body = load_event(name)
    if answer is None:
        problems = spec(partner).inbound_violations(body, strict=True)
    else:
        problems = spec(partner).violations(spec(partner).response_schema(*answer), body, name, strict=True)
    assert problems == []


def test_every_partner_fixture_is_checked() -> None:
    from tests.support.sample_events import EVENTS

    partner_files = {p.name for p in EVENTS.glob("*.json")} - {"order_courier.json"}  # the hub's own order
    assert partner_files == set(FIXTURES)


@pytest.mark.parametrize(("partner", "name", "body"), EXAMPLES, ids=[f"{p}: {n}" for p, n, _ in EXAMPLES])
def test_every_documented_push_is_valid_and_parses(partner: str, name: str, body: dict[str, Any]) -> None:
    if body[spec(partner).inbound["discriminator"]] in spec(partner).inbound["mapping"]:
        assert spec(partner).inbound_violations(body) == []  # (chat and product pushes have no schema)
    events = PARSERS[partner](body, "")
    kind = body.get("message_type") or body.get("type")
    expected: dict[str, list[type]] = {
        "TYPE_PING": [Ping],
        "TYPE_NEW_POSTING": [NewOrder],
        "TYPE_POSTING_CANCELLED": [StatusChange],
        "TYPE_STATE_CHANGED": [StatusChange],
        # a removed cut-off (new_cutoff_date null) changes nothing
        "TYPE_CUTOFF_DATE_CHANGED": [ShipByChange] if body.get("new_cutoff_date") else [],
        "ORDER_STATUS": [StatusChange],
    }
    assert [type(e) for e in events] == expected.get(kind, [])
    for event in events:
        if isinstance(event, NewOrder):
            assert event.lookup  # no prices in the push: the posting is read from Ozon before the order exists
        if isinstance(event, StatusChange) and partner == "cdek":
            assert event.order_id == body["attributes"]["number"] and event.at is not None


def _reply_kind(status: int, body: Any) -> str:
    if status != 200:
        return "error"
    return "ping" if isinstance(body, dict) and "version" in body else "processed"


def test_every_documented_ozon_push_is_answered_in_ozons_format_over_http(
    hub: LocalHub, market: Api, fake_ozon: tuple[FakeOzon, str]
) -> None:
    fake, _ = fake_ozon
    fake.offers[147451939] = "SKU-A"  # the posting behind the English docs' push with offer_id ""
    created: dict[str, dict[str, Any]] = {}
    for n, (name, example) in enumerate(_examples("ozon")):
        body = example
        if body["message_type"] == "TYPE_NEW_POSTING":
            # The docs reuse one posting number; each example must be a new posting to be acted on.
            body = {**example, "posting_number": f"{example['posting_number']}-{n}"}
        answer = push(hub, "ozon", body, token=OZON_TOKEN)
        assert answer.status == 200, (name, answer.body)
        assert spec("ozon").reply_violations(_reply_kind(answer.status, answer.body), answer.body) == [], name
        if body["message_type"] == "TYPE_NEW_POSTING":
            created[name] = market.wait_for(
                order_id_for("ozon", body["posting_number"]),
                "reserved" if body["products"][0].get("offer_id", "") in ("", "SKU-A") else "on_hold",
            )
    # Lines are the posting's (Ozon's offer ids and prices), whatever the push left empty.
    assert {n: o["lines"] for n, o in created.items()} == {
        "docs-later-ru TYPE_NEW_POSTING": [{"sku": DOCS_OFFER_ID, "qty": 1, "price": 1000.0}],
        'docs-later-en TYPE_NEW_POSTING (offer_id "")': [{"sku": "SKU-A", "qty": 1, "price": 1390.0}],
        "docs note: TYPE_NEW_POSTING in_process_at empty on late payment": [
            {"sku": DOCS_OFFER_ID, "qty": 1, "price": 1000.0}
        ],
        "docs-2025-09 swagger example 0": [{"sku": "SKU-A", "qty": 2, "price": 1390.0}],
    }
    assert len(fake.calls("/v3/posting/fbs/get")) == len(created)  # one read per new posting


def test_a_pushed_posting_is_priced_from_ozon_once_and_its_duplicate_reads_nothing(
    hub: LocalHub, market: Api, fake_ozon: tuple[FakeOzon, str]
) -> None:
    fake, _ = fake_ozon
    fake.prices["SKU-A"] = "1490.500000"
    pushed = load_event("ozon_new_posting.json")
    assert "price" not in pushed["products"][0]  # Ozon's push carries no price
    assert push(hub, "ozon", pushed, token=OZON_TOKEN).body == {"result": True}
    order = market.wait_for(order_id_for("ozon", pushed["posting_number"]), "reserved")
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 1490.5}]
    assert push(hub, "ozon", pushed, token=OZON_TOKEN).body == {"result": True}
    assert fake.calls("/v3/posting/fbs/get") == [{"posting_number": pushed["posting_number"]}]


def test_when_ozon_cannot_be_read_the_push_is_refused_as_retryable_and_nothing_is_created(
    hub: LocalHub, market: Api, fake_ozon: tuple[FakeOzon, str]
) -> None:
    fake, _ = fake_ozon
    pushed = load_event("ozon_new_posting.json")
    fake.fail(503, times=ozon.LOOKUP["attempts"])
    refused = push(hub, "ozon", pushed, token=OZON_TOKEN)
    assert refused.status == 409  # a 4xx: Ozon sends the push again; never a 5xx, never a price-0 order
    assert refused.body["error"]["code"] == "ERROR_UNKNOWN"
    assert refused.body["error"]["message"].startswith("partner_unavailable:")
    assert spec("ozon").reply_violations("error", refused.body) == []
    assert market.get("/v1/orders", "channel=ozon").body["items"] == []
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    # Ozon's retry, once its API answers again, creates the order with its prices
    assert push(hub, "ozon", pushed, token=OZON_TOKEN).body == {"result": True}
    order = market.wait_for(order_id_for("ozon", pushed["posting_number"]), "reserved")
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 1390.0}]


def test_a_channel_without_ozon_credentials_cannot_take_a_push_and_creates_nothing(hub: LocalHub, market: Api) -> None:
    assert (
        market.put("/v1/channels/ozon-2", {"kind": "ozon", "name": "Ozon, no API", "secret": OZON_TOKEN}).status == 200
    )
    refused = push(hub, "ozon-2", load_event("ozon_new_posting.json"), token=OZON_TOKEN)
    assert refused.status == 409 and refused.body["error"]["message"].startswith("partner_unavailable:")
    assert market.get("/v1/orders", "channel=ozon-2").body["items"] == []
    assert market.stock("SKU-A", "wh-1")["reserved"] == 0


def test_a_posting_whose_offer_ids_ozon_cannot_tell_either_is_refused_and_creates_nothing(
    hub: LocalHub, market: Api, fake_ozon: tuple[FakeOzon, str]
) -> None:
    fake, _ = fake_ozon
    fake.offers.clear()  # Ozon's posting has no offer id for the product either
    pushed = {**load_event("ozon_new_posting.json"), "products": [{"sku": 147451959, "offer_id": "", "quantity": 1}]}
    refused = push(hub, "ozon", pushed, token=OZON_TOKEN)
    assert refused.status == 422 and refused.body["error"]["message"].startswith("validation_error:")
    assert spec("ozon").reply_violations("error", refused.body) == []
    assert market.get("/v1/orders", "channel=ozon").body["items"] == []
    assert market.stock("SKU-A", "wh-1")["reserved"] == 0


def test_a_removed_cutoff_keeps_the_deadline(hub: LocalHub, market: Api) -> None:
    pushed = load_event("ozon_new_posting.json")
    push(hub, "ozon", pushed, token=OZON_TOKEN)
    order = market.wait_for(order_id_for("ozon", pushed["posting_number"]), "reserved")
    removed = {**load_event("ozon_cutoff_date_changed.json"), "new_cutoff_date": None}
    assert push(hub, "ozon", removed, token=OZON_TOKEN).body == {"result": True}
    assert market.order(order["order_id"])["ship_by"] == order["ship_by"] == "2026-11-26T10:00:00.000Z"
    assert market.order(order["order_id"])["timeline"] == order["timeline"]


# ------------------------------------------------------------------ Yandex Market


def _market(hub: LocalHub, body: dict[str, Any]) -> Any:
    return push(hub, "yandex", body, token=YM_TOKEN, path="/notification", source_ip=YM_ADDRESS)


def test_a_market_cancellation_is_timed_by_its_cancelled_at(hub: LocalHub, market: Api) -> None:
    created, cancelled = load_event("ym_order_created.json"), load_event("ym_order_cancelled.json")
    for order_id in (1001, 1002):
        assert _market(hub, {**created, "orderId": order_id}).status == 200
        settled(market, order_id_for("yandex", str(order_id)), "reserved", timeout=10.0)
        # Market told at 09:00 that the order is being packed (nothing to do in the hub) ...
        assert (
            _market(
                hub,
                {
                    **load_event("ym_order_status_updated.json"),
                    "orderId": order_id,
                    "status": "PROCESSING",
                    "substatus": "STARTED",
                    "updatedAt": "2026-11-25T09:00:00Z",
                },
            ).status
            == 200
        )
    # ... so a cancellation stamped 08:00 is older news; one stamped 10:00 is not
    assert _market(hub, {**cancelled, "orderId": 1001, "cancelledAt": "2026-11-25T08:00:00Z"}).status == 200
    assert _market(hub, {**cancelled, "orderId": 1002, "cancelledAt": "2026-11-25T10:00:00Z"}).status == 200
    settled(market, order_id_for("yandex", "1002"), "cancelled", timeout=10.0)
    time.sleep(0.5)  # the queue has applied (or ignored) the older one by now
    assert (
        settled(market, order_id_for("yandex", "1001"), "reserved", timeout=10.0)["timeline"][-1]["status"]
        == "reserved"
    )
    assert market.stock("SKU-A", "wh-1")["reserved"] == 1


def test_market_answers_are_in_markets_format(hub: LocalHub, market: Api) -> None:
    ping = _market(hub, load_event("ym_ping.json"))
    assert spec("yandex_market").reply_violations("ping", ping.body) == []
    processed = _market(hub, load_event("ym_order_created.json"))
    assert spec("yandex_market").reply_violations("processed", processed.body) == []
    bad = _market(hub, {"notificationType": "ORDER_CREATED", "campaignId": 1})
    assert bad.status == 400 and bad.body["error"]["type"] == "WRONG_EVENT_FORMAT"
    assert spec("yandex_market").reply_violations("error", bad.body) == []


# ------------------------------------------------------------------ CDEK


def test_cdeks_documented_webhook_moves_the_order_even_with_a_numeric_cdek_number(hub: LocalHub, market: Api) -> None:
    order_id = market.post("/v1/orders", courier_order("web-88")).body["order_id"]
    for event in ("confirm", "pick", "pack"):
        market.event(order_id, event)
    market.wait_for(order_id, "packed")
    [(_, documented)] = [(n, b) for n, b in spec("cdek").inbound_examples() if b["type"] == "ORDER_STATUS"]
    webhook = json.loads(json.dumps(documented))
    webhook["attributes"].update(number=order_id, cdek_number=1106207236)  # the spec allows string or integer
    assert spec("cdek").inbound_violations(webhook) == []
    assert push(hub, "cdek", webhook, token=CDEK_TOKEN).status == 200
    assert market.wait_for(order_id, "delivered")["timeline"][-1]["source"] == "partner:cdek"
    [(_, print_form)] = [(n, b) for n, b in spec("cdek").inbound_examples() if b["type"] == "PRINT_FORM"]
    assert push(hub, "cdek", print_form, token=CDEK_TOKEN).status == 200  # acknowledged, not acted on


# ------------------------------------------------------------------ the fakes enforce the specs


def test_a_request_outside_the_spec_is_refused_by_the_fake_and_fails_the_test() -> None:
    fake = FakeWildberries()
    with pytest.raises(AssertionError, match="deprecated operation"), serve(fake.app()) as url:
        http = PartnerHttp("wildberries", url, headers={"Authorization": "wb-token"}, attempts=1)
        with pytest.raises(PartnerRejected, match="HTTP 400"):
            http.request("PATCH", "/api/v3/supplies/WB-GI-1/orders/1")  # deprecated, scheduled for removal
        with pytest.raises(PartnerRejected, match="HTTP 400"):
            http.request(
                "PATCH", "/api/marketplace/v3/supplies/WB-GI-1/orders", json={"orders": list(range(1, 102))}
            )  # over the spec's maxItems (100)
        with pytest.raises(PartnerRejected, match="HTTP 400"):
            PartnerHttp("wildberries", url, attempts=1).request("GET", "/api/v3/orders/new")  # no token
    assert len(fake.violations) == 3
    assert any("maxItems" in v or "longer than 100" in v or "has more than 100" in v for v in fake.violations)
    assert any("security requirements" in v for v in fake.violations)
