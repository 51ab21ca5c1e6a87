"""Reference-data models every function shares: sales channels and stock locations. Pure."""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


@functools.cache
def _timezones() -> set[str]:
    return available_timezones()

