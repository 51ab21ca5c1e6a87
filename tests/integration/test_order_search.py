"""Finding orders as a call-centre operator does: by id, channel number, phone or e-mail (orders.use_cases.search),
against orders taken over HTTP. No phone or e-mail is stored as a key."""

from __future__ import annotations

import os

import boto3
import pytest

from common.errors import Unprocessable
from orders.use_cases.search import find_orders
from tests.support.api import Api
from tests.support.builders import courier_order


def _ids(text: str, limit: int = 10, cursor: str | None = None) -> tuple[list[str], str | None]:
    found = find_orders(text, limit, cursor)
    return [o.order_id for o in found["items"]], found["next_cursor"]


@pytest.fixture
def taken(shop: Api) -> tuple[Api, list[str]]:
    """Three orders of Anna (the second without her e-mail) and one of Boris."""
    ids = []
    for n, customer in enumerate(
        [
            {"name": "Anna", "phone": "+7 916 555-12-34", "email": "Anna.Petrova@Example.ru"},
            {"name": "Anna", "phone": "8 (916) 555 12 34"},
            {"name": "Anna", "phone": "9165551234", "email": "anna.petrova@example.ru"},
            {"name": "Boris", "phone": "+7 903 111-22-33", "email": "boris@example.ru"},
        ]
    ):
        order = courier_order(f"site-{n}", lines=[{"sku": "SKU-A", "qty": 1, "price": 10}], customer=customer)
        ids.append(shop.post("/v1/orders", order).body["order_id"])
    return shop, ids


def test_a_phone_however_written_finds_its_orders_newest_first_page_by_page(taken: tuple[Api, list[str]]) -> None:
    _, ids = taken
    first, cursor = _ids("+79165551234", limit=2)
    assert first == [ids[2], ids[1]] and cursor
    rest, last = _ids("+79165551234", limit=2, cursor=cursor)
    assert rest == [ids[0]] and last is None
    assert _ids("8 916 555-12-34")[0] == [ids[2], ids[1], ids[0]]


def test_an_email_in_any_case_finds_only_the_orders_with_it(taken: tuple[Api, list[str]]) -> None:
    _, ids = taken
    assert _ids(" ANNA.PETROVA@example.RU ")[0] == [ids[2], ids[0]]
    assert _ids("boris@example.ru")[0] == [ids[3]]
    assert _ids("nobody@example.ru")[0] == []


def test_the_hub_id_and_the_channels_number_find_the_order(taken: tuple[Api, list[str]]) -> None:
    _, ids = taken
    assert _ids(ids[1])[0] == [ids[1]]
    assert _ids("site-3")[0] == [ids[3]]
    assert _ids("site-9")[0] == []


def test_no_contact_is_a_key_of_the_orders_table(taken: tuple[Api, list[str]]) -> None:
    table = os.environ["ORDERS_TABLE"]
    keys = [item["pk"]["S"] for item in boto3.client("dynamodb").scan(TableName=table)["Items"]]
    lookups = [k for k in keys if k.startswith("LOOKUP#")]
    assert len(lookups) == 7  # phone x4 (one each), e-mail x3
    assert not [k for k in keys if "9165551234" in k or "example" in k.lower()]


@pytest.mark.parametrize("text", ["", "   ", "x" * 255])
def test_an_empty_or_overlong_query_is_refused(taken: tuple[Api, list[str]], text: str) -> None:
    with pytest.raises(Unprocessable):
        find_orders(text, 10, None)
