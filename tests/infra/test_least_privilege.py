"""Least privilege, checked against behaviour: every AWS call a principal makes in a full scenario
must be allowed by its role in template.yaml, and every grant must be used by some call.

Calls are attributed to the function whose handler runs on the calling thread (LocalHub knows), or
to the state machine's role when moto's ASL interpreter makes them. The IAM each call needs is
derived from the call itself (TransactWriteItems needs the per-item action on each table).
"""

from __future__ import annotations

import fnmatch
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from common import secrets
from oms_local import invocation, runtime
from oms_local.runtime import LocalHub
from oms_local.template import ACCOUNT
from tests.fakes.acquirer import API_KEY, WEBHOOK_SECRET, FakeAcquirer, Served, signed_callback
from tests.support.api import Api
from tests.support.builders import courier_order, one_warehouse
from tests.support.substitution import substitute

STATE_MACHINE = "LifecycleStateMachineRole"  # every lifecycle state machine runs with this role
# Granted on purpose but not exercised locally: log delivery and X-Ray are done by AWS for the role.
NOT_EXERCISED = {(STATE_MACHINE, "DeliverLogsAndTraces")}
BOTH_MEDIA = {"sms": True, "email": True}


def _dynamodb_needs(operation: str, params: dict[str, Any], region: str) -> list[tuple[str, str]]:
    table = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/"
    if operation == "TransactWriteItems":
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        return [
            (f"dynamodb:{kinds[kind]}", table + body["TableName"])
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table + name) for name in params["RequestItems"]]
    arn = table + params["TableName"] + (f"/index/{params['IndexName']}" if params.get("IndexName") else "")
    return [(f"dynamodb:{operation}", arn)]


def _needs(service: str, operation: str, params: dict[str, Any], region: str) -> list[tuple[str, str]]:  # noqa: PLR0911 - one rule per service
    if service == "dynamodb":
        return _dynamodb_needs(operation, params, region)
    if service == "stepfunctions":  # a start names its machine, a describe its execution; the others take a token
        named = params.get("stateMachineArn") or params.get("executionArn") or "*"
        return [(f"states:{operation}", named)]
    if service == "events" and operation == "PutEvents":
        return [
            ("events:PutEvents", f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{entry['EventBusName']}")
            for entry in params["Entries"]
        ]
    if service == "ssm":
        return [(f"ssm:{operation}", f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{params['Name']}")]
    if service == "sqs":
        return [(f"sqs:{operation}", f"arn:aws:sqs:{region}:{ACCOUNT}:{params['QueueUrl'].rsplit('/', 1)[-1]}")]
    if service == "sesv2" and operation == "SendEmail":  # the sending identity (the sender's address)
        return [("ses:SendEmail", f"arn:aws:ses:{region}:{ACCOUNT}:identity/{params['FromEmailAddress']}")]
    if service == "cognito-idp" and operation in ("InitiateAuth", "RespondToAuthChallenge"):
        return []  # a public app client's login and its challenges: Cognito checks them, IAM is not asked
    if service == "lambda" and operation == "Invoke":
        name = params["FunctionName"].split(":function:")[-1]
        return [("lambda:InvokeFunction", f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}")]
    raise AssertionError(f"no IAM rule for {service}.{operation}")


@pytest.fixture
def recorded() -> Iterator[tuple[LocalHub, list[tuple[str, str, str]]]]:
    calls: list[tuple[str, str, str]] = []
    main = threading.get_ident()
    hub = LocalHub(retry_time_scale=0.001, queue_retry_seconds=0)

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        principal = invocation.running_function()
        if principal is None and threading.get_ident() == main:
            return  # the test's own set-up calls
        if principal is not None and principal.startswith("event-source:"):
            return  # Lambda's SQS poller: SAM grants it (SQSPollerPolicy) with the event source
        principal = next(
            (fn.logical_id for fn in hub.template.functions.values() if fn.name == principal), STATE_MACHINE
        )
        for action, resource in _needs(model.service_model.service_name, model.name, params, hub.template.region):
            calls.append((principal, action, resource))

    with hub, Served(FakeAcquirer()) as acquirer_url:
        os.environ["ACQUIRER_URL"] = acquirer_url
        prefix = f"/{hub.template.stack}/acquirer/acquirer"
        secrets.put_secret(f"{prefix}/api_key", API_KEY)
        secrets.put_secret(f"{prefix}/webhook_secret", WEBHOOK_SECRET)
        # One process hosts every function here, so a config cache filled by one would hide the
        # others' reads: each function must be seen reading for itself, as in its own container.
        os.environ["CONFIG_CACHE_SECONDS"] = "0"
        session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
        session.events.register("before-parameter-build", record)
        runtime.forget_cached_clients()  # clients copy the session's hooks; settings re-read
        try:
            yield hub, calls
        finally:
            session.events.unregister("before-parameter-build", record)


def _allowed(statements: list[dict[str, Any]], action: str, resource: str) -> str | None:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if action in actions and any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
            return statement.get("Sid", action)
    return None


def _scenario(api: Api) -> None:
    one_warehouse(api, sku_units=0)
    api.get("/v1/locations")
    api.get("/v1/channels")
    hook = {"url": "https://chat.shop.example/sla", "secret": "whsec-0123456789abcdef"}
    assert api.put("/v1/roles/ops/contacts", {"emails": ["ops@shop.example"], "webhook": hook}).status == 200
    api.get("/v1/roles")
    api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 5}, {"sku": "SKU-B", "on_hand": 1}]})
    api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1}]})
    api.get("/v1/availability", "channel=web&skus=SKU-A,SKU-B")
    delivered = api.post("/v1/orders", courier_order("iam-1")).body["order_id"]
    api.post("/v1/orders", courier_order("iam-1"))
    for event in ["confirm", "pick", "pack", "ship", "deliver"]:
        api.event(delivered, event)
    api.wait_for(delivered, "delivered")
    assert (
        api.post(
            f"/v1/orders/{delivered}/returns",
            {"return_id": "r-1", "reason": "damaged", "location_id": "wh-1", "lines": [{"sku": "SKU-A", "qty": 1}]},
        ).status
        == 201
    )
    held = api.post("/v1/orders", courier_order("iam-2", lines=[{"sku": "SKU-B", "qty": 3, "price": 1}])).body
    api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": 5}]})
    api.event(held["order_id"], "reserve")
    api.wait_for(held["order_id"], "reserved")
    api.event(held["order_id"], "cancel")
    api.wait_for(held["order_id"], "cancelled")
    for query in ["", "status=cancelled", "channel=web", "status=delivered&channel=web", "limit=1"]:
        assert api.get("/v1/orders", query).status == 200
    api.get("/v1/tasks", "state=closed")
    api.get("/v1/workflows")


