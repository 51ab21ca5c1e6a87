"""A marketplace channel's offer identities over HTTP on the local hub: the bulk mapping, its listing, the
refusals that change nothing, one offer id per SKU, and the dirty marks that make the push send the new
identities (and every SKU's value when the channel's partner warehouses change)."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.support.api import Api
from tests.support.aws_calls import dynamodb_calls
from tests.support.dirty_marks import clear_dirty, dirty

OFFERS = "/v1/channels/ozon/offers"


def _ozon(api: Api, warehouses: list[dict[str, Any]] | None = None) -> None:
    body = {"kind": "ozon", "name": "Ozon", "warehouses": warehouses or []}
    assert api.put("/v1/channels/ozon", body).status == 200


@pytest.fixture
def ozon(api: Api) -> Api:
    """Locations wh-1 and wh-2 with SKU-A..SKU-E, channels ozon (wh-1 feeds partner warehouse 101) and wb."""
    for location in ("wh-1", "wh-2"):
        assert api.put(f"/v1/locations/{location}", {"name": location, "kind": "warehouse"}).status == 200
    _ozon(api, [{"partner_warehouse_id": "101", "locations": ["wh-1"]}])
    assert api.put("/v1/channels/wb", {"kind": "wildberries", "name": "WB"}).status == 200
    skus = [{"sku": f"SKU-{c}", "on_hand": 5} for c in "ABCDE"]
    assert api.put("/v1/stock/wh-1", {"items": skus}).status == 200
    assert api.put("/v1/stock/wh-2", {"items": skus[:2]}).status == 200
    clear_dirty(api)
    return api


def _table() -> list[dict[str, Any]]:
    """Every item of ChannelOffersTable (mappings and claims), as plain text: what a refusal must not change."""
    items = boto3.client("dynamodb").scan(TableName=os.environ["CHANNEL_OFFERS_TABLE"])["Items"]
    return sorted(({k: next(iter(v.values())) for k, v in item.items()} for item in items), key=str)


def _listed(api: Api, channel: str = "ozon", limit: int = 1000) -> list[dict[str, Any]]:
    answer = api.get(f"/v1/channels/{channel}/offers", f"limit={limit}")
    assert answer.status == 200, answer.body
    return [{k: v for k, v in item.items() if k != "updated_at"} for item in answer.body["items"]]


def test_a_mapping_is_written_listed_in_sku_order_and_the_same_request_again_changes_nothing(ozon: Api) -> None:
    body = {"items": [{"sku": "SKU-C", "offer_id": "art-c"}, {"sku": "SKU-A", "offer_id": "Артикул 1"}]}
    first = ozon.put(OFFERS, body)
    assert (first.status, first.body) == (200, {"written": 2, "unchanged": 0})
    assert _listed(ozon) == [
        {"sku": "SKU-A", "offer_id": "Артикул 1", "chrtId": None},
        {"sku": "SKU-C", "offer_id": "art-c", "chrtId": None},
    ]
    stored = _table()
    with dynamodb_calls() as made:
        again = ozon.put(OFFERS, body)
    assert (again.status, again.body) == (200, {"written": 0, "unchanged": 2})
    assert _table() == stored
    assert "TransactWriteItems" not in {call.operation for call in made}


def test_the_list_pages_with_signed_cursors_that_fit_only_their_channel(ozon: Api) -> None:
    skus = [f"SKU-{n:03d}" for n in range(25)]
    assert ozon.put(OFFERS, {"items": [{"sku": s, "offer_id": f"o-{s}"} for s in reversed(skus)]}).status == 200
    seen, cursor, pages = [], None, 0
    while True:
        answer = ozon.get(OFFERS, "limit=10" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status == 200, answer.body
        seen += [item["sku"] for item in answer.body["items"]]
        pages += 1
        cursor = answer.body["next_cursor"]
        if cursor is None:
            break
        foreign = ozon.get("/v1/channels/wb/offers", f"cursor={cursor}")
        assert foreign.status == 422 and foreign.body["details"][0]["loc"] == ["query", "cursor"]
        forged = ozon.get(OFFERS, f"cursor={cursor[:-2]}xx")
        assert forged.status == 422
    assert seen == skus and pages == 3
    assert ozon.get(OFFERS, "limit=0").status == 422
    assert ozon.get("/v1/channels/nope/offers").status == 404


def test_a_removed_mapping_offers_the_sku_under_its_own_name_again(ozon: Api) -> None:
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-A", "offer_id": "art-a"}]}).body["written"] == 1
    removed = ozon.put(OFFERS, {"items": [{"sku": "SKU-A", "offer_id": None}, {"sku": "SKU-B"}]})
    assert removed.body == {"written": 1, "unchanged": 1}  # SKU-B had no mapping
    assert _listed(ozon) == []
    assert _table() == []  # the claim on art-a went with the mapping
    # art-a is free again for another SKU; an offer id equal to the SKU is its own name: no mapping
    assert ozon.put(
        OFFERS, {"items": [{"sku": "SKU-C", "offer_id": "art-a"}, {"sku": "SKU-D", "offer_id": "SKU-D"}]}
    ).body == {
        "written": 1,
        "unchanged": 1,
    }


@pytest.mark.parametrize(
    ("items", "loc"),
    [
        ([{"sku": "SKU-A", "offer_id": ""}], ["body", "items", 0, "offer_id"]),
        ([{"sku": "SKU-A", "offer_id": " padded"}], ["body", "items", 0, "offer_id"]),
        ([{"sku": "SKU-A", "offer_id": "x" * 256}], ["body", "items", 0, "offer_id"]),
        ([{"sku": "SKU-A", "offer_id": "a\u202eb"}], ["body", "items", 0, "offer_id"]),
        ([{"sku": "SKU A", "offer_id": "a"}], ["body", "items", 0, "sku"]),
        ([{"sku": "SKU-A", "offer_id": "a", "price": 1}], ["body", "items", 0, "price"]),
        ([{"sku": "SKU-A", "offer_id": 7}], ["body", "items", 0, "offer_id"]),
        ([{"sku": "SKU-A", "offer_id": "a"}, {"sku": "SKU-A", "offer_id": "b"}], ["body", "items", 1, "sku"]),
        (
            [{"sku": "SKU-A", "offer_id": "same"}, {"sku": "SKU-B", "offer_id": "same"}],
            ["body", "items", 1, "offer_id"],
        ),
        # unmapped, SKU-B is offered as "SKU-B": SKU-A may not take that name in the same request
        ([{"sku": "SKU-B"}, {"sku": "SKU-A", "offer_id": "SKU-B"}], ["body", "items", 1, "offer_id"]),
        ([{"sku": "SKU-A", "chrtId": 5}], ["body", "items", 0, "chrtId"]),
        ([], ["body", "items"]),
        ([{"sku": f"S-{n}", "offer_id": f"o-{n}"} for n in range(1001)], ["body", "items"]),
    ],
)
def test_bad_items_are_refused_naming_the_field_and_nothing_changes(
    ozon: Api, items: list[dict[str, Any]], loc: list[Any]
) -> None:
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-E", "offer_id": "art-e"}]}).status == 200
    before = _table()
    clear_dirty(ozon)
    answer = ozon.put(OFFERS, {"items": items})
    assert answer.status == 422, answer.body
    assert answer.body["error"] == "validation_error"
    assert loc in [detail["loc"] for detail in answer.body["details"]]
    assert _table() == before
    assert dirty(ozon, "ozon") == set()


def test_wildberries_needs_a_chrt_id_per_mapping_and_one_sku_per_chrt_id(ozon: Api) -> None:
    path = "/v1/channels/wb/offers"
    missing = ozon.put(path, {"items": [{"sku": "SKU-A", "offer_id": "wb-a"}]})
    assert missing.status == 422 and missing.body["details"][0]["loc"] == ["body", "items", 0, "chrtId"]
    for chrt in (0, -1, True, "12", 1.5):
        assert ozon.put(path, {"items": [{"sku": "SKU-A", "chrtId": chrt}]}).status == 422
    assert ozon.put(path, {"items": [{"sku": "SKU-A", "chrtId": 111}]}).body == {"written": 1, "unchanged": 0}
    taken = ozon.put(path, {"items": [{"sku": "SKU-B", "chrtId": 111}]})
    assert taken.status == 422 and "SKU-A" in taken.body["details"][0]["msg"]
    assert _listed(ozon, "wb") == [{"sku": "SKU-A", "offer_id": "SKU-A", "chrtId": 111}]
    assert _listed(ozon) == []  # another channel's mappings are its own


def test_an_offer_id_another_sku_is_pushed_under_is_refused_and_a_swap_in_one_request_is_taken(ozon: Api) -> None:
    two = {"items": [{"sku": "SKU-A", "offer_id": "x"}, {"sku": "SKU-B", "offer_id": "y"}]}
    assert ozon.put(OFFERS, two).status == 200
    before = _table()
    taken = ozon.put(OFFERS, {"items": [{"sku": "SKU-C", "offer_id": "z"}, {"sku": "SKU-D", "offer_id": "x"}]})
    assert taken.status == 422
    assert taken.body["details"] == [
        {"loc": ["body", "items", 1, "offer_id"], "msg": "offer_id 'x' is SKU 'SKU-A''s on this channel"}
    ]
    assert _table() == before  # SKU-C's valid item is not written either
    # SKU-E is stocked and unmapped, so the channel is pushed "SKU-E" for it: nobody else may take that name
    named = ozon.put(OFFERS, {"items": [{"sku": "SKU-D", "offer_id": "SKU-E"}]})
    assert named.status == 422 and "SKU 'SKU-E' is offered under that name" in named.body["details"][0]["msg"]
    # SKU-A is pushed as "x": its name is free for SKU-C, and then SKU-A cannot go back to it
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-C", "offer_id": "SKU-A"}]}).body["written"] == 1
    back = ozon.put(OFFERS, {"items": [{"sku": "SKU-A", "offer_id": None}]})
    assert back.status == 422 and "SKU 'SKU-C''s offer_id" in back.body["details"][0]["msg"]
    # A name no SKU of the channel is offered under is free
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-D", "offer_id": "SKU-Z"}]}).body["written"] == 1
    swap = ozon.put(OFFERS, {"items": [{"sku": "SKU-A", "offer_id": "y"}, {"sku": "SKU-B", "offer_id": "x"}]})
    assert swap.body == {"written": 2, "unchanged": 0}
    assert _listed(ozon) == [
        {"sku": "SKU-A", "offer_id": "y", "chrtId": None},
        {"sku": "SKU-B", "offer_id": "x", "chrtId": None},
        {"sku": "SKU-C", "offer_id": "SKU-A", "chrtId": None},
        {"sku": "SKU-D", "offer_id": "SKU-Z", "chrtId": None},
    ]
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-E", "offer_id": "x"}]}).status == 422  # the claims moved too
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-E", "offer_id": "SKU-B"}]}).status == 200


def test_unknown_channel_is_404_and_changes_nothing(ozon: Api) -> None:
    answer = ozon.put("/v1/channels/nope/offers", {"items": [{"sku": "SKU-A", "offer_id": "a"}]})
    assert answer.status == 404 and answer.body["error"] == "not_found"
    assert _table() == []


def test_marks_are_written_for_the_skus_whose_identity_changed_only(ozon: Api) -> None:
    assert (
        ozon.put(OFFERS, {"items": [{"sku": "SKU-A", "offer_id": "a"}, {"sku": "SKU-B", "offer_id": "b"}]}).status
        == 200
    )
    assert dirty(ozon, "ozon") == {"SKU-A", "SKU-B"}
    assert dirty(ozon, "wb") == set()
    clear_dirty(ozon)
    answer = ozon.put(
        OFFERS,
        {"items": [{"sku": "SKU-A", "offer_id": "a"}, {"sku": "SKU-B", "offer_id": "b2"}, {"sku": "SKU-C"}]},
    )
    assert answer.body == {"written": 1, "unchanged": 2}
    assert dirty(ozon, "ozon") == {"SKU-B"}
    clear_dirty(ozon)
    assert ozon.put(OFFERS, {"items": [{"sku": "SKU-B", "offer_id": None}]}).body["written"] == 1
    assert dirty(ozon, "ozon") == {"SKU-B"}


def test_a_change_of_the_channels_warehouses_marks_every_sku_of_the_channel(ozon: Api) -> None:
    ozon.hub.settle()
    clear_dirty(ozon)
    _ozon(ozon, [{"partner_warehouse_id": "101", "locations": ["wh-1"]}])  # the same warehouses again
    assert dirty(ozon, "ozon") == set()
    _ozon(ozon, [{"partner_warehouse_id": "101", "locations": ["wh-1", "wh-2"]}])
    assert dirty(ozon, "ozon") == {f"SKU-{c}" for c in "ABCDE"}
    assert dirty(ozon, "wb") == set()
    clear_dirty(ozon)
    _ozon(ozon, [])
    assert dirty(ozon, "ozon") == {f"SKU-{c}" for c in "ABCDE"}
