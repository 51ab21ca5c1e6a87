"""CDEK API v2 (courier): ORDER_STATUS webhooks in; shipments out (register, follow the asynchronous
request, the receipt's link, delete) with a cached OAuth token.

The trimmed spec (shared/partners/specs/cdek.json) has the token, POST /v2/orders and the webhooks. The
rest comes from CDEK's own documentation pages (api-docs.cdek.ru), transcribed for the tests in
tests/support/spec_supplements/cdek.json: GET /v2/orders/{uuid} and GET /v2/orders?im_number= ("Order
Details", 33828849: the entity with cdek_number and the requests with their states), DELETE
/v2/orders/{uuid} ("Deleting an Order", 33828855: only while the order's status is CREATED), POST
/v2/print/orders ("Creating order receipt", 36969649: at most 100 orders) and GET /v2/print/orders/{uuid}
("Receiving order receipt": the PDF's url once the form is READY, valid for an hour).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Unpack

import httpx
from pydantic import Field, ValidationError

from partners.clients.base import BadPayload, Canonical, Connector, PartnerModel, Reply, StatusChange
from partners.clients.http import PartnerHttp, PartnerRejected, PartnerUnavailable, Tuning, parsed
from partners.clients.registry import register

# CDEK status codes (the spec's whole vocabulary) -> the hub event whose status they imply in the courier
# workflow (None: nothing to do). Once CDEK holds the parcel it is shipped for the hub; returns
# (NOT_DELIVERED, RETURNED_*, POSTOMAT_SEIZED) have no courier-workflow step yet, and REMOVED drops
# CDEK's shipment, not the hub's order.
_IN_TRANSIT = (
    "RECEIVED_AT_SHIPMENT_WAREHOUSE",
    "READY_TO_SHIP_AT_SENDING_OFFICE",
    "PASSED_TO_CARRIER_AT_SENDING_OFFICE",
    "SEND_TO_TRANSIT_OFFICE",
    "MET_AT_TRANSIT_OFFICE",
    "ACCEPTED_TO_OFFICE_TRANSIT_WAREHOUSE",
    "READY_TO_SHIP_IN_TRANSIT_OFFICE",
    "PASSED_TO_CARRIER_AT_TRANSIT_OFFICE",
    "SEND_TO_SENDING_OFFICE",
    "SEND_TO_RECIPIENT_OFFICE",
    "MET_AT_SENDING_OFFICE",
    "MET_AT_RECIPIENT_OFFICE",
    "ACCEPTED_AT_DELIVERY_WAREHOUSE",
    "ACCEPTED_AT_WAREHOUSE_ON_DEMAND",
    "ISSUED_FOR_DELIVERY",
    "ENTERED_TO_OFFICE_TRANSIT_WAREHOUSE",
    "ENTERED_TO_DELIVERY_WAREHOUSE",
    "ENTERED_TO_WAREHOUSE_ON_DEMAND",
    "IN_CUSTOMS_INTERNATIONAL",
    "SHIPPED_TO_DESTINATION",
    "PASSED_TO_TRANSIT_CARRIER",
    "IN_CUSTOMS_LOCAL",
    "CUSTOMS_COMPLETE",
    "POSTOMAT_POSTED",
    "READY_FOR_SHIPMENT_IN_SENDER_CITY",
    "TAKEN_BY_TRANSPORTER_FROM_SENDER_CIT",
    "SENT_TO_TRANSIT_CIT",
    "ACCEPTED_IN_TRANSIT_CIT",
    "ACCEPTED_AT_TRANSIT_WAREHOUS",
    "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY",
    "SENT_TO_RECIPIENT_CITY",
    "ACCEPTED_IN_RECIPIENT_CITY",
    "ACCEPTED_AT_PICK_UP_POINT",
    "TAKEN_BY_COURIER",
)
STATUS_EVENTS: dict[str, str | None] = {
    "CREATED": None,
    "REMOVED": None,
    **dict.fromkeys(_IN_TRANSIT, "ship"),
    "DELIVERED": "deliver",
    "POSTOMAT_RECEIVED": "deliver",
    "NOT_DELIVERED": None,
    "RETURNED_TO_SENDER_WAREHOUSE": None,
    "RETURNED_TO_TRANSIT_WAREHOUSE": None,
    "RETURNED_TO_DELIVERY_WAREHOUSE": None,
    "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE": None,
    "POSTOMAT_SEIZED": None,
}


class StatusAttributes(PartnerModel):
    is_return: bool = False
    cdek_number: str | int | None = None  # CDEK sends either
    number: str = Field(min_length=1, max_length=64, description="The hub's order id, given at creation.")
    code: str = Field(min_length=1, max_length=64)
    status_reason_code: str | None = None
    status_date_time: datetime
    city_name: str | None = None


class OrderStatusWebhook(PartnerModel):
    type: Literal["ORDER_STATUS"]
    date_time: datetime
    uuid: str = Field(min_length=1, max_length=64)
    attributes: StatusAttributes


def parse(body: Mapping[str, Any], route: str) -> list[Canonical]:
    if body.get("type") != "ORDER_STATUS":
        if isinstance(body.get("type"), str):
            return []  # other webhook types (PRINT_FORM, ...) are not acted on
        raise BadPayload("type is missing", [{"loc": ["type"], "msg": "Field required"}])
    try:
        message = OrderStatusWebhook.model_validate(body)
    except ValidationError as error:
        raise BadPayload.from_validation(error) from None
    a = message.attributes
    if a.is_return:
        return []
    return [
        StatusChange(
            f"status:{message.uuid}:{a.code}:{a.status_date_time.isoformat()}",
            a.code,
            STATUS_EVENTS.get(a.code),
            a.status_date_time,
            order_id=a.number,
        )
    ]


CONNECTOR = register(Connector(kind="cdek", parse=parse, processed=lambda now: Reply(200, {})))


RequestState = Literal["ACCEPTED", "WAITING", "SUCCESSFUL", "INVALID"]
SETTLED: frozenset[str] = frozenset({"SUCCESSFUL", "INVALID"})
_REFUSALS = (400, 404, 409, 422)  # answers whose body carries CDEK's error list


class CdekProblem(PartnerModel):
    code: str
    message: str = ""


class CdekRequest(PartnerModel):
    type: str
    state: RequestState
    errors: list[CdekProblem] = Field(default_factory=list)


class _Entity(PartnerModel):
    uuid: str


class EntityOperation(PartnerModel):
    entity: _Entity | None = None
    requests: list[CdekRequest] = Field(default_factory=list)


class _OrderEntity(PartnerModel):
    uuid: str
    cdek_number: str | int | None = None


class OrderInfo(PartnerModel):
    entity: _OrderEntity
    requests: list[CdekRequest] = Field(default_factory=list)


class _PrintStatus(PartnerModel):
    code: str


class _PrintEntity(PartnerModel):
    uuid: str
    url: str | None = None
    statuses: list[_PrintStatus] = Field(default_factory=list)


class PrintForm(PartnerModel):
    entity: _PrintEntity
    requests: list[CdekRequest] = Field(default_factory=list)


class CdekInvalid(PartnerRejected):
    """CDEK refused the request (state INVALID, or a 4xx with its error list): sent again, it fails again.
    `errors` are CDEK's own (code, message) pairs, the reason an operator reads."""

    def __init__(self, what: str, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        listed = "; ".join(f"{code}: {message}" if message else code for code, message in errors)
        super().__init__(f"cdek {what}: {listed or 'no reason given'}")


@dataclass(frozen=True)
class Shipment:
    """A shipment as CDEK holds it: its uuid, the state of the request that created it, and CDEK's own
    number once it has given one."""

    uuid: str
    state: RequestState
    cdek_number: str | None = None
    errors: tuple[tuple[str, str], ...] = ()

    @property
    def settled(self) -> bool:
        return self.state in SETTLED


def _problems(requests: list[CdekRequest]) -> list[tuple[str, str]]:
    return [(e.code, e.message) for r in requests for e in r.errors]


def _creation(requests: list[CdekRequest]) -> CdekRequest | None:
    created = [r for r in requests if r.type == "CREATE"] or requests
    return created[-1] if created else None


ONLINE_STORE = 1  # CDEK's order type for an online store (each package lists its items)


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str


def _place(place: str | Mapping[str, Any], office: str, address: str) -> dict[str, Any]:
    return {office: place} if isinstance(place, str) else {address: dict(place)}


def shipment_request(
    number: str,
    packages: list[dict[str, Any]],
    *,
    tariff_code: int,
    recipient: Recipient,
    origin: str | Mapping[str, Any],
    destination: str | Mapping[str, Any],
) -> dict[str, Any]:
    """The body of POST /v2/orders for an online-store order: `number` = the hub's order id, `packages`
    from catalog.use_cases.shipments.packages_for; `origin` a CDEK office's code (`shipment_point`) or an
    address (`from_location`), `destination` a pick-up point's code (`delivery_point`) or an address
    (`to_location`: {"address", "city"}, {"code"}, ...): the spec's AddOrder wants one of each."""
    return {
        "type": ONLINE_STORE,
        "number": number,
        "tariff_code": tariff_code,
        "recipient": {"name": recipient.name, "phones": [{"number": recipient.phone}]},
        **_place(origin, "shipment_point", "from_location"),
        **_place(destination, "delivery_point", "to_location"),
        "packages": packages,
    }


class CdekClient:
    """OAuth2 client credentials: the bearer token is cached until shortly before it expires; a 401 to it
    (a token revoked or expired early) fetches one new token and sends the request again, once: a 401 to
    the fresh token too is a rejection (the account's credentials or rights), not an outage.

    Failures: PartnerUnavailable (transient: 5xx, 429, timeouts after the retries of partners.clients.http,
    a request CDEK has not settled within the polls asked for) and CdekInvalid (permanent: INVALID, a 4xx
    with CDEK's errors). Every method is safe to call again."""

    MARGIN = 30  # seconds before the stated expiry at which a token is renewed

    def __init__(self, base_url: str, credentials: Mapping[str, str], **options: Unpack[Tuning]) -> None:
        self.credentials = dict(credentials)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self.tokens = PartnerHttp("cdek", base_url, **options)
        self.http = PartnerHttp("cdek", base_url, auth=self._bearer, **options)
        self.tokens_fetched = 0

    def _bearer(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or time.monotonic() >= self._token[1]:
                form = {
                    "grant_type": "client_credentials",
                    "client_id": self.credentials["client_id"],
                    "client_secret": self.credentials["client_secret"],
                }
                answer = self.tokens.request("POST", "/v2/oauth/token", data=form, answered=(400, 401))
                if answer.status_code != 200:
                    raise PartnerRejected(f"cdek token: HTTP {answer.status_code}")
                body = answer.json()
                self.tokens_fetched += 1
                self._token = (body["access_token"], time.monotonic() + float(body["expires_in"]) - self.MARGIN)
            return {"Authorization": f"Bearer {self._token[0]}"}

    def _forget(self) -> None:
        with self._lock:
            self._token = None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        answer = self.http.request(method, path, answered=(401, *_REFUSALS), **kwargs)
        if answer.status_code == 401:
            self._forget()
            answer = self.http.request(method, path, answered=(401, *_REFUSALS), **kwargs)
            if answer.status_code == 401:
                raise PartnerRejected(f"cdek {method} {path}: a freshly fetched token was refused (HTTP 401)")
        return answer

    def _operation(self, answer: httpx.Response, what: str) -> EntityOperation:
        """The answer as CDEK's EntityOperation; CdekInvalid for a refusal or an INVALID request."""
        operation = parsed(EntityOperation, answer.json(), "cdek")
        if answer.status_code >= 400 or any(r.state == "INVALID" for r in operation.requests):
            raise CdekInvalid(what, _problems(operation.requests) or [(f"HTTP {answer.status_code}", "")])
        return operation

    def register(self, order: Mapping[str, Any]) -> Shipment:
        """POST /v2/orders (CDEK's `number` = the hub's order id): the shipment's uuid and the state of its
        creation (ACCEPTED or WAITING until CDEK has checked it: `follow`). CdekInvalid when refused."""
        operation = self._operation(self._send("POST", "/v2/orders", json=dict(order)), "rejected the order")
        created = _creation(operation.requests)
        if operation.entity is None or created is None:
            raise PartnerRejected("cdek accepted the order without naming it")
        return Shipment(operation.entity.uuid, created.state)

    def create_order(self, order: Mapping[str, Any]) -> str:
        """`register`, for callers that need only the uuid."""
        return self.register(order).uuid

    def _shipment(self, answer: httpx.Response) -> Shipment | None:
        if answer.status_code == 404:
            return None
        if answer.status_code >= 400:
            self._operation(answer, "refused the order's details")
        info = parsed(OrderInfo, answer.json(), "cdek")
        created = _creation(info.requests)
        number = info.entity.cdek_number
        return Shipment(
            info.entity.uuid,
            created.state if created else "ACCEPTED",
            str(number) if number is not None else None,
            tuple(_problems([created])) if created else (),
        )

    def shipment(self, uuid: str) -> Shipment:
        """GET /v2/orders/{uuid}: the creation's state now (with CDEK's errors when INVALID) and cdek_number."""
        found = self._shipment(self._send("GET", f"/v2/orders/{uuid}"))
        if found is None:
            raise CdekInvalid("has no such order", [("not_found", uuid)])
        return found

    def find(self, number: str) -> Shipment | None:
        """GET /v2/orders?im_number=: the shipment registered under the hub's order id, if any (a register
        whose answer was lost may have been taken: look before registering again)."""
        return self._shipment(self._send("GET", "/v2/orders", params={"im_number": number}))

    def follow(
        self, uuid: str, *, polls: int = 5, interval: float = 1.0, sleep: Callable[[float], None] = time.sleep
    ) -> Shipment:
        """The shipment once its creation is SUCCESSFUL and CDEK has numbered it: CdekInvalid (with CDEK's
        errors) if it became INVALID; PartnerUnavailable if neither within `polls` reads `interval` apart
        (the caller asks again later)."""
        for poll in range(polls):
            if poll:
                sleep(interval)
            now = self.shipment(uuid)
            if now.state == "INVALID":
                raise CdekInvalid("rejected the order", list(now.errors))
            if now.state == "SUCCESSFUL" and now.cdek_number is not None:
                return now
        raise PartnerUnavailable(f"cdek has not settled order {uuid} after {polls} reads")

    def label(
        self, uuid: str, *, polls: int = 5, interval: float = 1.0, sleep: Callable[[float], None] = time.sleep
    ) -> str:
        """The link to the shipment's receipt (POST /v2/print/orders, then GET /v2/print/orders/{id} until
        the form is READY; the link lives an hour). CdekInvalid if CDEK cannot form it; PartnerUnavailable
        if it is not ready within `polls` reads."""
        body = {"orders": [{"order_uuid": uuid}], "copy_count": 2}
        operation = self._operation(self._send("POST", "/v2/print/orders", json=body), "refused the receipt")
        if operation.entity is None:
            raise PartnerRejected("cdek accepted the receipt without naming it")
        for poll in range(polls):
            if poll:
                sleep(interval)
            answer = self._send("GET", f"/v2/print/orders/{operation.entity.uuid}")
            if answer.status_code >= 400:
                self._operation(answer, "refused the receipt")
            form = parsed(PrintForm, answer.json(), "cdek").entity
            state = form.statuses[-1].code if form.statuses else "ACCEPTED"
            if state in ("INVALID", "REMOVED"):
                raise CdekInvalid("could not form the receipt", [(state, uuid)])
            if state == "READY" and form.url:
                return form.url
        raise PartnerUnavailable(f"cdek has not formed the receipt of {uuid} after {polls} reads")

    def delete(self, uuid: str) -> None:
        """DELETE /v2/orders/{uuid} (a cancelled order's shipment). An order CDEK no longer has counts as
        deleted; CdekInvalid when CDEK refuses (its status is past CREATED: the parcel is on its way)."""
        answer = self._send("DELETE", f"/v2/orders/{uuid}")
        if answer.status_code != 404:
            self._operation(answer, "refused to delete the order")

    def subscribe(self, url: str, kind: str = "ORDER_STATUS") -> str:
        """Ask CDEK to post `kind` webhooks to `url` (the hub's webhook URL with the channel's token);
        returns the subscription's uuid."""
        operation = self._operation(
            self._send("POST", "/v2/webhooks", json={"type": kind, "url": url}), f"refused the {kind} subscription"
        )
        if operation.entity is None:
            raise PartnerRejected(f"cdek accepted the {kind} subscription without naming it")
        return operation.entity.uuid