def _sourcing_scenario(api: Api) -> None:
    # Sourcing: an operator's substitutions (the task updated, then closed) and the delivery promise.
    lines = [
        {"sku": "SKU-A", "qty": 1, "price": 1},
        {"sku": "SKU-B", "qty": 9, "price": 1},
        {"sku": "SKU-C", "qty": 9, "price": 1},
    ]
    substituted = api.post("/v1/orders", courier_order("iam-8", lines=lines)).body["order_id"]
    substitute(api, substituted, {"sku": "SKU-B"})
    substitute(api, substituted, {"sku": "SKU-C"})
    api.wait_for(substituted, "reserved")
    api.put(
        "/v1/carriers/fast", {"name": "Fast", "delivery_methods": ["courier"], "transit_days": {"min": 1, "max": 2}}
    )
    api.get("/v1/carriers")
    cart = {"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}]}
    assert api.post("/v1/delivery-promise", cart).status == 200
    # A chain of 100 more stores: one Query per SKU is now cheaper than BatchGetItem of every pair.
    for n in range(100):
        api.put(f"/v1/locations/store-{n}", {"name": f"S{n}", "kind": "store", "capabilities": ["courier"]})
    api.get("/v1/availability", "channel=web&skus=SKU-A")
    assert api.post("/v1/delivery-promise", cart).status == 200


def _workflows_and_payments_scenario(api: Api) -> None:
    # Split allowed: the retry may look at every store, not only the one holding part of the order.
    api.put("/v1/channels/web", {"kind": "web", "name": "Site", "allow_split": True})
    short = api.post("/v1/orders", courier_order("iam-3", lines=[{"sku": "SKU-A", "qty": 9, "price": 1}])).body
    api.event(short["order_id"], "reserve")
    api.wait_for(short["order_id"], "on_hold")
    # Another workflow's machine, and a status whose on-entry actions go on the bus.
    api.put("/v1/locations/pp-wh", {"name": "PP", "kind": "warehouse", "capabilities": ["pickup_point"]})
    api.put("/v1/stock/pp-wh", {"items": [{"sku": "SKU-C", "on_hand": 1}]})
    parcel = api.post(
        "/v1/orders",
        courier_order("iam-4", lines=[{"sku": "SKU-C", "qty": 1, "price": 1}], delivery={"method": "pickup_point"}),
    ).body["order_id"]
    for event in ["confirm", "pick", "pack", "ship", "arrive"]:
        api.event(parcel, event)
    api.wait_for(parcel, "at_pickup_point")
    # Payments: the signed callback pays a pending order; cancelling it refunds through the acquirer.
    api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 2}]})
    prepaid = api.post("/v1/orders", courier_order("iam-5", payment={"method": "prepaid", "status": "pending"})).body
    raw, headers = signed_callback(
        {
            "event_id": "e1",
            "payment_id": "pay_9",
            "order_id": prepaid["order_id"],
            "status": "succeeded",
            "amount": 3980,
        }
    )
    assert api.call("POST", "/v1/payments/acquirer/callback", raw=raw, headers=headers).status == 200
    api.wait_for(prepaid["order_id"], "confirmed")
    api.event(prepaid["order_id"], "cancel")
    api.wait_for(prepaid["order_id"], "cancelled")


