"""Orders by the customer's phone or e-mail: lookup items in the orders table, written with the order.

A lookup item is keyed `LOOKUP#<digest>#<order_id>` (orders.domain.contacts: an HMAC under the hub's lookup
key, an SSM SecureString) and carries `entity = LOOKUP#<digest>` and the order's `created_key`, so one
contact's orders are a partition of the ByCreated index, newest first: a Query, never a Scan, and no
phone or e-mail is ever a key. Intake writes them from now on; orders taken before a hub had them are not
found by contact (a new deployment needs no backfill). Marketplace orders carry no customer contact (the
marketplaces keep it), so partner intake writes none and never reads the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common import aws, secrets
from common.config import settings
from common.dynamo import TransactItem, batch_get, to_item
from orders.adapters.listing import IndexPartition, Page, newest_first
from orders.domain.contacts import contact_keys, digest
from orders.domain.models import Customer

_PREFIX = "LOOKUP#"


def _parameter() -> str:
    name = settings().lookup_key_parameter
    if not name:
        raise LookupError("LOOKUP_KEY_PARAMETER is not configured")
    return name


def hub_key() -> bytes:
    """The lookup key, created by whoever needs it first (it also makes the pickup codes)."""
    return secrets.generated_secret(_parameter()).encode()


def lookup_items(order: dict[str, Any]) -> list[TransactItem]:
    """One item per contact of the order's customer, for the intake transaction (a retry writes the same).
    The first order with a contact creates the key."""
    contacts = contact_keys(Customer.model_validate(order["customer"]))
    if not contacts:
        return []
    key = hub_key()
    items: list[TransactItem] = []
    for contact in contacts:
        partition = _PREFIX + digest(key, contact)
        item = {
            "pk": f"{partition}#{order['order_id']}",
            "entity": partition,
            "created_key": order["created_key"],
        }
        items.append({"Put": {"TableName": settings().orders_table, "Item": to_item(item)}})
    return items


def orders_with_contact(contact: str, limit: int, cursor: str | None) -> Page:
    """The orders of a normalised contact, newest first: one Query of its partition, one BatchGetItem.
    No key yet means no order was ever written with a contact: nothing to find, and nothing created."""
    key = secrets.secret(_parameter())
    if key is None:
        return Page([], None)
    partition = _PREFIX + digest(key.encode(), contact)
    page = newest_first(IndexPartition(settings().orders_table, "pk", "ByCreated", "entity", partition), limit, cursor)
    # The index holds keys only: the order id is the lookup key's last part.
    ids = [item["pk"].rsplit("#", 1)[-1] for item in page.items]
    by_id = {row["order_id"]: row for row in orders_by_id(ids)}
    return Page([by_id[i] for i in ids if i in by_id], page.next_cursor)


def orders_by_id(order_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The orders of these ids that exist, in no particular order: one BatchGetItem per 100."""
    return batch_get(aws.dynamodb(), settings().orders_table, [{"pk": f"ORDER#{i}"} for i in order_ids])
