"""Order use cases: read what is needed, let the domain decide, write it in one go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_fixed,
    wait_random_exponential,
)

from common.errors import (
    Conflict,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    OrderBusy,
    StockContention,
    Unprocessable,
)
from common.models import Channel, Location
from common.observability import count, logger
from inventory.adapters import stock_table
from orders.adapters import lifecycle_engine, order_table
from orders.domain.fulfilment import describe as describe_short_pick
from orders.domain.fulfilment import plan_short_pick
from orders.domain.models import (
    Allocation,
    Delivery,
    Order,
    OrderEventIn,
    OrderIn,
    PaymentCallbackIn,
    Return,
    ReturnIn,
    ShortPickIn,
    Task,
    order_total,
)
from orders.domain.records import (
    describe_shortages,
    execution_input,
    merge_allocations,
    new_order,
    shortage_task,
    shortage_task_id,
    status_fields,
    timeline_entry,
)
from orders.domain.returns import check_return
from orders.domain.returns import describe as describe_return
from orders.domain.substitution import SubstitutionIn, net_changes, substitute_lines
from orders.domain.workflow import AWAITING_PAYMENT, EXPIRE, LIFECYCLE_FAILED, workflow, workflow_for
from planning.promise import Promise, quote
from planning.sourcing import candidate_locations, destination_of, explain, plan_reservations, rank_candidates
from reference import config_table

SWEEPER = "sweeper"  # the source of the hold sweeper's events

T = TypeVar("T")


def _with_fresh_stock(attempt: Callable[[], T]) -> T:
    """Re-read and re-plan when stock moved under us; contention that outlasts a few tries is a 503."""
    try:
        for step in Retrying(
            retry=retry_if_exception_type(order_table.StockMoved),
            stop=stop_after_attempt(8),
            wait=wait_random_exponential(multiplier=0.01, max=0.2),
        ):
            with step:
                return attempt()
    except RetryError:
        count("StockContention")
        raise StockContention("stock is changing too fast to reserve; retry the request") from None
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ intake


def known_references(
    channel_id: str, location_id: str | None, location_field: list[str]
) -> tuple[Channel, dict[str, Location]]:
    """The channel and the locations a request sources from; 422 when it names ones that do not exist."""
    channel = config_table.channel(channel_id)
    if channel is None:
        raise Unprocessable(
            f"unknown channel {channel_id!r}", details=[{"loc": ["body", "channel"], "msg": "unknown channel"}]
        )
    locations = config_table.locations()
    if location_id is not None and location_id not in locations:
        raise Unprocessable(
            f"unknown location {location_id!r}", details=[{"loc": location_field, "msg": "unknown location"}]
        )
    return channel, locations


def accept_order(order_in: OrderIn, now: str) -> tuple[Order, bool]:
    """Create the order with its reservations, or return the one this (channel, external_id) already made."""
    chosen = order_in.delivery.location_id
    channel, locations = known_references(order_in.channel, chosen, ["body", "delivery", "location_id"])
    if (
        order_in.payment.status == "pending"
        and AWAITING_PAYMENT not in workflow_for(order_in.delivery.method, order_in.channel).statuses
    ):
        raise Unprocessable(
            f"{order_in.delivery.method.value} orders cannot wait for a payment",
            details=[{"loc": ["body", "payment", "status"], "msg": "no payment wait in this workflow"}],
        )
    ranked = rank_candidates(locations, order_in.delivery.method, chosen, destination_of(order_in.delivery))
    candidates = [c.location_id for c in ranked]
    wanted = order_in.quantities()

    def attempt() -> dict[str, Any]:
        free = stock_table.physical_available(wanted, candidates)
        plan = plan_reservations(wanted, candidates, free, allow_split=channel.allow_split)
        order = new_order(
            order_in,
            plan,
            explain(plan, ranked, channel.channel_id),
            None if plan.shortages else _promise(order_in.delivery, plan.locations(), locations, now),
            now,
            locations[chosen].hold_hours if chosen else None,
        )
        order_table.create_order(order, plan.allocations, shortage_task(order, now) if plan.shortages else None, now)
        return order

    try:
        order = _with_fresh_stock(attempt)
    except order_table.DuplicateOrder as duplicate:
        existing = duplicate.existing
        _restart_if_lost(existing)
        count("OrderDuplicate")
        return Order.model_validate(existing), False
    lifecycle_engine.start(order["workflow"], order["order_id"], execution_input(order))
    count("OrderCreated")
    if order["shortages"]:
        count("OrderOnHold")
    logger.info(
        "order accepted",
        extra={
            "order_id": order["order_id"],
            "channel": order["channel"],
            "status": order["status"],
            "lines": len(order["lines"]),
        },
    )
    return Order.model_validate(order), True


def _promise(delivery: Delivery, sources: list[str], locations: dict[str, Location], now: str) -> Promise | None:
    """The delivery promise of goods reserved at `sources` (docs/sourcing.md); none if it cannot be made."""
    promised = quote(
        delivery.method,
        [locations[loc] for loc in sources if loc in locations],
        config_table.carriers(),
        datetime.fromisoformat(now),
        delivery.location_id,
    )
    return promised if isinstance(promised, Promise) else None


def _restart_if_lost(order: dict[str, Any]) -> None:
    """A first attempt that crashed between its write and StartExecution left an order with no lifecycle;
    its retry starts it (same name and input: Step Functions keeps one execution)."""
    if len(order["timeline"]) == 1 and not order.get("task_token") and not order.get("pending_event"):
        lifecycle_engine.start(order["workflow"], order["order_id"], execution_input(order))


# ------------------------------------------------------------------ queries


def get_order(order_id: str) -> Order:
    order = order_table.get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
    return Order.model_validate(order)


def list_orders(status: str | None, channel: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    page = order_table.list_orders(status, channel, limit, cursor)
    return {
        "items": [Order.model_validate(o).model_dump(mode="json") for o in page.items],
        "next_cursor": page.next_cursor,
    }


# ------------------------------------------------------------------ operator events


class _NotReady(Exception):
    """The lifecycle has not reached its next wait yet, or another event took the token first."""


def _poll(read: Callable[[], T], seconds: float = 3) -> T:
    """Call `read` until it stops raising _NotReady, for a few seconds at most."""
    for step in Retrying(
        retry=retry_if_exception_type(_NotReady), stop=stop_after_delay(seconds), wait=wait_fixed(0.05), reraise=True
    ):
        with step:
            return read()
    raise AssertionError("unreachable")


def post_event(order_id: str, event_in: OrderEventIn, source: str) -> dict[str, Any]:
    """Validate the event against the order's workflow and resume its execution with it."""

    def attempt() -> dict[str, Any]:
        order = order_table.get_order(order_id)
        if order is None:
            raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
        status = order["status"]
        if order.get("pending_event"):
            raise _NotReady(status)  # judge the event against the status the previous one leads to
        recovering = order.get("attention") == LIFECYCLE_FAILED
        flow = workflow(order["workflow"])
        if event_in.event == EXPIRE and source != SWEEPER:
            # A hold ends by its own time; an operator or a partner who wants the units back cancels.
            raise InvalidTransition(
                "event 'expire' is sent only by the hold sweeper when a hold runs out; "
                "send 'cancel' to release the units now",
                status=status,
                allowed_events=sorted(set(flow.transitions.get(status, {})) - {EXPIRE}),
            )
        next_status = flow.next_status(status, event_in.event, recovering=recovering)
        token = order.get("task_token")
        if not token or not order_table.claim_token(order_id, token, status, event_in.event):
            raise _NotReady(status)
        try:
            lifecycle_engine.resume(token, {"event": event_in.event, "source": source, "note": event_in.note or ""})
        except lifecycle_engine.TaskGone:
            _applied_anyway(order_id, next_status)
        except Exception:
            order_table.return_token(order_id, token, status)
            raise
        return {"order_id": order_id, "event": event_in.event, "status": status, "next_status": next_status}

    # Events sent back to back (confirm, then pick) wait here for the lifecycle to reach its next step.
    try:
        accepted = _poll(attempt)
    except _NotReady as busy:
        raise OrderBusy("the order is still applying a previous event; retry shortly", status=busy.args[0]) from None
    count(f"OrderEvent_{event_in.event}")
    logger.info(
        "order event accepted",
        extra={"order_id": order_id, "event": event_in.event, "next_status": accepted["next_status"]},
    )
    return accepted