def _inventory_scenario(api: Api) -> None:
    # Inventory: a batch twice, a snapshot zeroing the unlisted SKUs; holds that the sweeper expires or keeps.
    batch = {"batch_id": "erp-1", "zero_unlisted": True, "items": [{"sku": "SKU-A", "on_hand": 30}]}
    api.put("/v1/stock/wh-1", batch)
    api.put("/v1/stock/wh-1", batch)
    soon = (datetime.now(UTC) + timedelta(milliseconds=200)).isoformat()
    expiring = api.post("/v1/orders", courier_order("iam-6", hold_until=soon)).body
    confirmed = api.post("/v1/orders", courier_order("iam-7", hold_until=soon)).body
    api.event(confirmed["order_id"], "confirm")
    api.wait_for(confirmed["order_id"], "confirmed")
    time.sleep(0.3)
    api.hub.fire_schedules("HoldSweeperFunction.Sweep")
    api.wait_for(expiring["order_id"], "expired")


def _offers_scenario(api: Api) -> None:
    # A marketplace channel's offer identities: mapped (one to a name no SKU of the channel is offered under),
    # one removed, listed page by page.
    api.put("/v1/channels/mp-offers", {"kind": "ozon", "name": "Ozon offers"})
    # As on a stack whose first list is of offers: this function creates the cursor key.
    boto3.client("ssm").delete_parameter(Name=os.environ["CURSOR_KEY_PARAMETER"])
    secrets.forget()
    path = "/v1/channels/mp-offers/offers"
    mapped = [
        {"sku": "SKU-A", "offer_id": "art-a"},
        {"sku": "SKU-B", "offer_id": "SKU-Z"},
        {"sku": "SKU-C", "offer_id": "art-c"},
    ]
    assert api.put(path, {"items": mapped}).status == 200
    assert api.put(path, {"items": [{"sku": "SKU-A", "offer_id": None}]}).status == 200
    page = api.get(path, "limit=1").body
    assert page["next_cursor"] and api.get(path, f"limit=1&cursor={page['next_cursor']}").status == 200


def _catalog_scenario(api: Api) -> None:
    # The product catalog: one product, a bulk put (and the same again: read, nothing written), one read,
    # the list page by page; the cursor key deleted first so that this function creates it.
    boto3.client("ssm").delete_parameter(Name=os.environ["CURSOR_KEY_PARAMETER"])
    secrets.forget()
    product = {"name": "Mug", "weight_grams": 420, "length_mm": 120, "width_mm": 95, "height_mm": 101}
    api.put("/v1/products/CAT-A", product)
    bulk = {"items": [{"sku": f"CAT-{n}", **product} for n in range(3)]}
    api.put("/v1/products", bulk)
    api.put("/v1/products", bulk)
    api.get("/v1/products/CAT-A")
    page = api.get("/v1/products", "limit=1").body
    assert page["next_cursor"] and api.get("/v1/products", f"limit=1&cursor={page['next_cursor']}").status == 200


