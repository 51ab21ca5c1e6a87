"""Reference data every function reads: sales channels and stock locations.

Stored in the config table (kind = "channel" | "location", id). Warm containers keep them for
CONFIG_CACHE_SECONDS so that taking an order costs no config read; a write in this process
forgets the cache at once.
"""

from __future__ import annotations

import functools
import threading
import time
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common import aws
from common.config import settings
from common.dynamo import from_item, to_item

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


class DeliveryMethod(StrEnum):
    courier = "courier"
    pickup_point = "pickup_point"
    post = "post"
    click_collect = "click_collect"
    reserve_in_store = "reserve_in_store"
    ship_from_store = "ship_from_store"
    marketplace = "marketplace"


class LocationKind(StrEnum):
    store = "store"
    warehouse = "warehouse"


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    city: str | None = Field(None, max_length=100)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    timezone: str | None = None
    capabilities: list[DeliveryMethod] = Field(default_factory=list)
    active: bool = True

    @field_validator("lat", "lon")
    @classmethod
    def _coordinate_precision(cls, value: float | None) -> float | None:
        return None if value is None else round(value, 6)  # ~0.1 m; DynamoDB numbers hold 38 digits

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in _timezones():
            raise ValueError("unknown IANA time zone")
        return value

    @field_validator("capabilities")
    @classmethod
    def _unique(cls, value: list[DeliveryMethod]) -> list[DeliveryMethod]:
        return list(dict.fromkeys(value))


class Location(LocationIn):
    location_id: Identifier
    updated_at: str | None = None


class ChannelRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    safety_stock: int = Field(0, ge=0, description="Units kept back at every location.")
    stock_share: float = Field(1.0, ge=0, le=1, description="Share of the rest offered, rounded down.")

    @field_validator("stock_share")
    @classmethod
    def _share_precision(cls, value: float) -> float:
        return round(value, 4)  # 0.01 % steps; DynamoDB numbers hold 38 digits


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
                      description='web, app, callcenter, ozon, wildberries, yandex_market, ...')
    name: str = Field(min_length=1, max_length=200)
    secret: str | None = Field(None, min_length=8, max_length=256, description="Never echoed back.")
    rules: ChannelRules = Field(default_factory=ChannelRules)


class Channel(BaseModel):
    """A channel as the API shows it: the secret is reduced to whether one is set."""

    channel_id: Identifier
    kind: str
    name: str
    rules: ChannelRules
    has_secret: bool
    updated_at: str | None = None


_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}


@functools.cache
def _timezones() -> set[str]:
    return available_timezones()


def _all(kind: str) -> dict[str, dict[str, Any]]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(kind)
        if cached and now - cached[0] < settings().config_cache_seconds:
            return cached[1]
    records: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {"TableName": settings().config_table, "KeyConditionExpression": "kind = :k",
                               "ExpressionAttributeValues": {":k": {"S": kind}}}
    while True:
        page = aws.dynamodb().query(**request)
        for item in page["Items"]:
            record = from_item(item)
            records[record["id"]] = record["data"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    with _lock:
        _cache[kind] = (now, records)
    return records


def _put(kind: str, record_id: str, data: dict[str, Any]) -> None:
    aws.dynamodb().put_item(TableName=settings().config_table,
                            Item=to_item({"kind": kind, "id": record_id, "data": data}))
    forget()


def forget() -> None:
    with _lock:
        _cache.clear()


def locations() -> dict[str, Location]:
    return {lid: Location.model_validate({**data, "location_id": lid}) for lid, data in _all("location").items()}


def put_location(location_id: str, location: LocationIn, now: str) -> Location:
    stored = Location.model_validate({**location.model_dump(), "location_id": location_id, "updated_at": now})
    _put("location", location_id, stored.model_dump(mode="json", exclude={"location_id"}))
    return stored


def channel(channel_id: str) -> Channel | None:
    data = _all("channel").get(channel_id)
    return _channel(channel_id, data) if data is not None else None


def channels() -> list[Channel]:
    return [_channel(cid, data) for cid, data in sorted(_all("channel").items())]


def put_channel(channel_id: str, channel_in: ChannelIn, now: str) -> Channel:
    data = channel_in.model_dump(mode="json")
    data["updated_at"] = now
    _put("channel", channel_id, data)
    return _channel(channel_id, data)


def _channel(channel_id: str, data: dict[str, Any]) -> Channel:
    return Channel(channel_id=channel_id, kind=data["kind"], name=data["name"],
                   rules=ChannelRules.model_validate(data.get("rules") or {}),
                   has_secret=bool(data.get("secret")), updated_at=data.get("updated_at"))