def _applied_anyway(order_id: str, next_status: str) -> None:
    """The token was gone: either an SDK retry of a SendTaskSuccess that did go through, or the step
    ended first (its deadline passed). The lifecycle settles the order either way; tell which."""

    def settled() -> dict[str, Any]:
        order = order_table.get_order(order_id) or {}
        if order.get("pending_event"):
            raise _NotReady(order.get("status"))
        return order

    try:
        order = _poll(settled)
    except _NotReady:
        order = {}
    if order.get("status") != next_status:
        raise Conflict(
            "the order's step ended before this event arrived (its deadline passed); reload it",
            status=order.get("status"),
        )


# ------------------------------------------------------------------ operator substitutions


def substitute(order_id: str, change: SubstitutionIn, now: str) -> Order:
    """Replace or drop a line of an order on hold, re-reserving at once; once nothing is missing the
    lifecycle is resumed with `reserve`, as an operator would. The same request again changes nothing."""
    source = f"operator:{change.actor}" if change.actor else "operator"

    def attempt() -> Order:
        """The order as it stands once the change is in (its shortages are what the answer turns on)."""
        current = order_table.get_order(order_id)
        if current is None:
            raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
        order = Order.model_validate(current)
        if current.get("last_substitution") == change.key():
            return order  # a repeat: nothing to change, but resume the lifecycle if the first try could not
        if order.status != "on_hold":
            raise InvalidTransition("substitutions apply only to orders on hold", status=order.status)
        if order.pending_event:
            raise OrderBusy("the order is still applying a previous event; retry shortly", status=order.status)
        lines = substitute_lines(order.lines, change)
        kept = [a for a in order.allocations if a.sku != change.sku]
        allocations = [*kept, *_reserve_replacement(order, change, kept)]
        remaining = [s for s in order.shortages if s.sku != change.sku]
        shortages = [s.model_dump() for s in remaining]
        note = "; ".join(filter(None, [change.describe(), change.note, describe_shortages(remaining)]))
        entry = timeline_entry(now, "on_hold", {"event": "substitute", "source": source, "note": note})
        changes = net_changes(order.allocations, allocations)
        committed = order_table.change_reservations(
            order_id,
            changes,
            seen_at=order.updated_at,
            set_fields={
                "lines": [line.model_dump() for line in lines],
                "updated_at": now,
                "total": order_total(lines),
                "allocations": [a.model_dump() for a in allocations],
                "shortages": shortages,
                "last_substitution": change.key(),
            },
            timeline_entry=entry,
            task_id=shortage_task_id(order_id),
            shortages=shortages,
            expires_at=current.get("hold_expires_at"),
            now=now,
        )
        if not committed:
            raise order_table.StockMoved()  # the order changed since it was read: judge the request again
        count("OrderSubstitution")
        return order.model_copy(update={"shortages": remaining})

    changed = _with_fresh_stock(attempt)
    if changed.status == "on_hold" and not changed.shortages:
        try:
            post_event(order_id, OrderEventIn(event="reserve", note=f"substitution: {change.describe()}"), source)
        except OrderBusy as busy:  # the lifecycle is not waiting yet (e.g. an order created a moment ago)
            raise OrderBusy(
                "the substitution is recorded; send the same request again to resume the order",
                status=busy.extra.get("status"),
            ) from None
    return get_order(order_id)