def _stock_push_scenario(hub: LocalHub, api: Api) -> None:
    """A marketplace channel's stock pushed on a change (one offer refused: the task), in full on demand
    (the pair sent a moment ago is deferred: marked for the next changed push) and on the schedule."""
    from tests.fakes.partners import FakeOzon
    from tests.fakes.server import serve
    from tests.support.waiting import wait_until

    fake = FakeOzon()
    fake.catalog = {"SKU-A"}
    with serve(fake.app()) as url:
        api.put("/v1/locations/sp-wh", {"name": "SP", "kind": "warehouse", "capabilities": ["marketplace"]})
        api.put(
            "/v1/channels/ozon-stock",
            {
                "kind": "ozon",
                "name": "Ozon stock",
                "api_url": url,
                "credentials": {"Client-Id": "836", "Api-Key": "ozon-key"},
                "warehouses": [{"partner_warehouse_id": "77", "locations": ["sp-wh"]}],
            },
        )
        api.put("/v1/stock/sp-wh", {"items": [{"sku": "SKU-A", "on_hand": 4}, {"sku": "SKU-B", "on_hand": 2}]})
        wait_until(lambda: ("SKU-A", 77) in fake.stocks, what="the changed push")
        assert api.post("/v1/channels/ozon-stock/stock-push", {"mode": "full"}).status == 202

        def full_push_done() -> bool:
            hub.settle()
            pushes = api.get("/v1/channels/ozon-stock/stock-push").body["items"]
            return any(p["mode"] == "full" and p["state"] == "done" for p in pushes)

        wait_until(full_push_done, what="the full push")
        hub.fire_schedules("StockPushFunction.Reconcile")


def _partner_scenario(hub: LocalHub, api: Api) -> None:
    """Every connector entry point (webhook, partner queue, scheduled poll) taking new, short, cancelled
    and early (parked) orders, with few locations (BatchGetItem of stock) and then many (Query per SKU)."""
    from tests.fakes.partners import FakeOzon, FakeWildberries
    from tests.fakes.server import serve
    from tests.support.partners import OZON_TOKEN, YM_TOKEN, ozon, push
    from tests.support.sample_events import load_event

    # Ozon's API from the start: the hub reads each pushed posting (its prices) from it
    fake, wb, ozon_api = FakeOzon(), FakeWildberries(), ExitStack()
    url = ozon_api.enter_context(serve(fake.app()))
    api.put("/v1/locations/mp-1", {"name": "MP", "kind": "warehouse", "capabilities": ["marketplace"]})
    api.put("/v1/stock/mp-1", {"items": [{"sku": "SKU-A", "on_hand": 50}]})
    api.put(
        "/v1/channels/ozon",
        {
            "kind": "ozon",
            "name": "Ozon",
            "secret": OZON_TOKEN,
            "api_url": url,
            "credentials": {"Client-Id": "836", "Api-Key": "ozon-key"},
        },
    )
    api.put("/v1/channels/yandex", {"kind": "yandex_market", "name": "YM", "secret": YM_TOKEN})

    def posting(number: str, qty: int = 1) -> dict[str, Any]:
        return {
            **load_event("ozon_new_posting.json"),
            "posting_number": number,
            "products": [{"sku": 1, "offer_id": "SKU-A", "quantity": qty}],
        }

    def listed(number: str, qty: int = 1) -> dict[str, Any]:  # as unfulfilled/list has it: priced
        pushed = posting(number, qty)
        return {
            **pushed,
            "status": "awaiting_packaging",
            "products": [{**p, "price": "1390.000000"} for p in pushed["products"]],
        }

    def market(body: dict[str, Any]) -> None:
        assert push(hub, "yandex", body, token=YM_TOKEN, path="/notification").status == 200

    def ym_order(order_id: int, qty: int = 1) -> dict[str, Any]:
        return {
            **load_event("ym_order_created.json"),
            "orderId": order_id,
            "items": [{"offerId": "SKU-A", "count": qty}],
        }

    def ym_cancel(order_id: int) -> dict[str, Any]:
        return {**load_event("ym_order_status_updated.json"), "orderId": order_id}

    def settled(channel: str, count: int) -> None:
        deadline = time.monotonic() + 15
        while (
            len([o for o in api.get("/v1/orders", f"channel={channel}").body["items"] if not o.get("pending_event")])
            < count
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)

    # webhook: new, duplicate, short, cancelled, parked then created, moved cut-off
    for body in [
        posting("p-1"),
        posting("p-1"),
        posting("p-2", qty=500),
        {**load_event("ozon_posting_cancelled.json"), "posting_number": "p-1"},
        {**load_event("ozon_posting_cancelled.json"), "posting_number": "p-3"},
        posting("p-3"),
        {**load_event("ozon_cutoff_date_changed.json"), "posting_number": "p-2"},
        posting("bad", qty=1) | {"products": [{"sku": 1, "offer_id": "bad sku", "quantity": 1}]},
    ]:
        ozon(hub, body)
    # partner queue: the same
    market(ym_order(1))
    market(ym_order(2, qty=500))
    settled("yandex", 2)
    market(ym_cancel(1))
    market(ym_cancel(3))
    market(ym_order(3))
    settled("yandex", 3)
    # scheduled poll: a posting the push missed, with a cancellation already parked for it
    with ozon_api, serve(wb.app()) as wb_url:
        api.put(
            "/v1/channels/ozon",
            {
                "kind": "ozon",
                "name": "Ozon",
                "api_url": url,
                "credentials": {"Client-Id": "836", "Api-Key": "ozon-key"},
            },
        )
        api.put(
            "/v1/channels/wb",
            {"kind": "wildberries", "name": "WB", "api_url": wb_url, "credentials": {"token": "wb-token"}},
        )
        ozon(hub, {**load_event("ozon_posting_cancelled.json"), "posting_number": "p-4"})
        fake.postings = [listed("p-4"), listed("p-5", qty=500)]
        wb.new = load_event("wb_orders_new.json")["orders"]
        hub.invoke("PartnerPollFunction", {})
        wb.statuses[13833711] = ("cancel", "canceled_by_client")
        hub.invoke("PartnerPollFunction", {})
        # many marketplace locations: stock is read with one Query per SKU
        for n in range(101):
            api.put(f"/v1/locations/mp-s{n}", {"name": f"S{n}", "kind": "store", "capabilities": ["marketplace"]})
        ozon(hub, posting("p-6"))
        market(ym_order(6))
        settled("yandex", 4)
        fake.postings = [listed("p-7")]
        hub.invoke("PartnerPollFunction", {})


