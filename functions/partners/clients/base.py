"""What every connector speaks: canonical events, the Connector shape, partner answers. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from common.bodies import MAX_BODY_BYTES, BodyRefused, json_text
from common.errors import HubError


class PartnerLookupFailed(HubError):
    """A new order could not be read from the partner (unreachable, refusing, or no API credentials on the
    channel): nothing is created and the push is refused as retryable (4xx: the partner sends it again)."""

    code = "partner_unavailable"


class BadPayload(Exception):
    """The partner's message does not match its documented shape (answered 400, nothing changes), or is
    more than the hub takes (413)."""

    def __init__(
        self, message: str, details: list[dict[str, Any]] | None = None, *, status: int = 400, code: str = "bad_request"
    ) -> None:
        super().__init__(message)
        self.details = details or []
        self.status = status
        self.code = code

    @classmethod
    def from_validation(cls, error: ValidationError) -> BadPayload:
        return cls(
            "the message does not match the partner's documented shape",
            [{"loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()],
        )


class PartnerModel(BaseModel):
    """A partner's payload or answer in its own field names. A field the partner adds later is ignored
    (pydantic's default, pinned here: a new field must never get a partner's message refused)."""

    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class Ping:
    """A partner checking the endpoint; answered at once, changes nothing."""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    qty: int
    price: Decimal = Decimal(0)


@dataclass(frozen=True)
class NewOrder:
    """A marketplace order to create (idempotent on channel + external_id)."""

    external_id: str
    lines: tuple[OrderLine, ...]
    ship_by: datetime | None = None
    # The partner's message lacks what the order needs (Ozon's push has no prices): the connector's
    # `complete` reads the order from the partner before it is created.
    lookup: bool = False

    @property
    def event_id(self) -> str:
        # The same identity whether the push or the reconcile poll brings it: the second is a duplicate.
        return f"new:{self.external_id}"


@dataclass(frozen=True)
class StatusChange:
    """The partner moved an order; `event` is the hub event it maps to (None: nothing to do in the hub).

    The order is named by the partner's order number (`external_id`, an order of this channel) or by the
    hub's own order id (`order_id`: couriers carry the number the hub gave them)."""

    event_id: str
    partner_status: str
    event: str | None
    at: datetime | None
    external_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class ShipByChange:
    event_id: str
    external_id: str
    ship_by: datetime
    at: datetime | None = None


Canonical = Ping | NewOrder | StatusChange | ShipByChange


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


def hub_ping_reply(now: str) -> Reply:
    """`{version, name, time}`: what Ozon and Yandex Market expect to a ping."""
    return Reply(200, {"version": "1.0", "name": "oms-hub", "time": now})


class Parser(Protocol):
    def __call__(self, body: Mapping[str, Any], route: str) -> list[Canonical]: ...


class Poller(Protocol):
    def __call__(
        self, base_url: str, credentials: Mapping[str, str], open_orders: Sequence[str], now: datetime
    ) -> list[Canonical]: ...


@dataclass(frozen=True)
class Connector:
    """One partner. `parse` maps its native message (already JSON) to canonical events; `routes` are the
    webhook paths it posts to ("" for /v1/webhooks/{channel}, "notification" for .../notification)."""

    kind: str
    parse: Parser
    routes: frozenset[str] = frozenset({""})
    # Answer to a processed push and to a ping; error answers in the partner's format.
    processed: Callable[[str], Reply] = field(default=lambda now: Reply(200, {"result": True}))
    ping: Callable[[str], Reply] = field(default=hub_ping_reply)
    error: Callable[[int, str, str, list[dict[str, Any]]], Reply] = field(
        default=lambda status, code, message, details: Reply(
            status, {"error": code, "message": message, "details": details}
        )
    )
    # Acknowledge first and process from the partner queue (partners with a short answer deadline).
    queued: bool = False
    # Scheduled pull: (api base URL, credentials, the channel's open external ids, now) -> events.
    poll: Poller | None = None
    # (api base URL, credentials, a NewOrder with `lookup`) -> the order as the partner holds it; raises
    # PartnerError when the partner cannot tell.
    complete: Callable[[str, Mapping[str, str], NewOrder], NewOrder] | None = None


class MessageTypes:
    """A partner's message types, told apart by one field: the ones the hub acts on (a discriminated
    union of pydantic models) and the rest, which are acknowledged and ignored."""

    def __init__(self, field_name: str, union: Any) -> None:
        self.field_name = field_name
        self.adapter = TypeAdapter(union)
        self.known = set(self.adapter.json_schema()["discriminator"]["mapping"])

    def parse(self, body: Mapping[str, Any]) -> Any | None:
        kind = body.get(self.field_name)
        if not isinstance(kind, str) or not kind:
            raise BadPayload(f"{self.field_name} is missing", [{"loc": [self.field_name], "msg": "Field required"}])
        if kind not in self.known:
            return None
        try:
            return self.adapter.validate_python(body)
        except ValidationError as error:
            raise BadPayload.from_validation(error) from None


def parse_json(raw: bytes, max_bytes: int = MAX_BODY_BYTES) -> Mapping[str, Any]:
    """The partner's body as a JSON object; size, encoding and depth are checked before json.loads."""
    try:
        body = json.loads(json_text(raw, max_bytes) or "null")
    except BodyRefused as refused:
        raise BadPayload(str(refused), status=refused.status, code=refused.code) from None
    except json.JSONDecodeError:
        raise BadPayload("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadPayload("the body must be a JSON object")
    return body