def _reserve_replacement(order: Order, change: SubstitutionIn, kept: list[Allocation]) -> list[Allocation]:
    """Where the new line is reserved, in full, or a 409 that says how much there is."""
    new = change.replacement
    if new is None:
        return []
    candidates, allow_split = _sourcing_for_more(order, held={a.location_id for a in kept})
    available = stock_table.physical_available([new.sku], candidates)
    for a in order.allocations:  # units the old line gives back in the same transaction
        if a.sku == new.sku and (a.sku, a.location_id) in available:
            available[(a.sku, a.location_id)] += a.qty
    plan = plan_reservations({new.sku: new.qty}, candidates, available, allow_split=allow_split)
    if plan.shortages:
        raise InsufficientStock(
            f"only {new.qty - plan.shortages[0].missing} of {new.qty} x {new.sku} can be reserved for this order",
            sku=new.sku,
            wanted=new.qty,
            available=new.qty - plan.shortages[0].missing,
        )
    return plan.allocations


def move_ship_by(order_id: str, ship_by: str, source: str, now: str) -> None:
    """The channel moved the hand-over deadline: the order's SLA deadline follows it."""
    order = order_table.get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
    entry = timeline_entry(
        now, order["status"], {"event": "ship_by_changed", "source": source, "note": f"ship by {ship_by}"}
    )
    if not order_table.set_ship_by(order_id, ship_by, entry):
        raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
    count("OrderShipByMoved")