def _loyalty_provider(gateway: ExitStack) -> Any:
    """A fake loyalty provider at LOYALTY_URL, card 7000123412345678 with 10 points, its token at its parameter."""
    from loyalty.adapters.loymax import token_parameter
    from tests.fakes.loymax import TOKEN, FakeLoymax
    from tests.fakes.server import serve

    fake = FakeLoymax(balances={"7000123412345678": 10})
    os.environ["LOYALTY_URL"] = gateway.enter_context(serve(fake.app()))
    secrets.put_secret(token_parameter(), TOKEN)
    return fake


def _actions_scenario(api: Api) -> None:
    """OrderActionsFunction: a store's task, the parcel registered with CDEK (packages from the catalog),
    the customer's loyalty points held (the provider's token) and the customer told by SMS and email (ship
    from store), and a
    marketplace confirmation that fails transiently (its backoff), then for good (the operator task),
    reading the channel and its credentials."""
    from common.config import settings
    from notifications.adapters.sms_ru import api_id_parameter
    from tests.fakes.partners import FakeCdek, FakeOzon
    from tests.fakes.server import serve
    from tests.fakes.sms_ru import API_ID, FakeSmsRu
    from tests.support.waiting import wait_until

    sms_ru, sender, cdek = FakeSmsRu(), "orders@shop.example", FakeCdek()
    gateway = ExitStack()
    os.environ["SMS_GATEWAY_URL"] = gateway.enter_context(serve(sms_ru.app()))
    card, loyalty = "7000123412345678", _loyalty_provider(gateway)
    account = {
        "kind": "cdek",
        "name": "CDEK",
        "api_url": gateway.enter_context(serve(cdek.app())),
        "credentials": {"client_id": "cdek-id", "client_secret": "cdek-secret"},
        "warehouses": [{"partner_warehouse_id": "MSK5", "locations": ["sfs-1"]}],
    }
    api.put("/v1/channels/cdek-account", account)
    api.put("/v1/products/SKU-S", {"name": "S", "weight_grams": 100, "length_mm": 10, "width_mm": 10, "height_mm": 10})
    os.environ["NOTIFY_EMAIL_FROM"] = sender
    settings.cache_clear()
    secrets.put_secret(api_id_parameter(), API_ID)
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)

    api.put("/v1/locations/sfs-1", {"name": "Store", "kind": "store", "capabilities": ["ship_from_store"]})
    api.put("/v1/stock/sfs-1", {"items": [{"sku": "SKU-S", "on_hand": 2}]})
    store_order = api.post(
        "/v1/orders",
        courier_order(
            "iam-sfs",
            lines=[{"sku": "SKU-S", "qty": 1, "price": 1}],
            delivery={"method": "ship_from_store", "address": "Moscow", "location_id": "sfs-1"},
            customer={"name": "Anna", "phone": "+79165551234", "email": "anna@example.ru", "consent": BOTH_MEDIA},
            loyalty={"card": card, "redeem_points": 1},
        ),
    ).body["order_id"]
    held = ("loyalty_hold", "done")
    wait_until(lambda: held in {(a["name"], a["status"]) for a in api.order(store_order)["actions"]}, 20, "points held")
    for event in ("confirm", "pick", "pack", "ship"):
        api.event(store_order, event)
    fake = FakeOzon()
    with serve(fake.app()) as url:
        api.put("/v1/locations/mp-a", {"name": "MP", "kind": "warehouse", "capabilities": ["marketplace"]})
        api.put("/v1/stock/mp-a", {"items": [{"sku": "SKU-M", "on_hand": 2}]})
        credentials = {"Client-Id": "836", "Api-Key": "ozon-key"}
        api.put("/v1/channels/ozon-a", {"kind": "ozon", "name": "Ozon", "api_url": url, "credentials": credentials})
        posted = courier_order("", lines=[{"sku": "SKU-M", "qty": 1, "price": 1}], delivery={"method": "marketplace"})

        def packed(external_id: str) -> str:
            order_id = api.post("/v1/orders", {**posted, "external_id": external_id, "channel": "ozon-a"}).body
            api.event(order_id["order_id"], "pack")
            return str(order_id["order_id"])

        def confirmation(order_id: str, status: str, name: str = "confirm_to_marketplace") -> bool:
            return any(a["name"] == name and a["status"] == status for a in api.order(order_id)["actions"])

        fake.fail(500, times=3)  # the first posting's attempt (three tries): backed off
        backed_off = packed("iam-ozon-1")
        wait_until(lambda: confirmation(backed_off, "retrying"), 20, "a backoff")
        refused = packed("iam-ozon-2")  # Ozon has no such posting: the operator task
        wait_until(lambda: confirmation(refused, "failed"), 20, "a refusal")
        wait_until(lambda: confirmation(store_order, "done", "open_task"), 20, "the store task")
    wait_until(lambda: confirmation(store_order, "done", "notify_customer"), 20, "the customer told")
    assert len(sms_ru.messages) == 1
    assert len(cdek.orders) == 1  # create_shipment on packed
    gateway.close()
    assert [request["call"] for request in loyalty.requests] == ["hold"]
    for name in ("SMS_GATEWAY_URL", "NOTIFY_EMAIL_FROM", "LOYALTY_URL"):
        os.environ.pop(name)
    settings.cache_clear()


