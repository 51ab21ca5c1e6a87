"""CDEK API v2 (courier): ORDER_STATUS webhooks in, shipment creation out with a cached OAuth token."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Unpack

from pydantic import Field, ValidationError

from partners.clients.base import BadPayload, Canonical, Connector, PartnerModel, Reply, StatusChange
from partners.clients.http import PartnerHttp, PartnerRejected, Tuning
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


class CdekClient:
    """OAuth2 client credentials: the bearer token is cached until shortly before it expires, and fetched
    again when CDEK answers 401 to it (a token revoked or expired early)."""

    MARGIN = 30  # seconds before the stated expiry at which a token is renewed

    def __init__(self, base_url: str, credentials: Mapping[str, str], **options: Unpack[Tuning]) -> None:
        self.credentials = dict(credentials)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self.http = PartnerHttp("cdek", base_url, auth=self._bearer, reauth=self._forget, **options)
        self.tokens_fetched = 0

    def _bearer(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or time.monotonic() >= self._token[1]:
                answer = self.http.client.post(
                    "/v2/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self.credentials["client_id"],
                        "client_secret": self.credentials["client_secret"],
                    },
                )
                if answer.status_code != 200:
                    raise PartnerRejected(f"cdek token: HTTP {answer.status_code}")
                body = answer.json()
                self.tokens_fetched += 1
                self._token = (body["access_token"], time.monotonic() + float(body["expires_in"]) - self.MARGIN)
            return {"Authorization": f"Bearer {self._token[0]}"}

    def _forget(self) -> None:
        with self._lock:
            self._token = None

    def create_order(self, order: Mapping[str, Any]) -> str:
        """Register a shipment (CDEK's `number` = the hub's order id); returns CDEK's entity uuid.
        The call is asynchronous: a request already INVALID is a rejection."""
        answer = self.http.request("POST", "/v2/orders", json=dict(order)).json()
        invalid = [r for r in answer.get("requests", []) if r.get("state") == "INVALID"]
        if invalid:
            errors = [e.get("message", "") for r in invalid for e in r.get("errors", [])]
            raise PartnerRejected("cdek rejected the order: " + "; ".join(errors))
        uuid: str = answer["entity"]["uuid"]
        return uuid

    def subscribe(self, url: str, kind: str = "ORDER_STATUS") -> str:
        """Ask CDEK to post `kind` webhooks to `url` (the hub's webhook URL with the channel's token);
        returns the subscription's uuid."""
        answer = self.http.request("POST", "/v2/webhooks", json={"type": kind, "url": url}).json()
        if any(r.get("state") == "INVALID" for r in answer.get("requests", [])):
            raise PartnerRejected(f"cdek refused the {kind} subscription")
        uuid: str = answer["entity"]["uuid"]
        return uuid