def list_tasks(state: str, limit: int, cursor: str | None) -> dict[str, Any]:
    page = order_table.list_tasks(state, limit, cursor)
    return {
        "items": [Task.model_validate(t).model_dump(mode="json") for t in page.items],
        "next_cursor": page.next_cursor,
    }


# ------------------------------------------------------------------ lifecycle steps (state machine tasks)


def retry_reservation(order_id: str, event: dict[str, Any], now: str) -> dict[str, str]:
    """Reserve what an on-hold order still misses; it becomes `reserved` once nothing is missing."""

    def attempt() -> dict[str, str]:
        order = order_table.get_order(order_id)
        if order is None or order["status"] != "on_hold":
            return {"status": order["status"] if order else "missing"}
        missing = {s["sku"]: s["missing"] for s in order["shortages"]}
        held = Order.model_validate(order)
        candidates, allow_split = _sourcing_for_more(held)
        plan = plan_reservations(
            missing, candidates, stock_table.physical_available(missing, candidates), allow_split=allow_split
        )
        status = "on_hold" if plan.shortages else "reserved"
        entry = timeline_entry(now, status, {**event, "note": describe_shortages(plan.shortages) or event.get("note")})
        allocations = merge_allocations(order["allocations"], plan.allocations)
        promise = (
            None
            if plan.shortages
            else _promise(
                held.delivery, list(dict.fromkeys(a["location_id"] for a in allocations)), config_table.locations(), now
            )
        )
        committed = order_table.add_reservations(
            order_id,
            plan.allocations,
            expect="on_hold",
            now=now,
            timeline_entry=entry,
            expires_at=order.get("hold_expires_at"),
            set_fields={
                **status_fields(order["channel"], status, now),
                "allocations": allocations,
                "shortages": [s.model_dump() for s in plan.shortages],
                "promise": promise.model_dump(mode="json") if promise else None,
            },
            close_task=None if plan.shortages else shortage_task_id(order_id),
        )
        return {"status": status if committed else order_table.get_order(order_id)["status"]}

    return _with_fresh_stock(attempt)


def _sourcing_for_more(order: Order, held: set[str] | None = None) -> tuple[list[str], bool]:
    """Where more units of an accepted order may come from: a channel that does not allow split
    shipments keeps the order at the location that already holds (`held`, by default all) of it."""
    channel = config_table.channel(order.channel)
    allow_split = bool(channel and channel.allow_split)
    ranked = candidate_locations(
        config_table.locations(), order.delivery.method, order.delivery.location_id, destination_of(order.delivery)
    )
    held = {a.location_id for a in order.allocations} if held is None else held
    if held and not allow_split:
        ranked = [loc for loc in ranked if loc in held]
    return ranked, allow_split


