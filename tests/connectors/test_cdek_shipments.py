"""CDEK shipments as the order actions drive them, against a fake CDEK that holds every request to the spec
(shared/partners/specs/cdek.json and what tests/support/spec_supplements/cdek.json adds from CDEK's docs):
register with packages from the catalog, follow the asynchronous request to SUCCESSFUL (cdek_number) or
INVALID (CDEK's reasons), the receipt's link, delete on cancel; transient failures vs permanent ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from catalog.domain.packages import packages
from catalog.domain.products import ProductIn
from partners.clients.cdek import CdekClient, CdekInvalid, Recipient, Shipment, shipment_request
from partners.clients.http import PartnerRejected, PartnerUnavailable
from tests.fakes.partners import FakeCdek
from tests.fakes.server import serve
from tests.support.partner_specs import spec

FAST = {"timeout": 0.5, "max_backoff": 0.05}
CDEK = {"client_id": "cdek-id", "client_secret": "cdek-secret"}
CATALOG = {
    "MUG-1": ProductIn(name="Кружка", weight_grams=420, length_mm=120, width_mm=95, height_mm=101),
    "TEA-9": ProductIn(
        name="Чай", barcodes=["4601234567893"], weight_grams=250, length_mm=160, width_mm=60, height_mm=60
    ),
}


@dataclass(frozen=True)
class Line:
    sku: str
    qty: int
    price: Decimal


def no_wait(_: float) -> None:
    """Polls in a test do not sleep: the fake settles on its reads, not on time."""


def order(number: str) -> dict[str, Any]:
    """An online-store shipment (type 1) whose packages come from the catalog."""
    lines = [Line("MUG-1", 2, Decimal("990.00")), Line("TEA-9", 1, Decimal("350.5"))]
    return shipment_request(
        number,
        packages(number, lines, CATALOG),
        tariff_code=136,
        recipient=Recipient("Anna", "+79165551234"),
        origin="MSK123",
        destination={"city": "Москва", "address": "ул. Тверская, 1"},
    )


@pytest.fixture
def cdek() -> Iterator[tuple[FakeCdek, CdekClient]]:
    fake = FakeCdek()
    with serve(fake.app()) as url:
        yield fake, CdekClient(url, CDEK, **FAST)


def test_a_shipment_is_registered_followed_to_its_cdek_number_and_its_receipt_link(
    cdek: tuple[FakeCdek, CdekClient],
) -> None:
    fake, client = cdek
    fake.settle_after, fake.label_after = 3, 2
    registered = client.register(order("ord_1"))
    assert registered == Shipment("uuid-1", "ACCEPTED")
    (sent,) = fake.orders
    assert sent["packages"][0]["weight"] == 2 * 420 + 250 and sent["packages"][0]["number"] == "ord_1-1"
    assert client.shipment("uuid-1").state == "ACCEPTED"  # CDEK is still checking it
    followed = client.follow("uuid-1", sleep=no_wait)
    assert (followed.state, followed.cdek_number) == ("SUCCESSFUL", "1106000001")
    assert client.find("ord_1") == followed  # the hub's order id finds the same shipment
    assert client.find("ord_2") is None
    assert client.label("uuid-1", sleep=no_wait) == "https://api.cdek.ru/v2/print/orders/print-1.pdf"
    assert fake.calls("/v2/print/orders") == [{"orders": [{"order_uuid": "uuid-1"}], "copy_count": 2}]
    assert client.tokens_fetched == 1


def test_an_order_cdek_refuses_at_once_or_after_checking_it_is_permanent_with_cdeks_reasons(
    cdek: tuple[FakeCdek, CdekClient],
) -> None:
    fake, client = cdek
    fake.invalid_numbers = {"ord_bad"}
    with pytest.raises(CdekInvalid) as at_once:
        client.register(order("ord_bad"))
    assert at_once.value.errors == [("v2_field_is_empty", "recipient.phones is empty")]
    fake.invalid_later = {"ord_late": ("v2_invalid_tariff", "tariff 136 is not available on this route")}
    client.register(order("ord_late"))
    with pytest.raises(CdekInvalid, match="v2_invalid_tariff: tariff 136 is not available") as later:
        client.follow("uuid-1", sleep=no_wait)
    assert isinstance(later.value, PartnerRejected)


def test_a_request_cdek_has_not_settled_is_transient_and_followed_again_later(
    cdek: tuple[FakeCdek, CdekClient],
) -> None:
    fake, client = cdek
    fake.settle_after, fake.label_after = 4, 3
    client.register(order("ord_1"))
    waited: list[float] = []
    with pytest.raises(PartnerUnavailable):
        client.follow("uuid-1", polls=2, interval=0.5, sleep=waited.append)
    assert waited == [0.5]  # one wait between the two reads
    with pytest.raises(PartnerUnavailable):
        client.label("uuid-1", polls=2, sleep=no_wait)
    assert client.follow("uuid-1", polls=2, sleep=no_wait).state == "SUCCESSFUL"
    assert client.label("uuid-1", polls=3, sleep=no_wait).endswith(".pdf")


@pytest.mark.parametrize("fault", [500, 502, 503, 429, "timeout"])
def test_an_outage_is_retried_and_an_outage_that_lasts_is_partner_unavailable(
    cdek: tuple[FakeCdek, CdekClient], fault: int | str
) -> None:
    fake, client = cdek
    client._bearer()  # the token first, so that the faults hit the calls below
    fake.fail(fault, retry_after=0 if fault == 429 else None)
    assert client.register(order("ord_1")).uuid == "uuid-1"
    fake.fail(fault, times=5)
    with pytest.raises(PartnerUnavailable):
        client.shipment("uuid-1")
    assert len(fake.orders) == 1


def test_an_expired_token_is_fetched_again_once_and_a_refused_fresh_one_is_a_rejection(
    cdek: tuple[FakeCdek, CdekClient],
) -> None:
    fake, client = cdek
    client.register(order("ord_1"))
    fake.revoke()  # expires before its stated expiry
    assert client.follow("uuid-1", sleep=no_wait).state == "SUCCESSFUL"
    assert client.tokens_fetched == 2
    fake.refuse_tokens()  # the account's rights withdrawn: every new token is refused
    before = len(fake.requests)
    with pytest.raises(PartnerRejected, match="freshly fetched token"):
        client.delete("uuid-1")
    paths = [path for _, path, _ in fake.requests[before:]]
    assert paths == ["/v2/orders/uuid-1", "/v2/oauth/token", "/v2/orders/uuid-1"]  # refetched once, not more
    assert fake.deleted == []


def test_a_cancelled_shipment_is_deleted_once_and_one_cdek_already_holds_is_refused(
    cdek: tuple[FakeCdek, CdekClient],
) -> None:
    fake, client = cdek
    client.register(order("ord_1"))
    client.register(order("ord_2"))
    client.delete("uuid-1")
    client.delete("uuid-1")  # already gone: a repeated cancel changes nothing
    assert fake.deleted == ["uuid-1"]
    fake.handed_over = {"uuid-2"}
    with pytest.raises(CdekInvalid, match="v2_order_not_deletable"):
        client.delete("uuid-2")
    assert "uuid-2" in fake.entities


def test_a_shipment_request_goes_from_an_office_or_an_address_to_a_pick_up_point_or_an_address() -> None:
    packed = packages("ord_1", [Line("MUG-1", 1, Decimal(1))], CATALOG)
    to_point = shipment_request(
        "ord_1", packed, tariff_code=136, recipient=Recipient("A", "+7"), origin="MSK1", destination="MSK4"
    )
    assert (to_point["type"], to_point["shipment_point"], to_point["delivery_point"]) == (1, "MSK1", "MSK4")
    assert not {"from_location", "to_location"} & set(to_point)
    to_door = shipment_request(
        "ord_1", packed, tariff_code=137, recipient=Recipient("A", "+7"), origin={"code": 44}, destination={"code": 137}
    )
    assert (to_door["from_location"], to_door["to_location"]) == ({"code": 44}, {"code": 137})
    assert not {"shipment_point", "delivery_point"} & set(to_door)
    cdek = spec("cdek")
    assert cdek.violations(cdek.schema("AddOrder"), to_point, "AddOrder") == []
    assert cdek.violations(cdek.schema("AddOrder"), to_door, "AddOrder") == []
    assert cdek.violations(cdek.schema("AddOrder"), {**to_door, "packages": []}, "AddOrder")  # the check can fail


def test_a_bad_client_secret_is_a_rejection_and_sends_no_order() -> None:
    fake = FakeCdek()
    with serve(fake.app()) as url, pytest.raises(PartnerRejected, match="token"):
        CdekClient(url, {**CDEK, "client_secret": "bad"}, **FAST).register(order("ord_1"))
    assert fake.orders == []