def _admin_scenario(hub: LocalHub) -> None:
    """The admin page's sessions: a first login setting the user's password (written), a page in another
    language (read, updated), logout."""
    from oms_local.cognito import PoolUser
    from tests.support.admin_page import HubSession

    hub.cognito.add_user(PoolUser("iam-operator", "Iam-temporary-1", ("operator",), {}), permanent=False)
    operator = HubSession(hub, "iam-operator", "Iam-temporary-1", new_password="Iam-password-1")
    assert operator.get("/admin", query="lang=ru").status == 303
    assert operator.post("/admin/logout", {}).status == 303


def _admin_user_session(hub: LocalHub) -> tuple[dict[str, str], str]:
    """A logged-in admin-page user of every role at store adm-store: the session's headers and CSRF token."""
    from oms_local.cognito import PoolUser
    from tests.support.admin_page import CSRF_FIELD

    every_role = ("operator", "store_staff", "manager", "admin")
    hub.cognito.add_user(PoolUser("iam-all", "Iam-password-1", every_role, {"custom:location_ids": "adm-store"}))
    form = hub.http("GET", "/admin/login")
    token = CSRF_FIELD.search(form.body.decode()).group(1)
    sent = f"csrf_token={token}&username=iam-all&password=Iam-password-1".encode()
    login = hub.http("POST", "/admin/login", headers={"cookie": form.headers["Set-Cookie"].split(";")[0]}, body=sent)
    session = {"cookie": login.headers["Set-Cookie"].split(";")[0], "content-type": "application/x-www-form-urlencoded"}
    return session, CSRF_FIELD.search(hub.http("GET", "/admin/tasks", headers=session).body.decode()).group(1)