def consume(
    order_id: str,
    channel: str,
    workflow_name: str,
    status: str,
    event: dict[str, Any],
    task_token: str | None,
    now: str,
) -> dict[str, str]:
    """Into a status that takes the reserved units out of on-hand (shipped, collected, sold). A waiting
    status gets the task token in the same write."""

    def attempt() -> dict[str, str]:
        done = order_table.finish_reservations(
            order_id,
            "consumed",
            expect=workflow(workflow_name).sources_of("consume"),
            now=now,
            timeline_entry=timeline_entry(now, status, event),
            set_fields={**status_fields(channel, status, now), **({"task_token": task_token} if task_token else {})},
            remove=["pending_event", "attention"] if task_token else ["task_token", "pending_event", "attention"],
        )
        if not done and task_token:  # a retry of a step that already ran: just hand over the new token
            order_table.set_task_token(order_id, task_token, status)
        return {"status": status}

    result = _with_fresh_stock(attempt)
    count(f"OrderEntered_{status}")
    return result


def release(
    order_id: str, channel: str, workflow_name: str, status: str, event: dict[str, Any], now: str
) -> dict[str, str]:
    """Into a status that gives every held unit back to free stock (cancelled, expired, returned_to_stock);
    an open shortage task is closed, and a paid order is refunded."""

    def attempt() -> dict[str, Any]:
        order = order_table.get_order(order_id)
        if order is None or order["status"] == status:
            return order or {}
        order_table.finish_reservations(
            order_id,
            "released",
            expect=workflow(workflow_name).sources_of("release"),
            now=now,
            timeline_entry=timeline_entry(now, status, event),
            set_fields=status_fields(channel, status, now),
            remove=["task_token", "pending_event", "attention", "last_error"],
            close_task=shortage_task_id(order_id) if order["shortages"] else None,
        )
        return order_table.get_order(order_id) or {}

    order = _with_fresh_stock(attempt)
    _refund_if_paid(order, now)  # after the stock: a retried step that already released still refunds
    count(f"OrderEntered_{status}")
    return {"status": order.get("status", "missing")}


# ------------------------------------------------------------------ returns


def return_items(order_id: str, request: ReturnIn, now: str) -> tuple[dict[str, Any], bool]:
    """Record a full or partial return; its units go back on hand at the chosen location. The same
    return_id again answers the recorded return and changes nothing."""
    if request.location_id not in config_table.locations():
        raise Unprocessable(
            f"unknown location {request.location_id!r}",
            details=[{"loc": ["body", "location_id"], "msg": "unknown location"}],
        )

    def attempt() -> tuple[dict[str, Any], bool]:
        order = order_table.get_order(order_id)
        if order is None:
            raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
        earlier = next((r for r in order.get("returns") or [] if r["return_id"] == request.return_id), None)
        if earlier is not None:
            return earlier, False
        check_return(order, workflow(order["workflow"]), request)
        merged: dict[str, int] = {}
        for line in request.lines:
            merged[line.sku] = merged.get(line.sku, 0) + line.qty
        record = Return(
            **request.model_dump(exclude={"lines"}),
            at=now,
            lines=[{"sku": sku, "qty": qty} for sku, qty in merged.items()],
        ).model_dump()
        entry = timeline_entry(
            now, order["status"], {"event": "return", "source": "operator", "note": describe_return(request)}
        )
        order_table.record_return(order_id, record, entry, read_at=order["updated_at"], now=now)
        return record, True

    record, created = _with_fresh_stock(attempt)
    if created:
        count("OrderReturned")
    return record, created


# ------------------------------------------------------------------ partial fulfilment


