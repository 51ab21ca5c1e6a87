"""Each store's queue is its own: read from the store work table the orders' stream keeps, so a store sees its
orders however many older ones other stores have, an order moves section as it moves status, and a rebuild
writes the entries of orders the stream never saw."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from admin.pages import store as store_pages
from oms_local.cognito import PoolUser
from oms_local.runtime import LocalHub
from tests.support.admin_page import FORM, form_login
from tests.support.api import Api
from tests.support.builders import click_collect_order

STORES = ("store-a", "store-b")


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    monkeypatch.setattr(store_pages, "QUEUE_PAGE", 2)  # two orders a section: "older ones" need only three
    with LocalHub() as running:
        api = Api(running)
        for store in STORES:
            body = {"name": store, "kind": "store", "capabilities": ["click_collect", "reserve_in_store"]}
            assert api.put(f"/v1/locations/{store}", body).status == 200
            assert api.put(f"/v1/stock/{store}", {"items": [{"sku": "SKU-A", "on_hand": 20}]}).status == 200
        assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
        for store in STORES:
            running.cognito.add_user(
                PoolUser(f"staff-{store}", "Store-staff-pass-1", ("store_staff",), {"custom:location_ids": store})
            )
        yield running


def _confirmed(api: Api, external_id: str, store: str) -> str:
    answer = api.post("/v1/orders", click_collect_order(external_id, store))
    assert answer.status == 201 and answer.body["allocations"][0]["location_id"] == store, answer.body
    order_id = str(answer.body["order_id"])
    api.event(order_id, "confirm")
    api.wait_for(order_id, "confirmed")
    return order_id


def _queue(hub: LocalHub, store: str) -> dict[str, list[str]]:
    """The external ids in each section of the store's queue, as its staff's browser fetches the part."""
    status, headers = form_login(hub, f"staff-{store}", "Store-staff-pass-1")
    assert status == 303
    cookie = headers["Set-Cookie"].split(";")[0]
    answer = hub.http("GET", "/admin/store/queue", query="lang=en", headers={**FORM, "cookie": cookie})
    assert answer.status == 200, answer.body[:300]
    html = answer.body.decode()
    sections: dict[str, list[str]] = {}
    for part in html.split('<section class="queue"')[1:]:
        section = re.search(r'aria-labelledby="q-([a-z_]+)"', part).group(1)  # type: ignore[union-attr]
        sections[section] = re.findall(r'href="[^"]*/admin/store/orders/[^"]+">([^<]+)</a>', part)
    return sections


def test_a_store_sees_its_orders_however_many_older_ones_other_stores_have(hub: LocalHub) -> None:
    api = Api(hub)
    elsewhere = [_confirmed(api, f"b-{n}", "store-b") for n in range(3)]
    _confirmed(api, "a-1", "store-a")
    hub.settle()
    assert _queue(hub, "store-a")["to_pick"] == ["a-1"]
    assert _queue(hub, "store-b")["to_pick"] == ["b-0", "b-1"]  # the two oldest: the page holds two

    api.event(elsewhere[0], "pick")
    api.wait_for(elsewhere[0], "picked")
    hub.settle()
    queue = _queue(hub, "store-b")
    assert (queue["to_pick"], queue["to_pack"]) == (["b-1", "b-2"], ["b-0"])
    api.event(elsewhere[0], "cancel")
    api.wait_for(elsewhere[0], "cancelled")
    hub.settle()
    assert _queue(hub, "store-b")["to_pack"] == []
    assert _queue(hub, "store-a")["to_pick"] == ["a-1"]


def test_a_store_never_sees_another_stores_order_even_from_a_stale_entry(hub: LocalHub) -> None:
    api = Api(hub)
    order_id = _confirmed(api, "b-1", "store-b")
    hub.settle()
    # An entry for store-a the stream would never write (as if left behind by a reallocation).
    table = boto3.resource("dynamodb").Table(hub.template.tables["StoreWorkTable"]["TableName"])
    [entry] = table.query(
        KeyConditionExpression="#q = :q",
        ExpressionAttributeNames={"#q": "queue"},
        ExpressionAttributeValues={":q": "store-b#confirmed"},
    )["Items"]
    table.put_item(Item={**entry, "queue": "store-a#confirmed"})
    assert _queue(hub, "store-a")["to_pick"] == []
    assert _queue(hub, "store-b")["to_pick"] == ["b-1"]
    assert api.order(order_id)["status"] == "confirmed"


def test_a_rebuild_writes_the_entries_of_orders_the_stream_never_saw_and_changes_nothing_twice(hub: LocalHub) -> None:
    api = Api(hub)
    _confirmed(api, "a-1", "store-a")
    _confirmed(api, "b-1", "store-b")
    hub.settle()
    table = boto3.resource("dynamodb").Table(hub.template.tables["StoreWorkTable"]["TableName"])
    kept: list[dict[str, Any]] = table.scan()["Items"]  # the test's own look at the whole table
    assert sorted(item["queue"] for item in kept) == ["store-a#confirmed", "store-b#confirmed"]
    for item in kept:  # a deployment upgraded with these orders already open: no entries yet
        table.delete_item(Key={"queue": item["queue"], "created_key": item["created_key"]})
    assert _queue(hub, "store-a")["to_pick"] == []

    assert hub.invoke("StoreWorkFunction", {"rebuild": True}) == {"rebuilt": 2}
    assert hub.invoke("StoreWorkFunction", {"rebuild": True}) == {"rebuilt": 2}
    assert sorted(table.scan()["Items"], key=lambda i: i["queue"]) == sorted(kept, key=lambda i: i["queue"])
    assert _queue(hub, "store-a")["to_pick"] == ["a-1"]