def _admin_pages_scenario(hub: LocalHub, api: Api) -> None:
    """The admin pages as every role: a click & collect order run from a store's queue (a short pick, the pickup
    code made by the ready notification and checked at collect, both with the lookup key deleted first so each
    function creates it), orders found by phone over a second page (the cursor key created by the page), a
    substitution over many stores (a Query per SKU), a cancel, the task queue,
    the dashboard and the settings; the store work rebuilt."""
    from orders.use_cases.store import pickup_code_of
    from tests.support.waiting import wait_until

    ssm = boto3.client("ssm")
    session, csrf = _admin_user_session(hub)

    def post(path: str, form: str) -> int:
        return hub.http("POST", path, headers=session, body=f"csrf_token={csrf}&{form}".encode()).status

    api.put("/v1/locations/adm-store", {"name": "Admin store", "kind": "store", "capabilities": ["click_collect"]})
    api.put("/v1/stock/adm-store", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 3}]})
    collect = courier_order("iam-adm-1", lines=[{"sku": "SKU-A", "qty": 2, "price": 1}])
    collect.update(customer={"name": "No contact"}, delivery={"method": "click_collect", "location_id": "adm-store"})
    collect["payment"] = {"method": "on_pickup"}
    order_id = api.post("/v1/orders", collect).body["order_id"]
    api.event(order_id, "confirm")
    api.wait_for(order_id, "confirmed")
    assert hub.http("GET", "/admin/store", headers=session).status == 200
    assert post(f"/admin/store/orders/{order_id}/events", "event=pick") == 303
    api.wait_for(order_id, "picked")
    assert post(f"/admin/store/orders/{order_id}/short-pick", "location_id=adm-store&missing_SKU-A=1") == 303
    for name in ("LOOKUP_KEY_PARAMETER", "CURSOR_KEY_PARAMETER"):
        ssm.delete_parameter(Name=os.environ[name])
    secrets.forget()
    assert post(f"/admin/store/orders/{order_id}/events", "event=ready") == 303
    api.wait_for(order_id, "ready_for_pickup")
    told = ("notify_customer", "ready_for_pickup", "skipped")  # no contact to tell; the code was made first
    wait_until(lambda: told in {(a["name"], a["on_status"], a["status"]) for a in api.order(order_id)["actions"]})
    ssm.delete_parameter(Name=os.environ["LOOKUP_KEY_PARAMETER"])
    secrets.forget()
    assert post(f"/admin/store/orders/{order_id}/collect", "code=000000") in (422, 303)
    code = pickup_code_of(order_id, api.order(order_id)["timeline"])
    assert post(f"/admin/store/orders/{order_id}/collect", f"code={code}") == 303
    api.wait_for(order_id, "collected")
    returned = "return_id=adm-r1&reason=damaged&location_id=adm-store&qty_SKU-A=1"
    assert post(f"/admin/orders/{order_id}/returns", returned) == 303
    for n in range(26):  # one page and more of one customer's orders
        api.post("/v1/orders", courier_order(f"iam-adm-{n + 2}", lines=[{"sku": "SKU-A", "qty": 1, "price": 1}]))
    assert hub.http("GET", "/admin/orders", query="q=%2B7%20916%20555-12-34", headers=session).status == 200
    at_store = {**collect, "external_id": "iam-adm-store-held", "lines": [{"sku": "SKU-NONE", "qty": 1, "price": 1}]}
    store_held = api.post("/v1/orders", at_store).body["order_id"]  # one location: BatchGetItem of the stock
    replaced = "sku=SKU-NONE&replacement_sku=SKU-A&replacement_qty=1"
    assert post(f"/admin/orders/{store_held}/substitution", replaced) == 303
    held = api.post("/v1/orders", courier_order("iam-adm-held", lines=[{"sku": "SKU-NONE", "qty": 1, "price": 1}]))
    held_id = held.body["order_id"]
    api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-SUB", "on_hand": 2}]})
    assert (
        post(f"/admin/orders/{held_id}/substitution", "sku=SKU-NONE&replacement_sku=SKU-SUB&replacement_qty=1") == 303
    )
    api.wait_for(held_id, "reserved")
    assert post(f"/admin/orders/{held_id}/events", "event=cancel&note=customer%20called") == 303
    for page in ("/admin/tasks", "/admin/dashboard", "/admin/settings", f"/admin/orders/{held_id}"):
        assert hub.http("GET", page, headers=session).status == 200, page
    _phone_orders_scenario(hub, api, session, post)
    assert hub.invoke("StoreWorkFunction", {"rebuild": True})["rebuilt"] >= 1  # after an upgrade