def short_pick(order_id: str, request: ShortPickIn, now: str) -> Order:
    """Units found missing at picking are written off at their location; the order carries on with the rest."""

    def attempt() -> None:
        order = order_table.get_order(order_id)
        if order is None:
            raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
        plan = plan_short_pick(order, workflow(order["workflow"]), request)
        entry = timeline_entry(
            now, order["status"], {"event": "short_pick", "source": "operator", "note": describe_short_pick(request)}
        )
        order_table.write_off(
            order_id,
            request.location_id,
            plan.written_off,
            order["allocations"],
            set_fields={"lines": plan.lines, "allocations": plan.allocations, "total": plan.total, "updated_at": now},
            entry=entry,
            status=order["status"],
            read_at=order["updated_at"],
            now=now,
        )

    _with_fresh_stock(attempt)
    count("OrderShortPicked")
    return get_order(order_id)


# ------------------------------------------------------------------ payments


def request_payment_link(
    order_id: str, channel: str, workflow_name: str, status: str, event: dict[str, Any], task_token: str, now: str
) -> dict[str, str]:
    """The payment did not come in time: ask the acquirer for a new link, record it with the status."""
    order = order_table.get_order(order_id)
    if order is None:
        return {"status": "missing"}
    attempt = 1 + sum(1 for entry in order["timeline"] if entry["status"] == status)
    from partners.clients import acquirer  # httpx and the rate limiter: not on the orders API's cold start

    link = acquirer.acquirer().payment_link(order_id, Decimal(str(order["total"])), attempt)
    moved = order_table.update_order(
        order_id,
        expect=workflow(workflow_name).sources_into(status),
        timeline_entry=timeline_entry(now, status, event),
        set_fields={
            **status_fields(channel, status, now),
            "task_token": task_token,
            "payment.link_url": link.url,
            "payment.payment_id": link.payment_id,
        },
        remove=["pending_event", "attention"],
    )
    if not moved:  # a retry of a step that already ran: just hand over the new token
        order_table.set_task_token(order_id, task_token, status)
    count("PaymentLinkRequested")
    logger.info("payment link requested", extra={"order_id": order_id, "attempt": attempt})
    return {"status": status}


def payment_settled(provider: str, callback: PaymentCallbackIn, now: str) -> dict[str, Any]:
    """The acquirer's (verified) callback. A success marks the order paid once and sends `pay` where the
    workflow waits for it; one that arrives after the order was cancelled is refunded. Repeats change nothing."""
    order = order_table.get_order(callback.order_id)
    if order is None:
        raise NotFound(f"order {callback.order_id!r} does not exist", order_id=callback.order_id)
    answer = {"order_id": callback.order_id, "event_id": callback.event_id, "applied": False}
    if callback.status == "failed":
        count("PaymentFailed")  # the order keeps waiting: its deadline sends a new link, then cancels
        return answer
    if not order_table.record_payment(callback.order_id, callback.payment_id, now):
        count("PaymentCallbackDuplicate")
        return answer
    count("PaymentSucceeded")
    flow = workflow(order["workflow"])
    if "pay" in flow.transitions.get(order["status"], {}):
        post_event(
            callback.order_id,
            OrderEventIn(event="pay", note=f"paid {callback.amount} ({callback.payment_id})"),
            f"acquirer:{provider}",
        )
    elif order["status"] in flow.terminal_statuses and flow.statuses[order["status"]].stock == "release":
        _refund_if_paid(order_table.get_order(callback.order_id) or {}, now)
    return {**answer, "applied": True}


def _refund_if_paid(order: dict[str, Any], now: str) -> None:
    payment = order.get("payment") or {}
    if payment.get("status") != "paid" or payment.get("refund_id"):
        return
    from partners.clients import acquirer  # see request_payment_link

    refund_id = acquirer.acquirer().refund(order["order_id"], payment["payment_id"], Decimal(str(order["total"])))
    order_table.record_refund(order["order_id"], refund_id, now)
    count("PaymentRefunded")