def _phone_orders_scenario(hub: LocalHub, api: Api, session: dict[str, str], post: Callable[[str, str], int]) -> None:
    """Orders taken by phone on the admin page (a product found, its availability, the intake transaction and
    the lifecycle's start; one short of stock opens its task) and a store's stock looked up by name."""
    api.put("/v1/channels/iam-phone", {"kind": "callcenter", "name": "Phone"})
    kettle = {"name": "Iam kettle", "weight_grams": 900, "length_mm": 250, "width_mm": 180, "height_mm": 260}
    assert api.put("/v1/products/SKU-A", kettle).status == 200
    found = hub.http("GET", "/admin/new-order", query="q=iam%20kettle&lines=SKU-A*1", headers=session)
    assert found.status == 200 and "Iam kettle" in found.body.decode()
    customer = "name=Iam&phone=%2B79160001111&method=click_collect&location_click_collect=adm-store&do=take"
    taken = f"external_id=iam-phone-1&lines=SKU-A*1&qty_SKU-A=1&price_SKU-A=10&{customer}"
    assert post("/admin/new-order", taken) == 303
    short = f"external_id=iam-phone-2&lines=SKU-NONE*1&qty_SKU-NONE=1&price_SKU-NONE=10&{customer}"
    assert post("/admin/new-order", short) == 303
    assert hub.http("GET", "/admin/store/stock/adm-store", query="q=iam%20kettle", headers=session).status == 200


def _sla_scenario(hub: LocalHub, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """SlaMonitorFunction: an order planned, moved on (its stay, its due-list entry moved), past its KPI (the tier
    told to ops by email and webhook, the task; the execution described), and a start Step Functions refused at
    intake made by the monitor; then the read side: the due list, the KPI figures and a channel's risk."""
    from urllib.parse import quote

    from common.clock import utc_moment, utc_text
    from common.config import settings
    from tests.support.sla import monitor, refuse_one_start, staff_webhook

    sender, secret = "sla@shop.example", "whsec-iam-0123456789"
    os.environ["NOTIFY_EMAIL_FROM"] = sender
    settings.cache_clear()
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)
    api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 4}]})
    with staff_webhook(secret) as (receiver, url):
        hook = {"url": url, "secret": secret}
        assert api.put("/v1/roles/ops/contacts", {"emails": ["ops@shop.example"], "webhook": hook}).status == 200
        watched = api.post("/v1/orders", courier_order("iam-sla-1", lines=[{"sku": "SKU-A", "qty": 1, "price": 1}]))
        order_id = watched.body["order_id"]
        created = utc_moment(api.order(order_id)["created_at"])
        monitor(hub, created + timedelta(minutes=3))
        api.event(order_id, "confirm")
        api.wait_for(order_id, "confirmed")
        monitor(hub, created + timedelta(days=30))
        assert receiver.received
    # The read side: the due list on the orders API (OrdersApiFunction), the figures and a channel's risk
    # (SlaApiFunction).
    due = api.get("/v1/orders", f"due_before={quote(utc_text(created + timedelta(days=60)))}&status=confirmed")
    assert due.status == 200 and order_id in [item["order_id"] for item in due.body["items"]]
    today = created.date().isoformat()
    assert api.get("/v1/kpis", f"from={today}&to={today}&channel=web").status == 200
    assert api.get("/v1/channels/web/risk").status == 200
    refuse_one_start(monkeypatch)
    lost = api.post("/v1/orders", courier_order("iam-sla-2", lines=[{"sku": "SKU-A", "qty": 1, "price": 1}]))
    assert lost.status == 503
    monkeypatch.undo()
    monitor(hub, datetime.now(UTC) + timedelta(minutes=3))
    os.environ.pop("NOTIFY_EMAIL_FROM")
    settings.cache_clear()


def test_every_call_is_allowed_and_every_grant_is_used(recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, calls = recorded
    api = Api(hub)
    for scenario in (
        _scenario,
        _sourcing_scenario,
        _workflows_and_payments_scenario,
        _inventory_scenario,
        _offers_scenario,
        _catalog_scenario,
        _actions_scenario,
    ):
        scenario(api)
    _partner_scenario(hub, api)
    _stock_push_scenario(hub, api)
    _admin_scenario(hub)
    _admin_pages_scenario(hub, api)
    _sla_scenario(hub, api, monkeypatch)
    policies = hub.template.policies
    denied = sorted({call for call in calls if not _allowed(policies[call[0]], call[1], call[2])})
    assert not denied, "calls the template does not allow (they would fail on AWS):\n" + "\n".join(map(str, denied))

    unused = [
        (principal, statement.get("Sid"), action, pattern)
        for principal, statements in policies.items()
        for statement in statements
        if (principal, statement.get("Sid")) not in NOT_EXERCISED
        for action in statement["Action"]
        for pattern in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        if not any(p == principal and a == action and fnmatch.fnmatchcase(r, pattern) for p, a, r in calls)
    ]
    assert not unused, "grants no call needs (least privilege):\n" + "\n".join(map(str, unused))
